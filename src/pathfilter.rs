//! Path filters (CONTRACT.md, "Path filters and dry runs"): a project's `include` and
//! `exclude` patterns, parsed once into a matcher. Gitignore-style: `*` and `?` never match
//! `/`, `**` matches any number of directories, `[abc]`/`[!a]`/`[a-z]` are classes, `\`
//! escapes; a pattern with no `/` (but a trailing one) matches a name at any depth, a
//! leading or inner `/` anchors it at the root, a trailing `/` matches a directory and
//! everything in it. As in git, a pattern that matches a directory matches every path in it.
//!
//! A path is admitted when some include pattern matches it (or there is none) and no
//! exclude pattern does.
//!
//! Matching is linear in pattern × path whatever the pattern: each list is translated once
//! into one regular expression for the `regex` crate, whose automata never backtrack
//! (`*?*?…` or `**/**/…` cost what their length costs), so a path is read once per list.
//! The expressions match bytes (a star is one byte state, where a Unicode one is dozens):
//! `?` and classes still match one character, spelled as its UTF-8 bytes. The parsed
//! segments stay for the walk's questions about directories (`may_hold_under`,
//! `lists_whole`), which match one name per segment, compiled when a walk first asks. `may_hold_under` says whether any path below a directory could be
//! admitted, so a sync never lists a directory that can hold nothing.

use regex::bytes::Regex;
use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input};
use std::fmt;
use std::sync::{Mutex, OnceLock};

pub const MAX_PATTERNS: usize = 100;
pub const MAX_PATTERN_CHARS: usize = 200;

/// One part of a pattern between slashes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// `**`: any number of directories (at the end: at least one name).
    AnyDirs,
    Glob(NameGlob),
}

/// One segment's glob. The expression that matches one name with it is compiled the first
/// time a walk asks (most segments never are: only those the directories above matched).
#[derive(Debug, Clone)]
struct NameGlob {
    tokens: Vec<Token>,
    name: OnceLock<Option<Regex>>,
}

impl PartialEq for NameGlob {
    fn eq(&self, other: &Self) -> bool {
        self.tokens == other.tokens
    }
}
impl Eq for NameGlob {}

impl NameGlob {
    fn new(tokens: Vec<Token>) -> NameGlob {
        NameGlob { tokens, name: OnceLock::new() }
    }

    fn matches(&self, name: &str) -> bool {
        let literal = self.tokens.iter().map(|t| if let Token::Char(c) = t { Some(*c) } else { None });
        if let Some(chars) = literal.collect::<Option<String>>() {
            return chars == name;
        }
        let expression = self.name.get_or_init(|| compile(&format!("^(?:{})$", tokens_regex(&self.tokens))).ok());
        // A part of a list's expression that compiled compiles alone; were it refused, the
        // segment is taken to match, which prunes nothing.
        expression.as_ref().is_none_or(|e| e.is_match(name.as_bytes()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Char(char),
    /// `?`: one character (never `/`).
    One,
    /// `*`: any run of characters (never `/`).
    Star,
    Class {
        negated: bool,
        items: Vec<(char, char)>,
    },
}

#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    segments: Vec<Segment>,
    /// A trailing `/`: matches directories only (and so everything in them).
    dir_only: bool,
}

/// Two patterns are the same when their text is.
impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}
impl Eq for Pattern {}

/// Why a pattern was refused, for a 400 that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    pub pattern: String,
    pub reason: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pattern {:?} {}", self.pattern, self.reason)
    }
}

