//! Text as an agent reads it: lines of a file, cut to a bound with the range to ask for next,
//! and a search hit placed on its lines with a short excerpt.

use super::calls::LineRange;

/// The most text one `read_file` answer carries. A model's context is the scarce thing; the
/// rest is a call away.
pub const MAX_READ_BYTES: usize = 256 * 1024;

/// The longest excerpt of a search hit, in characters.
pub const EXCERPT_CHARS: usize = 240;

/// A range of a file's lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    pub text: String,
    /// 1-based, inclusive; `end_line` is `start_line - 1` for an empty slice.
    pub start_line: u32,
    pub end_line: u32,
    pub total_lines: u32,
    /// Where to continue when the bound cut the range short.
    pub next_start_line: Option<u32>,
}

/// Lines the way editors count them: a final line without a newline is a line; a text that
/// ends with a newline has no empty line after it.
pub fn count_lines(text: &str) -> u32 {
    let breaks = text.bytes().filter(|&b| b == b'\n').count();
    let last_open = !text.is_empty() && !text.ends_with('\n');
    u32::try_from(breaks + usize::from(last_open)).unwrap_or(u32::MAX)
}

/// The lines `range` asks for, whole lines only, at most `max_bytes` of them (at least one
/// line, cut at a character boundary if that one line is longer).
pub fn slice(text: &str, range: LineRange, max_bytes: usize) -> Slice {
    let total = count_lines(text);
    let start = range.start.unwrap_or(1).max(1);
    let last = range.end.unwrap_or(total).min(total);
    let mut out = String::new();
    let mut end = start.saturating_sub(1);
    for (number, line) in (1u32..).zip(text.split_inclusive('\n')).skip(start as usize - 1) {
        if number > last {
            break;
        }
        if !out.is_empty() && out.len() + line.len() > max_bytes {
            break;
        }
        if line.len() > max_bytes {
            out.push_str(cut_at_char(line, max_bytes));
        } else {
            out.push_str(line);
        }
        end = number;
        if out.len() >= max_bytes {
            break;
        }
    }
    let next_start_line = (end < last).then_some(end + 1);
    Slice { text: out, start_line: start, end_line: end, total_lines: total, next_start_line }
}

impl Slice {
    /// Asked to start after the last line (an empty file's line 1 is not past its end).
    pub fn starts_past_end(&self) -> bool {
        self.start_line > self.total_lines.max(1)
    }
}

fn cut_at_char(text: &str, max_bytes: usize) -> &str {
    let mut cut = max_bytes.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    &text[..cut]
}

/// A search hit on its lines: the first line of the chunk holding one of the query's words
/// (any case), and that line as an excerpt. `before` is the file's text before the chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub start_line: u32,
    pub end_line: u32,
    pub excerpt: String,
}

pub fn place_hit(before: &str, chunk: &str, query: &str) -> Hit {
    let first_line = before.bytes().filter(|&b| b == b'\n').count() as u32 + 1;
    let words: Vec<String> = query.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
    let lines: Vec<&str> = chunk.lines().collect();
    let found = lines.iter().position(|line| {
        let line = line.to_lowercase();
        words.iter().any(|w| line.contains(w.as_str()))
    });
    match found {
        Some(i) => {
            let line = first_line + i as u32;
            Hit { start_line: line, end_line: line, excerpt: excerpt(lines[i], &words) }
        }
        // The index matched a form of a word (a prefix, another case folding) that no plain
        // search finds: the whole chunk is the hit.
        None => Hit {
            start_line: first_line,
            end_line: first_line + count_lines(chunk).saturating_sub(1),
            excerpt: excerpt(lines.first().copied().unwrap_or(""), &[]),
        },
    }
}

/// The line, or a window of it around the first word found, marked `…` where cut.
fn excerpt(line: &str, words: &[String]) -> String {
    let chars: Vec<char> = line.trim().chars().collect();
    if chars.len() <= EXCERPT_CHARS {
        return chars.into_iter().collect();
    }
    let at = first_match(&chars, words).unwrap_or(0);
    let start = at.saturating_sub(EXCERPT_CHARS / 3).min(chars.len() - EXCERPT_CHARS);
    let mut window = chars[start..start + EXCERPT_CHARS].to_vec();
    if start > 0 {
        window[0] = '…';
    }
    if start + EXCERPT_CHARS < chars.len() {
        window[EXCERPT_CHARS - 1] = '…';
    }
    window.into_iter().collect()
}

