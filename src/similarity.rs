//! How similar two texts are, as git measures it for rename detection (`diffcore-delta.c`
//! and `estimate_similarity` in `diffcore-rename.c`), so that our scores are git's.
//!
//! A text is cut into spans that end at a line feed or after 64 bytes, whichever comes
//! first (a CR right before an LF is skipped), and each span is hashed into one of
//! `HASHBASE` buckets that counts its bytes. Two texts' bucket lists, sorted by hash, are
//! walked together: the bytes of the destination that the source also has are "copied".
//! The score is copied bytes over the larger size, on git's scale of `MAX_SCORE`; a pair
//! whose sizes differ too much for the score to reach the minimum is never hashed at all.

use std::collections::HashMap;

/// git's full score (100%).
pub const MAX_SCORE: u32 = 60_000;
/// `-M50%`, git's default: the least score that makes a rename.
pub const MIN_SCORE: u32 = 30_000;
/// The least score for a pair matched by a unique basename: git raises the minimum halfway
/// to the full score (`GIT_BASENAME_FACTOR`, default 50) for that shortcut.
pub const MIN_BASENAME_SCORE: u32 = MIN_SCORE + (MAX_SCORE - MIN_SCORE) / 2;
/// The prime git hashes spans modulo (`diffcore-delta.c`).
const HASHBASE: u32 = 107_927;
/// A span ends at a line feed or after this many bytes.
const SPAN_MAX: u32 = 64;

/// A text's span counts: (hash, bytes) sorted by hash, each hash once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanCounts(Vec<(u32, u32)>);

impl SpanCounts {
    /// The span counts of `bytes` (git's `hash_chars`). `is_text` skips a CR before an LF.
    pub fn of(bytes: &[u8], is_text: bool) -> SpanCounts {
        let mut counts: HashMap<u32, u32> = HashMap::new();
        let (mut accum1, mut accum2, mut n) = (0u32, 0u32, 0u32);
        for (i, &byte) in bytes.iter().enumerate() {
            if is_text && byte == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                continue;
            }
            let old1 = accum1;
            accum1 = (accum1 << 7) ^ (accum2 >> 25);
            accum2 = (accum2 << 7) ^ (old1 >> 25);
            accum1 = accum1.wrapping_add(u32::from(byte));
            n += 1;
            if n < SPAN_MAX && byte != b'\n' {
                continue;
            }
            *counts.entry(span_hash(accum1, accum2)).or_insert(0) += n;
            (accum1, accum2, n) = (0, 0, 0);
        }
        if n > 0 {
            *counts.entry(span_hash(accum1, accum2)).or_insert(0) += n;
        }
        let mut sorted: Vec<(u32, u32)> = counts.into_iter().collect();
        sorted.sort_unstable();
        SpanCounts(sorted)
    }

    /// Distinct spans held (what the counts cost in memory: 8 bytes each).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Little-endian (hash, count) pairs: how scratch keeps them between steps.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|(h, c)| h.to_le_bytes().into_iter().chain(c.to_le_bytes())).collect()
    }

    /// The inverse of `to_bytes`; `None` for bytes it did not write.
    pub fn from_bytes(bytes: &[u8]) -> Option<SpanCounts> {
        if bytes.len() % 8 != 0 {
            return None;
        }
        let word = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let pairs: Vec<(u32, u32)> = bytes.chunks_exact(8).map(|p| (word(&p[..4]), word(&p[4..]))).collect();
        pairs.windows(2).all(|w| w[0].0 < w[1].0).then_some(SpanCounts(pairs))
    }
}

fn span_hash(accum1: u32, accum2: u32) -> u32 {
    accum1.wrapping_add(accum2.wrapping_mul(0x61)) % HASHBASE
}

/// Bytes of `dst` copied from `src` (git's `diffcore_count_changes`, its `src_copied`).
pub fn copied(src: &SpanCounts, dst: &SpanCounts) -> u64 {
    let mut copied = 0u64;
    let mut d = dst.0.iter().peekable();
    for &(hash, src_count) in &src.0 {
        while d.next_if(|(h, _)| *h < hash).is_some() {}
        if let Some((_, dst_count)) = d.next_if(|(h, _)| *h == hash) {
            copied += u64::from(src_count.min(*dst_count));
        }
    }
    copied
}