impl Pattern {
    pub fn parse(source: &str) -> Result<Pattern, PatternError> {
        let refuse = |reason: &str| PatternError { pattern: source.to_string(), reason: reason.to_string() };
        let chars = source.chars().count();
        if chars == 0 || chars > MAX_PATTERN_CHARS {
            return Err(refuse(&format!("must be 1 to {MAX_PATTERN_CHARS} characters")));
        }
        if source.chars().any(char::is_control) {
            return Err(refuse("must not contain control characters"));
        }
        if source.starts_with('!') {
            return Err(refuse(
                "starts with `!`: negation is not supported (put the pattern in the other list, or write `\\!` for a literal `!`)",
            ));
        }
        let dir_only = source.ends_with('/') && !source.ends_with("\\/");
        let body = source.strip_suffix('/').filter(|_| dir_only).unwrap_or(source);
        let anchored = body.contains('/');
        let body = body.strip_prefix('/').unwrap_or(body);
        if body.is_empty() {
            return Err(refuse("matches nothing"));
        }
        let mut segments = Vec::new();
        if !anchored {
            segments.push(Segment::AnyDirs);
        }
        for part in body.split('/') {
            // `**/**` means what `**` does: runs are kept as one, so no run costs its length.
            if part == "**" && segments.last() == Some(&Segment::AnyDirs) {
                continue;
            }
            segments.push(match part {
                "" => return Err(refuse("has an empty path segment (`//`)")),
                "." | ".." => return Err(refuse("has a `.` or `..` segment, which no path in git has")),
                "**" => Segment::AnyDirs,
                glob => Segment::Glob(NameGlob::new(tokens(glob).map_err(|why| refuse(&why))?)),
            });
        }
        Ok(Pattern { source: source.to_string(), segments, dir_only })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern matches the file `path` or one of its directories. This compiles
    /// the pattern for one question; a filter compiles its lists once (`PathFilter::admits`).
    pub fn matches(&self, path: &str) -> bool {
        PatternList::new(vec![self.clone()]).is_ok_and(|list| list.matches_file(path))
    }

    /// The expression of the segments, and of what may follow them: for a file, the path
    /// may go on below a matched directory (only below one, for a directory-only pattern);
    /// for a directory, it or one of its ancestors matches.
    fn expression(&self, of_file: bool) -> String {
        let below = if of_file && self.dir_only { "/.+" } else { "(?:/.+)?" };
        format!("{}{below}", segments_regex(&self.segments))
    }

    /// Whether some path strictly below the directory `dir` ('' is the root) could match.
    pub fn may_match_under(&self, dir: &str) -> bool {
        matches_partly(&self.segments, &names_of(dir))
    }

    /// Whether every directory below `dir` could still hold a match: nothing below it is
    /// pruned for want of this (include) pattern.
    fn open_below(&self, dir: &str) -> bool {
        open_below(&self.segments, &names_of(dir))
    }

    /// Whether this (exclude) pattern could match a directory below `dir` at a place its
    /// literal segments fix, so a walk one level at a time can skip that directory.
    fn locates_below(&self, dir: &str) -> bool {
        let names = names_of(dir);
        locates_below(&self.segments, &names, names.is_empty())
    }

}

/// The tokens of one segment. `**` inside a segment (`a**b`) is two stars, as in git.
fn tokens(glob: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(match c {
            '\\' => Token::Char(chars.next().ok_or("ends with a lone `\\`")?),
            '?' => Token::One,
            '*' => Token::Star,
            '[' => class(&mut chars)?,
            other => Token::Char(other),
        });
    }
    Ok(out)
}

