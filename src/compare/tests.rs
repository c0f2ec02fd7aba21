//! Compare pages against the reference diff: tables of cross-page renames, and random
//! states paged with small limits and small windows.

use super::*;
use crate::diff::diff;
use crate::diff::tests::summary;
use crate::domain::{FileKind, FileMode, ObjectSha};
use crate::similarity::SpanCounts;
use futures::executor::block_on;
use std::cell::Cell;
use std::collections::BTreeMap;

type State = BTreeMap<String, FileEntry>;

fn entry(path: &str, c: char, mode: FileMode) -> FileEntry {
    let sha = ObjectSha::parse(&c.to_string().repeat(40)).expect("a sha");
    FileEntry { path: path.into(), mode, kind: FileKind::from_mode(mode), sha, size: Some(1) }
}

fn state(files: &[(&str, char)]) -> State {
    files.iter().map(|(p, c)| (p.to_string(), entry(p, *c, FileMode::Regular))).collect()
}

/// Two states as D1 holds them: a side holds a path's version when the other state's
/// differs, or when the path is in `churned` (changed and changed back in between: two
/// version rows with one content). A window covers at most `scan` paths of all the
/// project's paths, as the shell's window covers a bounded run of version rows.
struct Fake {
    from: State,
    to: State,
    churned: HashSet<String>,
    scan: usize,
    /// Texts by blob sha (none: every file pairs only exactly).
    texts: HashMap<String, Vec<u8>>,
    /// Rows the source handed out (windows, candidates, whole reads).
    rows: Cell<usize>,
    /// The most rows one call handed out.
    largest: Cell<usize>,
}

impl Fake {
    fn new(from: State, to: State) -> Fake {
        Fake { from, to, churned: HashSet::new(), scan: 3, texts: HashMap::new(), rows: Cell::new(0), largest: Cell::new(0) }
    }

    fn side(&self, side: Side) -> Vec<FileEntry> {
        let (this, other) = match side {
            Side::From => (&self.from, &self.to),
            Side::To => (&self.to, &self.from),
        };
        this.values().filter(|e| other.get(&e.path) != Some(*e) || self.churned.contains(&e.path)).cloned().collect()
    }

    fn hand_out(&self, n: usize) {
        self.rows.set(self.rows.get() + n);
        self.largest.set(self.largest.get().max(n));
    }
}

impl Sides for Fake {
    type Error = ();

    async fn window(&self, after: &str, rows: u32) -> Result<Window, ()> {
        let (from, to) = (self.side(Side::From), self.side(Side::To));
        let paths: BTreeSet<&String> = self.from.keys().chain(self.to.keys()).filter(|p| p.as_str() > after).collect();
        let mut window = Window::default();
        for (i, path) in paths.iter().enumerate() {
            if i == self.scan {
                return Ok(window);
            }
            let here = |side: &[FileEntry]| side.iter().filter(|e| &&e.path == path).cloned().collect::<Vec<_>>();
            let (f, t) = (here(&from), here(&to));
            if window.from.len() + window.to.len() + f.len() + t.len() > rows as usize && i > 0 {
                return Ok(window);
            }
            self.hand_out(f.len() + t.len());
            window.from.extend(f);
            window.to.extend(t);
            window.through = Some(path.to_string());
        }
        window.through = None;
        Ok(window)
    }

    async fn candidates(&self, side: Side, shas: &[String]) -> Result<Vec<FileEntry>, ()> {
        let other: HashSet<String> =
            self.side(if side == Side::From { Side::To } else { Side::From }).into_iter().map(|e| e.path).collect();
        let found: Vec<FileEntry> =
            self.side(side).into_iter().filter(|e| !other.contains(&e.path) && shas.iter().any(|s| s == e.sha.as_str())).collect();
        self.hand_out(found.len());
        Ok(found)
    }

    async fn span_counts(&self, files: &[FileEntry]) -> Result<Vec<Option<SpanCounts>>, ()> {
        Ok(files.iter().map(|f| self.texts.get(f.sha.as_str()).map(|t| SpanCounts::of(t, true))).collect())
    }

    async fn whole(&self, cap: u32) -> Result<Option<(Vec<FileEntry>, Vec<FileEntry>)>, ()> {
        let (from, to) = (self.side(Side::From), self.side(Side::To));
        let n = from.len() + to.len();
        self.hand_out(n.min(cap as usize + 1));
        Ok((n <= cap as usize).then_some((from, to)))
    }
}

