//! The streaming diff's core, without I/O: one page of the held listing merged against one
//! page of the wanted listing, both sorted by path (byte order, as D1 and the object's
//! SQLite sort them). Memory is bounded by the pages, never by the repository.
//!
//! A page pair is merged up to a bound that both streams have reached (or to the end), so
//! the next pages start right after it and no path is seen twice or missed. Directories
//! whose tree sha did not change are ranges of paths the wanted listing does not hold
//! (they were never listed): the engine skips them in both streams and counts the held
//! files inside as unchanged.

/// Anything listed by path.
pub trait Keyed {
    fn key(&self) -> &str;
}

impl Keyed for crate::diff::FileEntry {
    fn key(&self) -> &str {
        &self.path
    }
}

impl Keyed for (String, String) {
    fn key(&self) -> &str {
        &self.0
    }
}

/// One path as the two listings have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pair<T> {
    Both { held: T, wanted: T },
    HeldOnly(T),
    WantedOnly(T),
}

/// The result of merging one page of each listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged<T> {
    pub pairs: Vec<Pair<T>>,
    /// The last key both streams were consumed through; `None` when both are exhausted
    /// (everything given was consumed and nothing follows).
    pub through: Option<String>,
}

/// A range of paths: from `from` (inclusive) to `until` (exclusive; `None`: to the end).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Span {
    pub from: String,
    pub until: Option<String>,
}

impl Span {
    pub fn all() -> Span {
        Span { from: String::new(), until: None }
    }

    /// The paths inside directory `dir`: `[dir/, dir0)` ('0' follows '/'); `""` is everything.
    pub fn inside(dir: &str) -> Span {
        if dir.is_empty() {
            Span::all()
        } else {
            Span { from: format!("{dir}/"), until: Some(format!("{dir}0")) }
        }
    }

    pub fn contains(&self, key: &str) -> bool {
        key >= self.from.as_str() && self.until.as_deref().is_none_or(|u| key < u)
    }

    /// This span as an SQL condition on `column`, its bounds taking parameters `?first` (and
    /// `?first + 1`), with the values to bind. Each bound is a plain comparison, so an index
    /// on the column serves both ends: an `(? IS NULL OR column < ?)` upper bound cannot, and
    /// made every span's query scan on to the end of the project's files.
    pub fn condition(&self, column: &str, first: u8) -> (String, Vec<&str>) {
        match &self.until {
            Some(until) => (format!("{column} >= ?{first} AND {column} < ?{}", first + 1), vec![self.from.as_str(), until.as_str()]),
            None => (format!("{column} >= ?{first}"), vec![self.from.as_str()]),
        }
    }
}

/// The smallest string after `key` in byte order (paths never hold a NUL).
pub fn successor(key: &str) -> String {
    format!("{key}\0")
}

/// Merges `held` and `wanted` (each sorted by key, each the next page of its stream;
/// `*_done` says the stream has nothing after its page) up to the bound both reached.
pub fn merge_page<T: Keyed + Clone>(held: &[T], held_done: bool, wanted: &[T], wanted_done: bool) -> Merged<T> {
    let last = |page: &[T], done: bool| if done { None } else { page.last().map(|t| t.key().to_string()) };
    let bound = match (last(held, held_done), last(wanted, wanted_done)) {
        (Some(h), Some(w)) => Some(h.min(w)),
        (Some(b), None) | (None, Some(b)) => Some(b),
        (None, None) => None,
    };
    let within = |t: &&T| bound.as_deref().is_none_or(|b| t.key() <= b);
    let (mut h, mut w) = (held.iter().filter(within).peekable(), wanted.iter().filter(within).peekable());
    let mut pairs = Vec::new();
    loop {
        let pair = match (h.peek(), w.peek()) {
            (None, None) => break,
            (Some(_), None) => Pair::HeldOnly(h.next().cloned().expect("peeked")),
            (None, Some(_)) => Pair::WantedOnly(w.next().cloned().expect("peeked")),
            (Some(a), Some(b)) => match a.key().cmp(b.key()) {
                std::cmp::Ordering::Less => Pair::HeldOnly(h.next().cloned().expect("peeked")),
                std::cmp::Ordering::Greater => Pair::WantedOnly(w.next().cloned().expect("peeked")),
                std::cmp::Ordering::Equal => {
                    Pair::Both { held: h.next().cloned().expect("peeked"), wanted: w.next().cloned().expect("peeked") }
                }
            },
        };
        pairs.push(pair);
    }
    Merged { pairs, through: bound }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_conditions_bind_each_bound_once() {
        let bounded = Span::inside("src");
        assert_eq!(bounded.condition("path", 3), ("path >= ?3 AND path < ?4".to_string(), vec!["src/", "src0"]));
        assert_eq!(Span::all().condition("key", 2), ("key >= ?2".to_string(), vec![""]));
    }

    fn k(keys: &[&str]) -> Vec<(String, String)> {
        keys.iter().map(|k| (k.to_string(), String::new())).collect()
    }

    fn summary(m: &Merged<(String, String)>) -> Vec<String> {
        m.pairs
            .iter()
            .map(|p| match p {
                Pair::Both { held, .. } => format!("={}", held.0),
                Pair::HeldOnly(h) => format!("-{}", h.0),
                Pair::WantedOnly(w) => format!("+{}", w.0),
            })
            .collect()
    }

    #[test]
    fn pages_merge_up_to_the_bound_both_reached() {
        // (held page, held done, wanted page, wanted done, pairs, through)
        type Case<'a> = (&'a [&'a str], bool, &'a [&'a str], bool, &'a [&'a str], Option<&'a str>);
        let cases: &[Case] = &[
            (&["a", "b"], true, &["b", "c"], true, &["-a", "=b", "+c"], None),
            (&["a", "c", "e"], false, &["b", "c", "d"], false, &["-a", "+b", "=c", "+d"], Some("d")),
            (&["a", "z"], false, &["b"], true, &["-a", "+b", "-z"], Some("z")),
            (&["m"], true, &["a", "b"], false, &["+a", "+b"], Some("b")),
            (&[], true, &[], true, &[], None),
            (&["a", "b"], false, &["x", "y"], false, &["-a", "-b"], Some("b")),
        ];
        for (held, hd, wanted, wd, want, through) in cases {
            let m = merge_page(&k(held), *hd, &k(wanted), *wd);
            assert_eq!(summary(&m), *want, "{held:?} {wanted:?}");
            assert_eq!(m.through.as_deref(), *through, "{held:?} {wanted:?}");
        }
    }

    #[test]
    fn spans_and_successors_follow_byte_order() {
        assert_eq!(Span::inside("src"), Span { from: "src/".into(), until: Some("src0".into()) });
        assert_eq!(Span::inside(""), Span::all());
        let a = Span::inside("a");
        for (path, inside) in [("a/x", true), ("a/b/c", true), ("a-b", false), ("a0", false), ("a", false), ("ab/x", false)] {
            assert_eq!(a.contains(path), inside, "{path}");
        }
        assert!(Span::all().contains("anything/at/all"));
        let next = successor("a");
        assert!(next.as_str() > "a" && next.as_str() < "a/" && next.as_str() < "a-");
    }
}