fn class(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<Token, String> {
    let negated = matches!(chars.peek(), Some('!' | '^'));
    if negated {
        chars.next();
    }
    let mut items = Vec::new();
    let mut first = true;
    loop {
        let c = chars.next().ok_or("has a `[` class that is never closed")?;
        let c = match c {
            ']' if !first => return Ok(Token::Class { negated, items }),
            '\\' => chars.next().ok_or("ends with a lone `\\`")?,
            c => c,
        };
        first = false;
        if chars.peek() == Some(&'-') {
            let mut ahead = chars.clone();
            ahead.next();
            if let Some(&end) = ahead.peek().filter(|e| **e != ']') {
                chars.next();
                chars.next();
                let end = if end == '\\' { chars.next().ok_or("ends with a lone `\\`")? } else { end };
                if end < c {
                    return Err(format!("has the reversed range `{c}-{end}`"));
                }
                items.push((c, end));
                continue;
            }
        }
        items.push((c, c));
    }
}

/// One character other than `/`, as UTF-8 bytes: an ASCII byte, or a lead byte and its
/// continuation bytes. (On valid UTF-8 a lead byte taken with only part of its continuation
/// bytes leaves a continuation byte that no literal, `?`, class, `/` or the end can take,
/// so only whole characters match.)
const ONE_CHAR: &str = r"(?:[\x00-\x2E\x30-\x7F]|[\xC0-\xFF][\x80-\xBF]*)";
/// Any run of characters other than `/` (a UTF-8 continuation byte is never `/`).
const ANY_CHARS: &str = r"[^/]*";

/// The expression for one name: `?`, `*` and classes never match `/` (git's `WM_PATHNAME`).
/// It is written for byte matching (`(?-u)`), the flag every expression here starts with.
/// A run of `*` and `?` is written as what it means, so the automaton never tracks the
/// run's stars apart: `*?*?*?` is "three characters or more" (`(?:…){3}[^/]*`).
fn tokens_regex(tokens: &[Token]) -> String {
    let mut out = String::new();
    let (mut ones, mut star) = (0usize, false);
    for token in tokens {
        match token {
            Token::One => ones += 1,
            Token::Star => star = true,
            Token::Char(_) | Token::Class { .. } => {
                flush_wildcards(&mut out, &mut ones, &mut star);
                match token {
                    Token::Char(c) => out.push_str(&literal(*c)),
                    Token::Class { negated, items } => out.push_str(&class_regex(*negated, items)),
                    Token::One | Token::Star => {}
                }
            }
        }
    }
    flush_wildcards(&mut out, &mut ones, &mut star);
    out
}

fn flush_wildcards(out: &mut String, ones: &mut usize, star: &mut bool) {
    match *ones {
        0 => {}
        1 => out.push_str(ONE_CHAR),
        n => out.push_str(&format!("{ONE_CHAR}{{{n}}}")),
    }
    if *star {
        out.push_str(ANY_CHARS);
    }
    (*ones, *star) = (0, false);
}

/// A character as the bytes that spell it.
fn literal(c: char) -> String {
    c.encode_utf8(&mut [0; 4]).bytes().map(|b| format!(r"\x{b:02X}")).collect()
}

/// One character in (or, negated, not in) the ranges, never `/`. ASCII ranges are one byte
/// class; ranges past ASCII are a Unicode class (`(?u:…)`), which spells their UTF-8 forms.
fn class_regex(negated: bool, items: &[(char, char)]) -> String {
    let code = |c: char| format!(r"\x{{{:X}}}", c as u32);
    let (mut ascii, mut wide) = (String::new(), String::new());
    for &(lo, hi) in items {
        if lo <= '\x7f' {
            ascii.push_str(&format!("{}-{}", code(lo), code(hi.min('\x7f'))));
        }
        if hi > '\x7f' {
            wide.push_str(&format!("{}-{}", code(lo.max('\u{80}')), code(hi)));
        }
    }
    match (negated, wide.is_empty()) {
        // Not in ASCII ranges: another ASCII byte, or any character past ASCII.
        (true, true) => format!(r"(?:[^/{ascii}\x80-\xFF]|[\xC0-\xFF][\x80-\xBF]*)"),
        (true, false) => format!("(?u:[^/{ascii}{wide}])"),
        (false, true) => format!("[[{ascii}]&&[^/]]"),
        (false, false) if ascii.is_empty() => format!("(?u:[{wide}])"),
        (false, false) => format!("(?:[[{ascii}]&&[^/]]|(?u:[{wide}]))"),
    }
}

/// The expression for the names the segments match, joined by `/`: `**` before a segment
/// is any run of whole names each followed by `/`; at the end, one name or more.
fn segments_regex(segments: &[Segment]) -> String {
    let mut out = String::new();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match (segment, last) {
            (Segment::AnyDirs, false) => out.push_str("(?:[^/]+/)*"),
            (Segment::AnyDirs, true) => out.push_str("[^/]+(?:/[^/]+)*"),
            (Segment::Glob(glob), _) => {
                out.push_str(&tokens_regex(&glob.tokens));
                if !last {
                    out.push('/');
                }
            }
        }
    }
    out
}

/// Compiles an expression over bytes (`.` matches any byte, newlines included). No pattern
/// list within the limits reaches the `regex` crate's size limit; a refusal would still be
/// a clear one.
fn compile(expression: &str) -> Result<Regex, String> {
    Regex::new(&format!("(?s-u){expression}")).map_err(|e| format!("cannot be compiled ({e})"))
}

/// The same expression as a lazy DFA that never gives up (its cache is cleared and built
/// again as often as it fills: each byte still costs at most the automaton's size).
fn compile_dfa(expression: &str) -> Result<LazyDfa, String> {
    let dfa = DFA::builder()
        .syntax(syntax::Config::new().utf8(false))
        .configure(DFA::config().minimum_cache_clear_count(None))
        .build(&format!("(?s-u){expression}"))
        .map_err(|e| format!("cannot be compiled ({e})"))?;
    Ok(LazyDfa { cache: Mutex::new(dfa.create_cache()), dfa })
}