/// Every page from the start, with `limit`, starting in `mode`: the changes in order, and
/// the number of pages.
fn all_pages(src: &Fake, limit: u32, mode: Mode) -> (Vec<Change>, usize) {
    let (mut changes, mut after, mut mode, mut pages) = (Vec::new(), String::new(), mode, 0);
    loop {
        let got = block_on(page(src, &after, limit, mode)).expect("a page");
        pages += 1;
        assert!(got.changes.len() <= limit as usize, "a page holds at most its limit");
        assert!(got.changes.iter().all(|c| c.path() > after.as_str()), "a page starts after its cursor");
        changes.extend(got.changes);
        mode = got.mode;
        match got.next {
            Some(next) => {
                assert!(next > after, "the cursor moves on");
                after = next;
            }
            None => return (changes, pages),
        }
        assert!(pages < 10_000, "paging ends");
    }
}

#[test]
fn pages_equal_the_reference_diff() {
    // (name, from, to, what the pages say, in order)
    type Case<'a> = (&'a str, Vec<(&'a str, char)>, Vec<(&'a str, char)>, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        ("from the empty state", vec![], vec![("a", '1'), ("b", '2'), ("c/d", '3')], vec!["A a", "A b", "A c/d"]),
        ("to the empty state", vec![("a", '1'), ("b", '2')], vec![], vec!["D a", "D b"]),
        (
            "a rename whose sides are pages apart",
            vec![("a/x", '1'), ("b", '2'), ("c", '3'), ("d", '4'), ("e", '5')],
            vec![("b", '2'), ("c", '3'), ("d", '4'), ("e", '5'), ("z/x", '1')],
            vec!["R a/x -> z/x"],
        ),
        (
            "the source with the same file name wins, across pages",
            vec![("a/one", '1'), ("b/two", '1'), ("k", '9'), ("l", '8')],
            vec![("k", '9'), ("l", '8'), ("y/two", '1'), ("z/one", '1')],
            vec!["R b/two -> y/two", "R a/one -> z/one"],
        ),
        (
            "more copies added than removed: the first in path order pair",
            vec![("m/a", '1')],
            vec![("n/a", '1'), ("o/a", '1'), ("p/a", '1')],
            vec!["R m/a -> n/a", "A o/a", "A p/a"],
        ),
        ("a modification is no rename candidate", vec![("a", '1'), ("b", '2')], vec![("a", '2'), ("c", '1')], vec!["M a", "D b", "A c"]),
    ];
    for (name, from, to, want) in cases {
        let (from, to) = (state(&from), state(&to));
        let reference = summary(&diff(from.values().cloned().collect(), to.values().cloned().collect()).changes);
        let want: Vec<String> = want.into_iter().map(String::from).collect();
        assert_eq!(reference, want, "{name}: the table agrees with the reference diff");
        for limit in 1..=3 {
            for scan in 1..=3 {
                let mut src = Fake::new(from.clone(), to.clone());
                src.scan = scan;
                let (changes, _) = all_pages(&src, limit, Mode::Windows);
                assert_eq!(summary(&changes), want, "{name}: limit {limit}, windows of {scan} paths");
            }
        }
    }
}

#[test]
fn small_compares_read_whole_and_large_ones_by_windows() {
    let from = state(&[("a", '1')]);
    let to = state(&[("b", '1'), ("c", '2')]);
    let src = Fake::new(from.clone(), to.clone());
    let got = block_on(page(&src, "", 1, Mode::Probe)).expect("a page");
    assert_eq!((summary(&got.changes), got.next.as_deref(), got.mode), (vec!["R a -> b".to_string()], Some("b"), Mode::Windows));
    let got = block_on(page(&src, "", 2, Mode::Probe)).expect("a page");
    assert_eq!(
        (summary(&got.changes), got.next.as_deref(), got.mode),
        (vec!["R a -> b".to_string(), "A c".to_string()], None, Mode::Whole)
    );
    let many: State = (0..40).map(|i| (format!("f{i:02}"), entry(&format!("f{i:02}"), '3', FileMode::Regular))).collect();
    let src = Fake::new(State::new(), many);
    let got = block_on(page(&src, "", 2, Mode::Probe)).expect("a page");
    assert_eq!(got.mode, Mode::Windows, "40 versions are more than 2 per entry of a page of 2");
    assert_eq!(summary(&got.changes), vec!["A f00", "A f01"]);
    assert_eq!(Mode::parse(Some(got.mode.as_str())), Some(Mode::Windows));
    assert_eq!(Mode::parse(Some("other")), None);
}

#[test]
fn where_the_states_agree_a_page_ends_short_and_goes_on() {
    let same: Vec<(String, char)> = (0..50).map(|i| (format!("s{i:02}"), '5')).collect();
    let same: Vec<(&str, char)> = same.iter().map(|(p, c)| (p.as_str(), *c)).collect();
    let mut from = state(&same);
    let mut to = from.clone();
    from.insert("zz".into(), entry("zz", '1', FileMode::Regular));
    to.insert("zz".into(), entry("zz", '2', FileMode::Regular));
    let src = Fake::new(from, to);
    let first = block_on(page(&src, "", 5, Mode::Windows)).expect("a page");
    assert!(first.changes.is_empty(), "8 windows of 3 paths reach s23 only");
    assert_eq!(first.next.as_deref(), Some("s23"));
    let (changes, pages) = all_pages(&src, 5, Mode::Windows);
    assert_eq!(summary(&changes), vec!["M zz"]);
    assert_eq!(pages, 3);
}

