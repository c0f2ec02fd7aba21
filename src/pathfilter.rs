//! Path filters (CONTRACT.md, "Path filters and dry runs"): a project's `include` and
//! `exclude` patterns, parsed once into a matcher. Gitignore-style: `*` and `?` never match
//! `/`, `**` matches any number of directories, `[abc]`/`[!a]`/`[a-z]` are classes, `\`
//! escapes; a pattern with no `/` (but a trailing one) matches a name at any depth, a
//! leading or inner `/` anchors it at the root, a trailing `/` matches a directory and
//! everything in it. As in git, a pattern that matches a directory matches every path in it.
//!
//! A path is admitted when some include pattern matches it (or there is none) and no
//! exclude pattern does. `may_hold_under` says whether any path below a directory could be
//! admitted, so a sync never lists a directory that can hold nothing.

use std::fmt;

pub const MAX_PATTERNS: usize = 100;
pub const MAX_PATTERN_CHARS: usize = 200;

/// One part of a pattern between slashes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// `**`: any number of directories (at the end: at least one name).
    AnyDirs,
    Glob(Vec<Token>),
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    source: String,
    segments: Vec<Segment>,
    /// A trailing `/`: matches directories only (and so everything in them).
    dir_only: bool,
}

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
            segments.push(match part {
                "" => return Err(refuse("has an empty path segment (`//`)")),
                "." | ".." => return Err(refuse("has a `.` or `..` segment, which no path in git has")),
                "**" => Segment::AnyDirs,
                glob => Segment::Glob(tokens(glob).map_err(|why| refuse(&why))?),
            });
        }
        Ok(Pattern { source: source.to_string(), segments, dir_only })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern matches the file `path` or one of its directories.
    pub fn matches(&self, path: &str) -> bool {
        let names: Vec<&str> = path.split('/').collect();
        // A directory-only pattern matches ancestors only (the path itself is a file).
        let longest = if self.dir_only { names.len() - 1 } else { names.len() };
        (1..=longest).any(|k| matches_whole(&self.segments, &names[..k]))
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

    /// Whether it matches the directory `dir` itself (and so every path in it).
    fn matches_dir(&self, dir: &str) -> bool {
        !dir.is_empty() && {
            let names: Vec<&str> = dir.split('/').collect();
            (1..=names.len()).any(|k| matches_whole(&self.segments, &names[..k]))
        }
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

fn matches_name(tokens: &[Token], name: &[char]) -> bool {
    match tokens.split_first() {
        None => name.is_empty(),
        Some((Token::Star, rest)) => (0..=name.len()).any(|skip| matches_name(rest, &name[skip..])),
        Some((token, rest)) => match name.split_first() {
            None => false,
            Some((&c, more)) => {
                let ok = match token {
                    Token::Char(want) => c == *want,
                    Token::One => true,
                    Token::Class { negated, items } => items.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated,
                    Token::Star => unreachable!("handled above"),
                };
                ok && matches_name(rest, more)
            }
        },
    }
}

fn segment_matches(tokens: &[Token], name: &str) -> bool {
    let chars: Vec<char> = name.chars().collect();
    matches_name(tokens, &chars)
}

/// All of `segments` against exactly `names`.
fn matches_whole(segments: &[Segment], names: &[&str]) -> bool {
    match segments.split_first() {
        None => names.is_empty(),
        // At the end, `**` is "everything inside": one name or more.
        Some((Segment::AnyDirs, [])) => !names.is_empty(),
        Some((Segment::AnyDirs, rest)) => (0..=names.len()).any(|skip| matches_whole(rest, &names[skip..])),
        Some((Segment::Glob(tokens), rest)) => match names.split_first() {
            Some((name, more)) => segment_matches(tokens, name) && matches_whole(rest, more),
            None => false,
        },
    }
}

/// Whether `names` (a directory) can be continued into a path the segments match, or a
/// prefix of it is matched already (then everything below is).
fn matches_partly(segments: &[Segment], names: &[&str]) -> bool {
    match (segments.split_first(), names.split_first()) {
        (None, _) => true,
        (Some(_), None) => true,
        (Some((Segment::AnyDirs, _)), Some(_)) => true,
        (Some((Segment::Glob(tokens), rest)), Some((name, more))) => segment_matches(tokens, name) && matches_partly(rest, more),
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
        (Some((Segment::Glob(tokens), rest)), Some((name, more))) => segment_matches(tokens, name) && open_below(rest, more),
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
        (Some((Segment::Glob(tokens), rest)), Some((name, more))) => segment_matches(tokens, name) && locates_below(rest, more, false),
    }
}

/// A project's filter: which paths a sync holds. Stored and sent as its two pattern lists.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "FilterLists", into = "FilterLists")]
pub struct PathFilter {
    include: Vec<Pattern>,
    exclude: Vec<Pattern>,
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
        (self.include.is_empty() || self.include.iter().any(|p| p.matches(path))) && !self.exclude.iter().any(|p| p.matches(path))
    }

    /// Whether some path below `dir` ('' is the root) could be admitted; `false` means the
    /// directory need not be listed at all.
    pub fn may_hold_under(&self, dir: &str) -> bool {
        if self.exclude.iter().any(|p| p.matches_dir(dir)) {
            return false;
        }
        self.include.is_empty() || self.include.iter().any(|p| p.may_match_under(dir))
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

fn list<S: AsRef<str>>(field: &'static str, raw: &[S]) -> Result<Vec<Pattern>, FilterError> {
    if raw.len() > MAX_PATTERNS {
        return Err(FilterError { field, reason: format!("has {} patterns; at most {MAX_PATTERNS}", raw.len()) });
    }
    raw.iter().map(|p| Pattern::parse(p.as_ref()).map_err(|e| FilterError { field, reason: e.to_string() })).collect()
}

#[cfg(test)]
mod tests;