/// Whether `names` (a directory) can be continued into a path the segments match, or a
/// prefix of it is matched already (then everything below is).
fn matches_partly(segments: &[Segment], names: &[&str]) -> bool {
    match (segments.split_first(), names.split_first()) {
        (None, _) => true,
        (Some(_), None) => true,
        (Some((Segment::AnyDirs, _)), Some(_)) => true,
        (Some((Segment::Glob(glob), rest)), Some((name, more))) => glob.matches(name) && matches_partly(rest, more),
    }
}

fn names_of(dir: &str) -> Vec<&str> {
    if dir.is_empty() {
        Vec::new()
    } else {
        dir.split('/').collect()
    }
}

fn open_below(segments: &[Segment], names: &[&str]) -> bool {
    match (segments.split_first(), names.split_first()) {
        (None, _) | (Some((Segment::AnyDirs, _)), _) => true,
        (Some(_), None) => false,
        (Some((Segment::Glob(glob), rest)), Some((name, more))) => glob.matches(name) && open_below(rest, more),
    }
}

/// `at_root`: an unanchored pattern can name a top-level directory, found by listing the
/// root one level; deeper, `**` could put it anywhere, and finding it would cost one
/// request per directory, so the recursive listing it comes in drops it instead.
fn locates_below(segments: &[Segment], names: &[&str], at_root: bool) -> bool {
    match (segments.split_first(), names.split_first()) {
        (None, _) => false,
        (Some((Segment::AnyDirs, rest)), _) => at_root && !rest.is_empty(),
        (Some(_), None) => true,
        (Some((Segment::Glob(glob), rest)), Some((name, more))) => glob.matches(name) && locates_below(rest, more, false),
    }
}

/// A project's filter: which paths a sync holds. Stored and sent as its two pattern lists.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "FilterLists", into = "FilterLists")]
pub struct PathFilter {
    include: PatternList,
    exclude: PatternList,
}

/// A list's patterns, and the expressions that match when any of them does, so a path is
/// read once per list whatever the number of patterns: one for files (`admits`), one for
/// directories (whether the list matches a directory itself, and so all inside it).
#[derive(Debug, Clone, Default)]
struct PatternList {
    patterns: Vec<Pattern>,
    compiled: Option<Compiled>,
}

#[derive(Debug, Clone)]
struct Compiled {
    files: Regex,
    dirs: Regex,
    /// The files expression as a lazy DFA, walked over a directory's bytes to see whether
    /// any path below it can still match (`may_match_below`).
    below: LazyDfa,
}

/// A lazy DFA and the states it has built so far, kept across questions (a walk asks about
/// directories that share their first names). A copy starts with no states.
#[derive(Debug)]
struct LazyDfa {
    dfa: DFA,
    cache: Mutex<Cache>,
}

impl Clone for LazyDfa {
    fn clone(&self) -> Self {
        LazyDfa { dfa: self.dfa.clone(), cache: Mutex::new(self.dfa.create_cache()) }
    }
}

impl PartialEq for PatternList {
    fn eq(&self, other: &Self) -> bool {
        self.patterns == other.patterns
    }
}
impl Eq for PatternList {}

impl PatternList {
    fn new(patterns: Vec<Pattern>) -> Result<PatternList, String> {
        if patterns.is_empty() {
            return Ok(PatternList::default());
        }
        let any = |of_file: bool| {
            let alternatives: Vec<String> = patterns.iter().map(|p| p.expression(of_file)).collect();
            format!("^(?:{})$", alternatives.join("|"))
        };
        let files = any(true);
        let compiled = Compiled { files: compile(&files)?, dirs: compile(&any(false))?, below: compile_dfa(&files)? };
        Ok(PatternList { patterns, compiled: Some(compiled) })
    }

    /// Whether some pattern could match a path strictly below `dir` ('' is the root): the
    /// files expression read over `dir/` has not died. (It may still be alive on a string no
    /// path has, `dir//`, say: that only keeps a directory, never prunes one.)
    fn may_match_below(&self, dir: &str) -> bool {
        let Some(LazyDfa { dfa, cache }) = self.compiled.as_ref().map(|c| &c.below) else { return false };
        let Ok(mut cache) = cache.lock() else { return true };
        let cache = &mut *cache;
        let input = Input::new(dir.as_bytes()).anchored(Anchored::Yes);
        let Ok(mut state) = dfa.start_state_forward(cache, &input) else { return true };
        let slash: &[u8] = if dir.is_empty() { b"" } else { b"/" };
        for &byte in dir.as_bytes().iter().chain(slash) {
            match dfa.next_state(cache, state, byte) {
                Ok(next) if next.is_dead() => return false,
                Ok(next) => state = next,
                Err(_) => return true,
            }
        }
        true
    }

    fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    fn iter(&self) -> std::slice::Iter<'_, Pattern> {
        self.patterns.iter()
    }

    /// Whether some pattern matches the file `path` or one of its directories.
    fn matches_file(&self, path: &str) -> bool {
        self.compiled.as_ref().is_some_and(|c| c.files.is_match(path.as_bytes()))
    }

    /// Whether some pattern matches the directory `dir` (not the root) or one above it.
    fn matches_dir(&self, dir: &str) -> bool {
        !dir.is_empty() && self.compiled.as_ref().is_some_and(|c| c.dirs.is_match(dir.as_bytes()))
    }
}

/// Which list a refused pattern is in (`include` or `exclude`), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub field: &'static str,
    pub reason: String,
}

impl PathFilter {
    pub fn parse<S: AsRef<str>>(include: &[S], exclude: &[S]) -> Result<PathFilter, FilterError> {
        Ok(PathFilter { include: list("include", include)?, exclude: list("exclude", exclude)? })
    }

    /// No patterns: every path is held.
    pub fn is_everything(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    pub fn include(&self) -> impl Iterator<Item = &str> {
        self.include.iter().map(Pattern::as_str)
    }

    pub fn exclude(&self) -> impl Iterator<Item = &str> {
        self.exclude.iter().map(Pattern::as_str)
    }

    pub fn admits(&self, path: &str) -> bool {
        (self.include.is_empty() || self.include.matches_file(path)) && !self.exclude.matches_file(path)
    }

    /// Whether some path below `dir` ('' is the root) could be admitted; `false` means the
    /// directory need not be listed at all.
    pub fn may_hold_under(&self, dir: &str) -> bool {
        if self.exclude.matches_dir(dir) {
            return false;
        }
        self.include.is_empty() || self.include.may_match_below(dir)
    }

    /// Whether `dir` (which may hold admitted paths) is best listed recursively, in one
    /// request: no directory below it can be pruned at a place known before listing it.
    /// Otherwise it is listed one level, and its subdirectories decided one by one.
    pub fn lists_whole(&self, dir: &str) -> bool {
        let includes_open = self.include.is_empty() || self.include.iter().any(|p| p.open_below(dir));
        includes_open && !self.exclude.iter().any(|p| p.locates_below(dir))
    }
}

/// The wire and storage form of a filter: `{"include": [...], "exclude": [...]}`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct FilterLists {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

impl TryFrom<FilterLists> for PathFilter {
    type Error = String;
    fn try_from(l: FilterLists) -> Result<Self, String> {
        PathFilter::parse(&l.include, &l.exclude).map_err(|e| format!("{} {}", e.field, e.reason))
    }
}

impl From<PathFilter> for FilterLists {
    fn from(f: PathFilter) -> Self {
        FilterLists { include: f.include().map(String::from).collect(), exclude: f.exclude().map(String::from).collect() }
    }
}

/// Why a change happened, when it is the filter's doing (`/changes` says `"filtered"`): a
/// path added that the filter before did not admit, or removed that the filter now does not.
pub fn change_reason(change: &str, path: &str, before: Option<&PathFilter>, now: &PathFilter) -> Option<&'static str> {
    let before = before.filter(|b| *b != now)?;
    let filtered = match change {
        "added" => !before.admits(path),
        "removed" => !now.admits(path),
        _ => false,
    };
    filtered.then_some("filtered")
}

fn list<S: AsRef<str>>(field: &'static str, raw: &[S]) -> Result<PatternList, FilterError> {
    if raw.len() > MAX_PATTERNS {
        return Err(FilterError { field, reason: format!("has {} patterns; at most {MAX_PATTERNS}", raw.len()) });
    }
    let patterns =
        raw.iter().map(|p| Pattern::parse(p.as_ref()).map_err(|e| FilterError { field, reason: e.to_string() })).collect::<Result<_, _>>()?;
    PatternList::new(patterns).map_err(|reason| FilterError { field, reason: format!("together {reason}") })
}

#[cfg(test)]
mod tests;
