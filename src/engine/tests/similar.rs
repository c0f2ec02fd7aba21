//! Renames with edits over the fakes: every sync's changes are those of the in-memory
//! reference (`diff::diff_similar`, itself held against `git diff -M` in
//! `tests/renames_git.rs`), however the engine pages, replays or runs (sync, dry run,
//! restore), and past git's rename limit only unique basenames pair.

use super::*;
use crate::content::{analyse, ContentStatus};
use crate::diff::{diff_similar, Change, FileEntry};
use crate::engine::Phase;
use crate::similarity::SpanCounts;
use std::collections::BTreeMap;

/// A small seeded generator (xorshift), so a failing history can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A text of distinct lines (`seed` apart from every other text's).
fn lines(seed: u32, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("line {i} of text {seed}: {}", seed.wrapping_mul(2_654_435_761).wrapping_add(i as u32))).collect()
}

fn text_file(path: &str, lines: &[String]) -> TreeFile {
    with_content(path, lines.iter().map(|l| format!("{l}\n")).collect::<String>().into_bytes())
}

/// The span counts the engine would compute for a file: its text, if the fakes keep it.
fn counts_of(w: &World, f: &FileEntry) -> Option<SpanCounts> {
    let bytes = w.gh.contents.borrow().get(f.sha.as_str()).cloned()?;
    let kept = f.size.unwrap_or(0) <= 1_000 && analyse(f.sha.as_str(), &bytes).status == ContentStatus::Text;
    kept.then(|| SpanCounts::of(&bytes, true))
}

/// The reference's changes from `before` to `after`, by path.
fn reference(w: &World, before: &[TreeFile], after: &[TreeFile]) -> (BTreeMap<String, Change>, bool) {
    let entries = |files: &[TreeFile]| files.iter().cloned().map(FileEntry::from).collect::<Vec<_>>();
    let (diff, limited) = diff_similar(entries(before), entries(after), |f| counts_of(w, f));
    (diff.changes.into_iter().map(|c| (c.path().to_string(), c)).collect(), limited)
}

fn staged(w: &World, job: &Job) -> BTreeMap<String, Change> {
    w.store.applied.borrow().get(job.sync_id.as_str()).cloned().unwrap_or_default()
}

fn synced(w: &World, commit: u32, files: &[TreeFile]) -> Job {
    w.push("main", &sha(commit), files.to_vec());
    let mut job = w.job(None);
    w.run(&mut job);
    assert_eq!(job.status, SyncStatus::Complete, "{:?}", job.error);
    job
}

fn renamed(changes: &BTreeMap<String, Change>) -> Vec<(String, String, u8)> {
    changes
        .values()
        .filter_map(|c| match c {
            Change::Renamed { old, new, similarity } => Some((old.path.clone(), new.path.clone(), *similarity)),
            _ => None,
        })
        .collect()
}

#[test]
fn an_edited_move_is_a_rename_with_its_score() {
    let w = World::new();
    let (a, b, c) = (lines(1, 30), lines(2, 30), lines(3, 30));
    let before = vec![text_file("src/one.rs", &a), text_file("src/two.rs", &b), text_file("docs/three.md", &c)];
    synced(&w, 100, &before);
    let mut edited = a.clone();
    edited[3] = "changed".into();
    edited[20] = "changed too".into();
    let after = vec![text_file("core/one.rs", &edited), text_file("docs/four.md", &c[..25]), text_file("new.txt", &lines(9, 10))];
    let job = synced(&w, 101, &after);
    let (want, limited) = reference(&w, &before, &after);
    assert_eq!(staged(&w, &job), want);
    assert!(!limited && !job.renames_limited);
    let found = renamed(&want);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.iter().any(|(o, n, s)| o == "src/one.rs" && n == "core/one.rs" && (90..100).contains(s)), "{found:?}");
    assert!(found.iter().any(|(o, n, _)| o == "docs/three.md" && n == "docs/four.md"), "{found:?}");
    assert_eq!(counts(&job), (1, 0, 1, 2, 0), "new.txt added, two.rs removed");
}