#[test]
fn a_page_reads_in_proportion_to_it() {
    // 2,000 files from the empty state, pages of 10: each page reads its windows, never
    // the other 1,990 files (no candidate has a counterpart, so no group is read).
    let to: State =
        (0..2000).map(|i| (format!("d{}/f{i:04}", i % 7), entry(&format!("d{}/f{i:04}", i % 7), 'a', FileMode::Regular))).collect();
    let src = Fake::new(State::new(), to.clone());
    let (changes, pages) = all_pages(&src, 10, Mode::Probe);
    assert_eq!(changes.len(), 2000);
    assert!(pages >= 200);
    assert!(src.largest.get() <= 41, "one call handed out {} rows", src.largest.get());
    assert!(src.rows.get() <= 2000 * 3, "{} rows for 2,000 changes", src.rows.get());
}

/// A small deterministic generator (xorshift), so a failure names its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % below as u64) as usize
    }
}

fn random_state(rng: &mut Rng, paths: &[&str]) -> State {
    let modes = [FileMode::Regular, FileMode::Regular, FileMode::Regular, FileMode::Executable, FileMode::Symlink];
    let mut state = State::new();
    for p in paths {
        if rng.next(3) > 0 {
            state.insert(p.to_string(), entry(p, ['1', '2', '3', 'e'][rng.next(4)], modes[rng.next(modes.len())]));
        }
    }
    state
}

#[test]
fn random_states_paged_small_equal_the_reference_diff() {
    let paths = ["a", "a/x", "a/y", "b/x", "b/y/x", "c", "d/a", "d/c", "e/x", "f", "g/h/x", "g/y", "x", "y", "z/a"];
    for seed in 1..400u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let (from, to) = (random_state(&mut rng, &paths), random_state(&mut rng, &paths));
        let want = diff(from.values().cloned().collect(), to.values().cloned().collect()).changes;
        let mut src = Fake::new(from.clone(), to.clone());
        src.churned = paths.iter().filter(|p| from.get(**p) == to.get(**p) && rng.next(4) == 0).map(|p| p.to_string()).collect();
        src.scan = 1 + rng.next(4);
        let limit = 1 + rng.next(4) as u32;
        let mode = [Mode::Probe, Mode::Windows][rng.next(2)];
        let (got, _) = all_pages(&src, limit, mode);
        assert_eq!(got, want, "seed {seed}: limit {limit}, windows of {} paths, {mode:?}", src.scan);
    }
}

/// A text file whose sha is its blob id.
fn text_entry(path: &str, text: &str, texts: &mut HashMap<String, Vec<u8>>) -> FileEntry {
    let sha = ObjectSha::parse(&crate::gitobj::blob_id(text.as_bytes())).expect("a sha");
    texts.insert(sha.to_string(), text.as_bytes().to_vec());
    FileEntry { path: path.into(), mode: FileMode::Regular, kind: FileKind::File, sha, size: Some(text.len() as u64) }
}

#[test]
fn a_small_compare_pairs_renames_with_edits_and_a_large_one_says_it_did_not() {
    let body: String = (0..30).map(|i| format!("line {i}\n")).collect();
    let mut texts = HashMap::new();
    let old = text_entry("a/old.txt", &body, &mut texts);
    let new = text_entry("b/new.txt", &format!("{body}one more line\n"), &mut texts);
    let (from, to) = (State::from([(old.path.clone(), old)]), State::from([(new.path.clone(), new)]));
    let mut src = Fake::new(from.clone(), to.clone());
    src.texts = texts.clone();
    let got = block_on(page(&src, "", 10, Mode::Probe)).expect("a page");
    assert_eq!(got.renames, RenameSearch::WithEdits);
    assert!(matches!(&got.changes[..], [Change::Renamed { similarity: 91..=99, .. }]), "{:?}", got.changes);

    // Many other changes: windows, exact pairing only, and the page says so.
    let (mut from, mut to) = (from, to);
    for i in 0..20 {
        from.insert(format!("c/{i}"), entry(&format!("c/{i}"), 'a', FileMode::Regular));
        to.insert(format!("c/{i}"), entry(&format!("c/{i}"), 'b', FileMode::Regular));
    }
    let mut src = Fake::new(from, to);
    src.texts = texts;
    let got = block_on(page(&src, "", 2, Mode::Probe)).expect("a page");
    assert_eq!((got.mode, got.renames), (Mode::Windows, RenameSearch::ExactOnly));
}