/// Whether files of these sizes may reach `minimum` at all: git scores a pair 0, without
/// reading either, when the sizes differ by more than the minimum allows.
pub fn sizes_allow(src_size: u64, dst_size: u64, minimum: u32) -> bool {
    let (max, min) = (src_size.max(dst_size), src_size.min(dst_size));
    u128::from(max) * u128::from(MAX_SCORE - minimum) >= u128::from(max - min) * u128::from(MAX_SCORE)
}

/// git's score of a source and destination text (0 to `MAX_SCORE`), given their sizes (the
/// blobs' bytes) and span counts, for a pair whose sizes allowed the minimum.
pub fn score(src_size: u64, dst_size: u64, src: &SpanCounts, dst: &SpanCounts) -> u32 {
    let max = src_size.max(dst_size);
    if dst_size == 0 || max == 0 {
        return 0;
    }
    (u128::from(copied(src, dst)) * u128::from(MAX_SCORE) / u128::from(max)) as u32
}

/// The percentage git prints for a score (`R087`): rounded down.
pub fn percent(score: u32) -> u8 {
    (u64::from(score.min(MAX_SCORE)) * 100 / u64::from(MAX_SCORE)) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score_of(a: &str, b: &str) -> u32 {
        let (x, y) = (SpanCounts::of(a.as_bytes(), true), SpanCounts::of(b.as_bytes(), true));
        score(a.len() as u64, b.len() as u64, &x, &y)
    }

    #[test]
    fn identical_texts_score_full() {
        let text = "one\ntwo\nthree\n".repeat(20);
        assert_eq!(score_of(&text, &text), MAX_SCORE);
    }

    #[test]
    fn a_last_line_without_a_line_feed_counts() {
        // git 2.33 and later hash the final short span too.
        assert_eq!(score_of("a\nb", "a\nb"), MAX_SCORE);
        assert!(score_of("a\nb", "a\nc") < MAX_SCORE);
    }

    #[test]
    fn a_cr_before_an_lf_is_not_counted_in_text() {
        let (crlf, lf) = ("line one\r\nline two\r\n", "line one\nline two\n");
        assert_eq!(SpanCounts::of(crlf.as_bytes(), true), SpanCounts::of(lf.as_bytes(), true));
        assert_ne!(SpanCounts::of(crlf.as_bytes(), false), SpanCounts::of(lf.as_bytes(), false));
    }

    #[test]
    fn long_lines_are_cut_every_64_bytes() {
        let line = "x".repeat(200);
        let counts = SpanCounts::of(line.as_bytes(), true);
        // Three spans of 64 identical bytes share a hash; the tail of 8 has its own.
        assert_eq!(counts.0.iter().map(|(_, c)| c).sum::<u32>(), 200);
        assert_eq!(counts.len(), 2);
    }

    #[test]
    fn the_size_gate_is_gits() {
        // 50%: the larger may be at most twice the smaller.
        assert!(sizes_allow(100, 200, MIN_SCORE));
        assert!(!sizes_allow(100, 201, MIN_SCORE));
        // 75% for basename matches: at most a third more.
        assert!(sizes_allow(300, 400, MIN_BASENAME_SCORE));
        assert!(!sizes_allow(300, 401, MIN_BASENAME_SCORE));
        assert!(sizes_allow(0, 0, MIN_SCORE));
        assert!(!sizes_allow(0, 1, MIN_SCORE));
    }

    #[test]
    fn copied_counts_the_smaller_side_of_each_span() {
        let src = SpanCounts(vec![(1, 10), (2, 5), (4, 3)]);
        let dst = SpanCounts(vec![(0, 7), (1, 4), (2, 9), (3, 1)]);
        assert_eq!(copied(&src, &dst), 4 + 5);
        assert_eq!(copied(&dst, &src), 4 + 5);
    }

    #[test]
    fn bytes_round_trip_and_reject_what_they_did_not_write() {
        let counts = SpanCounts::of(b"alpha\nbeta\ngamma\n", true);
        assert_eq!(SpanCounts::from_bytes(&counts.to_bytes()), Some(counts));
        assert_eq!(SpanCounts::from_bytes(&[1, 2, 3]), None);
        let unsorted = SpanCounts(vec![(5, 1), (2, 1)]).to_bytes();
        assert_eq!(SpanCounts::from_bytes(&unsorted), None);
    }

    #[test]
    fn percent_rounds_down_like_git() {
        assert_eq!(percent(MAX_SCORE), 100);
        assert_eq!(percent(59_999), 99);
        assert_eq!(percent(MIN_SCORE), 50);
        assert_eq!(percent(29_999), 49);
    }
}