/// One random step of a history: edits, moves (with and without edits, across
/// directories), copies, deletions and new files.
fn evolve(rng: &mut Rng, files: &mut BTreeMap<String, Vec<String>>, next_seed: &mut u32) {
    let dirs = ["a", "b", "c/d", "e"];
    for _ in 0..1 + rng.below(8) {
        let paths: Vec<String> = files.keys().cloned().collect();
        let pick = paths.get(rng.below(paths.len().max(1))).cloned();
        let new_path = |rng: &mut Rng| format!("{}/f{}.txt", dirs[rng.below(dirs.len())], rng.below(40));
        match (rng.below(6), pick) {
            (0, Some(p)) => {
                let text = files.get_mut(&p).unwrap();
                let at = rng.below(text.len());
                text[at] = format!("edit {}", rng.next());
            }
            (1, Some(p)) => {
                let mut text = files.remove(&p).unwrap();
                for _ in 0..rng.below(text.len() / 2 + 1) {
                    let at = rng.below(text.len());
                    text[at] = format!("edit {}", rng.next());
                }
                files.insert(new_path(rng), text);
            }
            (2, Some(p)) => {
                let text = files[&p].clone();
                files.insert(new_path(rng), text);
            }
            (3, Some(p)) if files.len() > 5 => {
                files.remove(&p);
            }
            _ => {
                *next_seed += 1;
                let n = 5 + rng.below(25);
                files.insert(new_path(rng), lines(*next_seed, n));
            }
        }
    }
}

fn tree(files: &BTreeMap<String, Vec<String>>) -> Vec<TreeFile> {
    files.iter().map(|(p, l)| text_file(p, l)).collect()
}

#[test]
fn random_histories_pair_as_the_reference_does() {
    for seed in [7u64, 1_234, 99_991] {
        let w = World::new();
        let mut rng = Rng(seed);
        let mut next_seed = 1_000;
        let mut files: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for _ in 0..12 {
            evolve(&mut rng, &mut files, &mut next_seed);
        }
        let mut before = tree(&files);
        synced(&w, 100, &before);
        let mut renames = 0;
        for commit in 101..121 {
            evolve(&mut rng, &mut files, &mut next_seed);
            let after = tree(&files);
            let job = synced(&w, commit, &after);
            let (want, _) = reference(&w, &before, &after);
            assert_eq!(staged(&w, &job), want, "seed {seed}, commit {commit}");
            renames += renamed(&want).iter().filter(|r| r.2 < 100).count();
            before = after;
        }
        assert!(renames > 0, "seed {seed}: the history has renames with edits");
    }
}

#[test]
fn a_dry_run_and_a_restore_pair_as_the_sync_does() {
    let w = World::new();
    let (a, b) = (lines(1, 20), lines(2, 20));
    let v1 = vec![text_file("one/a.txt", &a), text_file("one/b.txt", &b)];
    let first = synced(&w, 100, &v1);
    let v2 = vec![text_file("two/a.txt", &a[..19]), text_file("two/bee.txt", &b[1..])];
    w.push("main", &sha(101), v2.clone());
    w.dry_run.set(true);
    let mut dry = w.job(None);
    w.run(&mut dry);
    assert_eq!(dry.status, SyncStatus::Complete, "{:?}", dry.error);
    let preview = w.store.previews.borrow()[dry.sync_id.as_str()].clone();
    let (want, _) = reference(&w, &v1, &v2);
    assert_eq!(preview, want);
    assert_eq!(renamed(&want).len(), 2, "one by basename, one by the matrix");
    w.dry_run.set(false);
    let real = synced(&w, 101, &v2);
    assert_eq!(staged(&w, &real), want);
    let mut restore = w.job(Some((first.sync_id.clone(), 1, Some(sha(100)))));
    w.run(&mut restore);
    assert_eq!(restore.status, SyncStatus::Complete, "{:?}", restore.error);
    assert_eq!(staged(&w, &restore), reference(&w, &v2, &v1).0);
    assert_eq!(w.active(), expect(&v1));
}

