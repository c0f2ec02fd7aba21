//! The steps on small cases whose answer git gives (checked by hand against `git diff -M`);
//! `tests/renames_git.rs` holds them against the `git` CLI itself.

use super::*;

fn file(path: &str, size: u64) -> Candidate {
    Candidate { path: path.into(), size: Some(size), regular: true }
}

fn scored(src: u32, score: u32, same_name: bool) -> Scored {
    Scored { src, score, same_name }
}

#[test]
fn unique_basenames_pair_only_when_unique_on_both_sides() {
    let sources = [file("a/x.rs", 1), file("a/y.rs", 1), file("b/y.rs", 1), file("c/z.rs", 1)];
    let dests = [file("n/x.rs", 1), file("n/y.rs", 1), file("n/z.rs", 1), file("m/z.rs", 1)];
    // y is twice among the sources, z twice among the destinations.
    assert_eq!(unique_basename_pairs(&sources, &dests), vec![(0, 0)]);
}

#[test]
fn best_keeps_four_and_the_first_of_equals() {
    let mut best = Best::default();
    for (src, score) in [(0, 10), (1, 50), (2, 50), (3, 20), (4, 50), (5, 30)] {
        best.record(scored(src, score, false));
    }
    // 10 left for 50 (source 4), then 20 for 30 (source 5); equal scores never displace.
    let kept: Vec<(u32, u32)> = best.slots.iter().map(|s| s.map(|s| (s.src, s.score)).unwrap()).collect();
    assert_eq!(kept, vec![(4, 50), (1, 50), (2, 50), (5, 30)]);
}

#[test]
fn best_prefers_the_same_name_at_an_equal_score() {
    let mut best = Best::default();
    for src in 0..4 {
        best.record(scored(src, 40_000, false));
    }
    best.record(scored(4, 40_000, true));
    assert!(best.slots.iter().any(|s| s.is_some_and(|s| s.src == 4)));
    assert!(!best.slots.iter().any(|s| s.is_some_and(|s| s.src == 0)), "the first worst slot gives way");
}

#[test]
fn assign_takes_the_best_first_and_each_end_once() {
    let e = |dst, slot, src, score, same| Entry { dst, slot, scored: scored(src, score, same) };
    let kept = vec![e(0, 0, 0, 40_000, false), e(0, 1, 1, 50_000, false), e(1, 0, 1, 55_000, false), e(1, 1, 0, 45_000, true)];
    let taken: Vec<(u32, u32)> = assign(kept).iter().map(|e| (e.dst, e.scored.src)).collect();
    // dst 1 takes source 1 (55%); dst 0 then falls back to source 0.
    assert_eq!(taken, vec![(1, 1), (0, 0)]);
}

#[test]
fn assign_breaks_ties_by_name_then_destination_order() {
    let e = |dst, slot, src, same| Entry { dst, slot, scored: scored(src, 45_000, same) };
    let taken: Vec<(u32, u32)> =
        assign(vec![e(0, 0, 0, false), e(1, 0, 0, true), e(2, 0, 1, false)]).iter().map(|e| (e.dst, e.scored.src)).collect();
    assert_eq!(taken, vec![(1, 0), (2, 1)]);
}

#[test]
fn the_limit_is_the_square_of_git_default() {
    assert!(!too_many(1_000, 1_000));
    assert!(too_many(1_001, 1_000));
    assert!(!too_many(1, 1_000_000));
    assert!(too_many(2, 500_001));
}

#[test]
fn detect_pairs_an_edited_move_and_leaves_the_unlike() {
    let text = |n: usize, tail: &str| format!("{}{tail}", (0..n).map(|i| format!("line {i}\n")).collect::<String>());
    let texts = [text(40, "old ending\n"), text(40, "new ending\n"), "something else entirely\n".repeat(30)];
    let sources = [file("src/lib.rs", texts[0].len() as u64)];
    let dests = [file("core/lib.rs", texts[1].len() as u64), file("zzz.txt", texts[2].len() as u64)];
    let counts = |is_src: bool, i: usize| Some(SpanCounts::of(texts[if is_src { 0 } else { i + 1 }].as_bytes(), true));
    let found = detect(&sources, &dests, counts);
    assert_eq!(found.renames.len(), 1);
    assert_eq!((found.renames[0].src, found.renames[0].dst), (0, 0));
    assert!(found.renames[0].similarity >= 90 && found.renames[0].similarity < 100);
    assert!(!found.limited);
}

#[test]
fn detect_scores_no_pair_without_text_or_of_another_kind() {
    let sources = [Candidate { path: "link".into(), size: Some(10), regular: false }, file("blob.bin", 10)];
    let dests = [Candidate { path: "link2".into(), size: Some(10), regular: false }, file("blob2.bin", 10)];
    let found = detect(&sources, &dests, |_, _| None);
    assert!(found.renames.is_empty());
}