/// The char index where one of `words` (lowercase) starts in `chars`, comparing per char.
fn first_match(chars: &[char], words: &[String]) -> Option<usize> {
    let lower: Vec<char> = chars.iter().map(|c| c.to_lowercase().next().unwrap_or(*c)).collect();
    words
        .iter()
        .filter_map(|w| {
            let w: Vec<char> = w.chars().collect();
            lower.windows(w.len().max(1)).position(|window| window == w.as_slice())
        })
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(start: Option<u32>, end: Option<u32>) -> LineRange {
        LineRange { start, end }
    }

    #[test]
    fn lines_are_counted_as_editors_count_them() {
        for (text, lines) in [("", 0), ("a", 1), ("a\n", 1), ("a\nb", 2), ("a\nb\n", 2), ("\n", 1), ("\n\n", 2)] {
            assert_eq!(count_lines(text), lines, "{text:?}");
        }
    }

    #[test]
    fn a_slice_is_the_lines_asked_for() {
        let text = "one\ntwo\nthree\nfour";
        let table = [
            (range(None, None), "one\ntwo\nthree\nfour", 1, 4, None),
            (range(Some(2), Some(3)), "two\nthree\n", 2, 3, None),
            (range(Some(4), None), "four", 4, 4, None),
            (range(Some(3), Some(99)), "three\nfour", 3, 4, None),
            (range(Some(9), None), "", 9, 8, None),
        ];
        for (asked, expected, start, end, next) in table {
            let s = slice(text, asked, MAX_READ_BYTES);
            assert_eq!(
                (s.text.as_str(), s.start_line, s.end_line, s.total_lines, s.next_start_line),
                (expected, start, end, 4, next),
                "{asked:?}"
            );
        }
    }

    #[test]
    fn a_start_after_the_last_line_is_past_the_end() {
        let past = |text: &str, start: u32| slice(text, range(Some(start), None), MAX_READ_BYTES).starts_past_end();
        assert!(!past("a\nb\n", 2));
        assert!(past("a\nb\n", 3));
        assert!(!past("", 1));
        assert!(past("", 2));
    }

    #[test]
    fn a_long_text_is_cut_at_a_line_with_the_next_line_named() {
        let text = "aaaa\nbbbb\ncccc\n";
        let s = slice(text, range(None, None), 10);
        assert_eq!((s.text.as_str(), s.end_line, s.next_start_line), ("aaaa\nbbbb\n", 2, Some(3)));
        let s = slice(text, range(Some(3), None), 10);
        assert_eq!((s.text.as_str(), s.next_start_line), ("cccc\n", None));
        // One line longer than the bound: cut inside it, at a character, and go on after it.
        let s = slice("ééééé\nx\n", range(None, None), 5);
        assert_eq!((s.text.as_str(), s.end_line, s.next_start_line), ("éé", 1, Some(2)));
        let big = "line\n".repeat(100_000);
        let s = slice(&big, range(None, None), MAX_READ_BYTES);
        assert!(s.text.len() <= MAX_READ_BYTES && s.text.ends_with('\n'));
        assert_eq!(s.next_start_line, Some(s.end_line + 1));
    }

    #[test]
    fn a_hit_is_placed_on_the_line_holding_a_word_of_the_query() {
        let before = "l1\nl2\n";
        let chunk = "nothing here\n  fn Sync_Files() {}\nmore\n";
        assert_eq!(place_hit(before, chunk, "sync files"), Hit { start_line: 4, end_line: 4, excerpt: "fn Sync_Files() {}".into() });
        let hit = place_hit("", "alpha\nbeta\n", "gamma*");
        assert_eq!((hit.start_line, hit.end_line, hit.excerpt.as_str()), (1, 2, "alpha"));
        let long = format!("{}needle{}", "x".repeat(300), "y".repeat(300));
        let hit = place_hit("", &long, "NEEDLE");
        assert_eq!(hit.excerpt.chars().count(), EXCERPT_CHARS);
        assert!(hit.excerpt.starts_with('…') && hit.excerpt.ends_with('…') && hit.excerpt.contains("needle"), "{}", hit.excerpt);
        let head = format!("needle{}", "z".repeat(400));
        let hit = place_hit("", &head, "needle");
        assert!(hit.excerpt.starts_with("needle") && hit.excerpt.ends_with('…') && hit.excerpt.chars().count() == EXCERPT_CHARS);
        let tail = format!("{}needle", "z".repeat(400));
        let hit = place_hit("", &tail, "needle");
        assert!(
            hit.excerpt.starts_with('…') && hit.excerpt.ends_with("needle") && hit.excerpt.chars().count() == EXCERPT_CHARS,
            "{}",
            hit.excerpt
        );
    }
}