#[test]
fn every_step_replayed_gives_the_same_changes() {
    let w = World::new();
    let mut rng = Rng(42);
    let mut next_seed = 1_000;
    let mut files: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for _ in 0..15 {
        evolve(&mut rng, &mut files, &mut next_seed);
    }
    let before = tree(&files);
    synced(&w, 100, &before);
    for _ in 0..4 {
        evolve(&mut rng, &mut files, &mut next_seed);
    }
    let after = tree(&files);
    w.push("main", &sha(101), after.clone());
    let mut job = w.job(None);
    // Each step runs, is lost before its checkpoint (the object killed), and runs again.
    w.run_with(&mut job, |_, job, w| {
        let saved = job.clone();
        block_on(step(job, &w.ports(), 1));
        *job = saved;
    });
    assert_eq!(job.status, SyncStatus::Complete, "{:?}", job.error);
    assert_eq!(staged(&w, &job), reference(&w, &before, &after).0);
}

#[test]
fn past_the_limit_only_unique_basenames_pair_and_the_sync_says_so() {
    let w = World::new();
    let old: Vec<TreeFile> = (0..1_001).map(|i| text_file(&format!("old/o{i}.txt"), &lines(i, 3))).collect();
    let mut before = old.clone();
    before.push(text_file("keep/name.txt", &lines(5_000, 20)));
    synced(&w, 100, &before);
    let mut after: Vec<TreeFile> = (0..1_001).map(|i| text_file(&format!("new/n{i}.txt"), &lines(i + 10_000, 3))).collect();
    let mut edited = lines(5_000, 20);
    edited[0] = "edited".into();
    after.push(text_file("moved/name.txt", &edited));
    let job = synced(&w, 101, &after);
    let (want, limited) = reference(&w, &before, &after);
    assert!(limited && job.renames_limited);
    assert_eq!(staged(&w, &job), want);
    assert_eq!(renamed(&want).iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), vec!["keep/name.txt"]);
}

#[test]
fn an_ordinary_change_reads_no_text_and_takes_no_step_more() {
    let w = World::new();
    let v1 = vec![text_file("a.txt", &lines(1, 10)), text_file("b.txt", &lines(2, 10))];
    synced(&w, 100, &v1);
    let v2 = vec![text_file("a.txt", &lines(3, 10)), text_file("b.txt", &lines(2, 10))];
    w.push("main", &sha(101), v2);
    let mut job = w.job(None);
    let mut similar_steps = 0;
    w.run_with(&mut job, |_, job, _| {
        similar_steps += usize::from(matches!(
            job.phase,
            Phase::SimilarNames { .. } | Phase::SimilarCounts { .. } | Phase::SimilarMatrix { .. } | Phase::SimilarAssign
        ));
    });
    assert_eq!(job.status, SyncStatus::Complete);
    assert_eq!(similar_steps, 0);
    assert_eq!(w.scratch.span_counts.borrow().len(), 0, "no text read or counted");
}

#[test]
fn a_replayed_step_that_took_every_leftover_still_counts_its_renames() {
    let w = World::new();
    let text = lines(1, 20);
    synced(&w, 100, &[text_file("a/name.txt", &text)]);
    let mut edited = text.clone();
    edited[5] = "edited".into();
    w.push("main", &sha(101), vec![text_file("b/name.txt", &edited)]);
    let mut job = w.job(None);
    w.run_with(&mut job, |_, job, w| {
        let saved = job.clone();
        block_on(step(job, &w.ports(), 1));
        *job = saved;
    });
    assert_eq!(job.status, SyncStatus::Complete, "{:?}", job.error);
    assert_eq!(counts(&job), (0, 0, 0, 1, 0));
}

#[test]
fn identical_sources_pair_in_the_order_git_walks_them() {
    // With 205 removed paths git's table grows on its last insert and walks backwards:
    // two identical sources go to the two destinations the other way round.
    let w = World::new();
    let same = lines(7, 3);
    let mut before: Vec<TreeFile> = (0..203).map(|i| text_file(&format!("gone/{i:03}.txt"), &lines(100 + i, 2))).collect();
    before.extend([text_file("a1", &same), text_file("a2", &same)]);
    synced(&w, 100, &before);
    let after = vec![text_file("b1", &same), text_file("b2", &same)];
    let job = synced(&w, 101, &after);
    let (want, _) = reference(&w, &before, &after);
    assert_eq!(staged(&w, &job), want);
    let pairs: Vec<(String, String)> = renamed(&want).into_iter().map(|(o, n, _)| (o, n)).collect();
    assert_eq!(pairs, vec![("a2".into(), "b1".into()), ("a1".into(), "b2".into())]);
}
