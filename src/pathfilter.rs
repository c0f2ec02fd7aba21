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

use expression::{compile, compile_dfa, segments_regex, tokens_regex, LazyDfa};
use regex::bytes::Regex;
use std::fmt;
use std::sync::OnceLock;

mod expression;

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
        self.compiled.as_ref().is_some_and(|c| c.below.may_continue_after(dir))
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
    let patterns = raw
        .iter()
        .map(|p| Pattern::parse(p.as_ref()).map_err(|e| FilterError { field, reason: e.to_string() }))
        .collect::<Result<_, _>>()?;
    PatternList::new(patterns).map_err(|reason| FilterError { field, reason: format!("together {reason}") })
}

#[cfg(test)]
mod tests;
