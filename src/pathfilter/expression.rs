//! Patterns as regular expressions over bytes: each list becomes one expression for the
//! `regex` crate (`PathFilter::admits`), and the same as `regex-automata`'s lazy DFA, walked
//! over a directory's bytes to ask whether any path below it can still match.

use super::{Segment, Token};
use regex::bytes::Regex;
use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input};
use std::sync::Mutex;

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
pub(super) fn tokens_regex(tokens: &[Token]) -> String {
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
pub(super) fn segments_regex(segments: &[Segment]) -> String {
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
pub(super) fn compile(expression: &str) -> Result<Regex, String> {
    Regex::new(&format!("(?s-u){expression}")).map_err(|e| format!("cannot be compiled ({e})"))
}

/// The same expression as a lazy DFA that never gives up (its cache is cleared and built
/// again as often as it fills: each byte still costs at most the automaton's size).
pub(super) fn compile_dfa(expression: &str) -> Result<LazyDfa, String> {
    let dfa = DFA::builder()
        .syntax(syntax::Config::new().utf8(false))
        .configure(DFA::config().minimum_cache_clear_count(None))
        .build(&format!("(?s-u){expression}"))
        .map_err(|e| format!("cannot be compiled ({e})"))?;
    Ok(LazyDfa { cache: Mutex::new(dfa.create_cache()), dfa })
}

/// A lazy DFA and the states it has built so far, kept across questions (a walk asks about
/// directories that share their first names). A copy starts with no states.
#[derive(Debug)]
pub(super) struct LazyDfa {
    dfa: DFA,
    cache: Mutex<Cache>,
}

impl Clone for LazyDfa {
    fn clone(&self) -> Self {
        LazyDfa { dfa: self.dfa.clone(), cache: Mutex::new(self.dfa.create_cache()) }
    }
}

impl LazyDfa {
    /// Whether the expression read over `dir/` ('' is the root) has not died: some string
    /// below the directory could still match. (It may be alive on a string no path has,
    /// `dir//`, say: that only keeps a directory, never prunes one.)
    pub(super) fn may_continue_after(&self, dir: &str) -> bool {
        let LazyDfa { dfa, cache } = self;
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
}
