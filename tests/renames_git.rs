//! `diff::diff_similar` against `git diff -M --raw` itself: every case is committed to a
//! scratch repository with `git fast-import`, both trees are listed with `git ls-tree`,
//! and our answer (exact pairing, then `renames::detect`) must equal git's: the same
//! renames with the same similarity, the same added, removed and modified paths (git's
//! `T`, a type change, is our modification), and the rename limit hit exactly when git
//! warns that it skipped the matrix.
//!
//! One difference is by design: git scores every blob by its bytes, binary or not, while
//! the service keeps span counts only for the text it keeps (no NUL, valid UTF-8, not an
//! LFS pointer, at most `DEFAULT_MAX_TEXT_BYTES`), so such a file pairs only exactly. When
//! git pairs one of those inexactly, the comparison expects what we say instead: the old
//! path removed and the new one added.
//!
//! Native and self-contained: the `git` CLI, temporary directories, a seeded xorshift.

use project_sync::content::{analyse, ContentStatus, DEFAULT_MAX_TEXT_BYTES};
use project_sync::diff::{diff_similar, Change, FileEntry};
use project_sync::domain::{FileKind, FileMode, ObjectSha};
use project_sync::similarity::SpanCounts;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

// ---------------------------------------------------------------------------------------
// A scratch repository.

/// A git repository in a fresh temporary directory, removed when dropped.
struct Repo {
    dir: PathBuf,
}

static REPOS: AtomicUsize = AtomicUsize::new(0);

impl Repo {
    fn new(name: &str) -> Repo {
        let unique = format!("ps-renames-git-{}-{}-{name}", std::process::id(), REPOS.fetch_add(1, Ordering::SeqCst));
        let dir = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let repo = Repo { dir };
        repo.git(&["init", "-q", "-b", "main"], None);
        repo
    }

    /// Runs git with no user or system configuration (a `diff.renames` or
    /// `diff.renameLimit` set on this machine must not change the answer); stdout, stderr.
    fn git(&self, args: &[&str], stdin: Option<Vec<u8>>) -> (Vec<u8>, String) {
        let mut cmd = Command::new("git");
        cmd.arg("-C").arg(&self.dir).args(args);
        cmd.env("GIT_CONFIG_NOSYSTEM", "1").env("GIT_CONFIG_GLOBAL", "/dev/null").env("HOME", &self.dir).env("LC_ALL", "C");
        cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() }).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("git runs");
        // Written from another thread: git may fill its stdout before it has read all of it.
        let writer = stdin.map(|bytes| {
            let mut pipe = child.stdin.take().expect("stdin");
            std::thread::spawn(move || pipe.write_all(&bytes).expect("git reads its input"))
        });
        let out = child.wait_with_output().expect("git ends");
        if let Some(w) = writer {
            w.join().expect("writer");
        }
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "git {args:?} failed: {stderr}");
        (out.stdout, stderr)
    }

    /// Commits each state in turn on `main`; the commits' ids, oldest first.
    fn commit_all(&self, states: &[State]) -> Vec<String> {
        self.git(&["fast-import", "--quiet", "--done"], Some(fast_import_stream(states)));
        let (out, _) = self.git(&["rev-list", "--reverse", "main"], None);
        let commits: Vec<String> = String::from_utf8(out).expect("ids").lines().map(String::from).collect();
        assert_eq!(commits.len(), states.len());
        commits
    }

    /// The files of a commit as the service lists them (`git ls-tree -r -l`).
    fn files(&self, commit: &str) -> Vec<FileEntry> {
        let (out, _) = self.git(&["ls-tree", "-r", "-l", "-z", commit], None);
        out.split(|&b| b == 0).filter(|r| !r.is_empty()).map(|r| tree_line(&String::from_utf8_lossy(r))).collect()
    }

    /// Span counts of every blob whose text the service keeps, `None` for the others.
    fn texts(&self) -> HashMap<String, Option<SpanCounts>> {
        let (out, _) = self.git(&["cat-file", "--batch-all-objects", "--batch"], None);
        let mut texts = HashMap::new();
        let mut rest = &out[..];
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            let header = String::from_utf8_lossy(&rest[..nl]).into_owned();
            let fields: Vec<&str> = header.split(' ').collect();
            let size: usize = fields[2].parse().expect("object size");
            let body = &rest[nl + 1..nl + 1 + size];
            if fields[1] == "blob" {
                texts.insert(fields[0].to_string(), kept_text(fields[0], body));
            }
            rest = &rest[nl + 1 + size + 1..];
        }
        texts
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What the service keeps of a blob's bytes: span counts for text it keeps, else nothing.
fn kept_text(sha: &str, bytes: &[u8]) -> Option<SpanCounts> {
    let kept = bytes.len() as u64 <= DEFAULT_MAX_TEXT_BYTES && analyse(sha, bytes).status == ContentStatus::Text;
    kept.then(|| SpanCounts::of(bytes, true))
}

/// One `ls-tree -l` record: `mode type sha size\tpath` (size `-` for a submodule).
fn tree_line(record: &str) -> FileEntry {
    let (meta, path) = record.split_once('\t').expect("a tab before the path");
    let fields: Vec<&str> = meta.split_whitespace().collect();
    let mode = FileMode::parse(fields[0]).expect("a file mode");
    FileEntry {
        path: path.to_string(),
        mode,
        kind: FileKind::from_mode(mode),
        sha: ObjectSha::parse(fields[2]).expect("an object id"),
        size: fields[3].parse().ok(),
    }
}

// ---------------------------------------------------------------------------------------
// States of a tree, and the fast-import stream that commits them.

#[derive(Debug, Clone, PartialEq, Eq)]
struct Blob {
    mode: &'static str,
    /// The bytes; for a submodule, the commit id it points at.
    data: Vec<u8>,
}

type State = BTreeMap<String, Blob>;

fn text(data: impl Into<Vec<u8>>) -> Blob {
    Blob { mode: "100644", data: data.into() }
}

fn exe(data: impl Into<Vec<u8>>) -> Blob {
    Blob { mode: "100755", data: data.into() }
}

fn link(target: &str) -> Blob {
    Blob { mode: "120000", data: target.into() }
}

fn submodule(commit: char) -> Blob {
    Blob { mode: "160000", data: commit.to_string().repeat(40).into_bytes() }
}

fn state(files: Vec<(String, Blob)>) -> State {
    files.into_iter().collect()
}

/// Every distinct blob once, then one commit per state with its whole tree.
fn fast_import_stream(states: &[State]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut marks: HashMap<&[u8], usize> = HashMap::new();
    for blob in states.iter().flat_map(|s| s.values()).filter(|b| b.mode != "160000") {
        if !marks.contains_key(&blob.data[..]) {
            let mark = marks.len() + 1;
            marks.insert(&blob.data, mark);
            write!(out, "blob\nmark :{mark}\ndata {}\n", blob.data.len()).expect("write");
            out.extend_from_slice(&blob.data);
            out.push(b'\n');
        }
    }
    for (i, files) in states.iter().enumerate() {
        write!(out, "commit refs/heads/main\ncommitter T <t@t> {} +0000\ndata 3\nc{:02}\ndeleteall\n", 1_700_000_000 + i, i % 100)
            .expect("write");
        for (path, blob) in files {
            match blob.mode {
                "160000" => writeln!(out, "M 160000 {} {path}", String::from_utf8_lossy(&blob.data)),
                mode => writeln!(out, "M {mode} :{} {path}", marks[&blob.data[..]]),
            }
            .expect("write");
        }
        out.push(b'\n');
    }
    out.extend_from_slice(b"done\n");
    out
}

// ---------------------------------------------------------------------------------------
// Both answers, in one shape.

/// A diff as sets: renames (old, new, similarity), added, removed, modified paths, and
/// whether the rename limit stopped the matrix.
#[derive(Debug, Default, PartialEq, Eq)]
struct Outcome {
    renames: BTreeSet<(String, String, u8)>,
    added: BTreeSet<String>,
    removed: BTreeSet<String>,
    modified: BTreeSet<String>,
    limited: bool,
}

impl Outcome {
    fn inexact(&self) -> usize {
        self.renames.iter().filter(|r| r.2 < 100).count()
    }

    fn similarities(&self) -> BTreeSet<u8> {
        self.renames.iter().map(|r| r.2).collect()
    }

    fn renamed(&self, old: &str, new: &str) -> Option<u8> {
        self.renames.iter().find(|r| r.0 == old && r.1 == new).map(|r| r.2)
    }

    /// What one has that the other has not, both ways, for a failure message.
    fn differences(&self, other: &Outcome) -> String {
        let mut out = String::new();
        let mut side = |label: &str, a: Vec<String>, b: Vec<String>| {
            let (a, b): (BTreeSet<String>, BTreeSet<String>) = (a.into_iter().collect(), b.into_iter().collect());
            for x in a.difference(&b) {
                out += &format!("\n    git only  {label} {x}");
            }
            for x in b.difference(&a) {
                out += &format!("\n    ours only {label} {x}");
            }
        };
        let renames = |o: &Outcome| o.renames.iter().map(|(a, b, s)| format!("{a} -> {b} ({s}%)")).collect();
        side("R", renames(self), renames(other));
        side("A", self.added.iter().cloned().collect(), other.added.iter().cloned().collect());
        side("D", self.removed.iter().cloned().collect(), other.removed.iter().cloned().collect());
        side("M", self.modified.iter().cloned().collect(), other.modified.iter().cloned().collect());
        if self.limited != other.limited {
            out += &format!("\n    limited: git {}, ours {}", self.limited, other.limited);
        }
        out
    }
}

/// git's answer: `git diff -M --raw -z`, with the pairs git scored by bytes that we pair
/// only exactly turned into the removal and addition we report for them (and their count).
fn git_outcome(repo: &Repo, from: &str, to: &str, texts: &HashMap<String, Option<SpanCounts>>) -> (Outcome, usize) {
    let args = ["diff", "--no-ext-diff", "--no-textconv", "-M", "--raw", "-z", "--no-abbrev", from, to];
    let (out, stderr) = repo.git(&args, None);
    let mut outcome = Outcome { limited: stderr.contains("exhaustive rename detection was skipped"), ..Outcome::default() };
    let mut by_bytes = 0;
    let text = String::from_utf8(out).expect("paths are UTF-8");
    let mut tokens = text.split('\0').filter(|t| !t.is_empty());
    while let Some(header) = tokens.next() {
        let fields: Vec<&str> = header.trim_start_matches(':').split(' ').collect();
        let (old_sha, new_sha, status) = (fields[2], fields[3], fields[4]);
        let path = tokens.next().expect("a path").to_string();
        match &status[..1] {
            "A" => outcome.added.insert(path),
            "D" => outcome.removed.insert(path),
            "M" | "T" => outcome.modified.insert(path),
            "R" => {
                let new = tokens.next().expect("a new path").to_string();
                let unkept = |sha: &str| texts.get(sha).is_none_or(Option::is_none);
                if old_sha != new_sha && (unkept(old_sha) || unkept(new_sha)) {
                    by_bytes += 1;
                    outcome.removed.insert(path);
                    outcome.added.insert(new)
                } else {
                    outcome.renames.insert((path, new, status[1..].parse().expect("a score")))
                }
            }
            other => panic!("unexpected status {other} in {header}"),
        };
    }
    (outcome, by_bytes)
}

/// Our answer for the same two trees.
fn our_outcome(held: Vec<FileEntry>, wanted: Vec<FileEntry>, texts: &HashMap<String, Option<SpanCounts>>) -> Outcome {
    let (diff, limited) = diff_similar(held, wanted, |f| texts.get(f.sha.as_str()).cloned().flatten());
    let mut outcome = Outcome { limited, ..Outcome::default() };
    for change in diff.changes {
        match change {
            Change::Added { new } => outcome.added.insert(new.path),
            Change::Removed { old } => outcome.removed.insert(old.path),
            Change::Modified { new, .. } => outcome.modified.insert(new.path),
            Change::Renamed { old, new, similarity } => outcome.renames.insert((old.path, new.path, similarity)),
        };
    }
    let c = diff.counts;
    assert_eq!((c.added, c.removed, c.modified, c.renamed), counts(&outcome), "counts agree with the changes");
    outcome
}

fn counts(o: &Outcome) -> (u64, u64, u64, u64) {
    (o.added.len() as u64, o.removed.len() as u64, o.modified.len() as u64, o.renames.len() as u64)
}

// ---------------------------------------------------------------------------------------
// Cases.

/// A named history and the pairs of its commits to compare; `check` says what the case
/// is for, on git's answer for its first pair, so that a case cannot pass vacuously.
struct Case {
    name: String,
    states: Vec<State>,
    pairs: Vec<(usize, usize)>,
    check: fn(&Outcome),
}

fn case(name: &str, before: State, after: State, check: fn(&Outcome)) -> Case {
    Case { name: name.to_string(), states: vec![before, after], pairs: vec![(0, 1)], check }
}

/// What the comparisons of some cases came to.
#[derive(Debug, Default)]
struct Tally {
    comparisons: usize,
    renames: usize,
    inexact: usize,
    /// git's inexact pairs of blobs whose text we do not keep.
    by_bytes: usize,
    failures: Vec<String>,
}

impl Tally {
    fn run(&mut self, case: &Case) {
        let repo = Repo::new(&case.name.replace(|c: char| !c.is_ascii_alphanumeric(), "-"));
        let commits = repo.commit_all(&case.states);
        let texts = repo.texts();
        let mut trees: HashMap<usize, Vec<FileEntry>> = HashMap::new();
        for (n, &(from, to)) in case.pairs.iter().enumerate() {
            for i in [from, to] {
                trees.entry(i).or_insert_with(|| repo.files(&commits[i]));
            }
            let (git, by_bytes) = git_outcome(&repo, &commits[from], &commits[to], &texts);
            self.by_bytes += by_bytes;
            let ours = our_outcome(trees[&from].clone(), trees[&to].clone(), &texts);
            if n == 0 {
                (case.check)(&git);
            }
            (self.comparisons, self.renames, self.inexact) =
                (self.comparisons + 1, self.renames + git.renames.len(), self.inexact + git.inexact());
            if git != ours {
                self.failures.push(format!("{}: commits {from} -> {to}:{}", case.name, git.differences(&ours)));
            }
        }
    }

    fn finish(self, what: &str, started: std::time::Instant) {
        eprintln!(
            "{what}: {} comparisons, {} renames by git ({} inexact, {} more by bytes), {:?}",
            self.comparisons,
            self.renames,
            self.inexact,
            self.by_bytes,
            started.elapsed()
        );
        assert!(self.failures.is_empty(), "ours differs from git's:\n{}", self.failures.join("\n"));
    }
}

fn run_all(what: &str, cases: &[Case]) {
    let started = std::time::Instant::now();
    let mut tally = Tally::default();
    for case in cases {
        tally.run(case);
    }
    tally.finish(what, started);
}

// ---------------------------------------------------------------------------------------
// Text to commit.

/// A tiny seeded xorshift: reproducible histories without a crate.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// `n` lines of equal length, distinct within `tag` and across tags.
fn lines(tag: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{tag:>6} line {i:04} keeps its place {:08x}\n", (i as u32).wrapping_mul(2_654_435_761))).collect()
}

/// `base` with `k` of its lines, spread evenly, changed into lines of the same length
/// (written backwards: as distinct as the originals).
fn changed(base: &[String], k: usize) -> Vec<String> {
    let mut out = base.to_vec();
    for j in 0..k {
        let i = j * base.len() / k.max(1);
        out[i] = format!("{}\n", out[i].trim_end_matches('\n').chars().rev().collect::<String>());
    }
    out
}

fn join(lines: &[String]) -> String {
    lines.concat()
}

// ---------------------------------------------------------------------------------------
// Table cases.

/// Lines changed out of 200: from none to all, finely around 25 (87.5%), 50 (75%, the
/// basename step's minimum) and 100 (50%, the matrix's minimum).
const CHANGED: [usize; 30] =
    [1, 2, 5, 10, 20, 24, 25, 26, 30, 40, 48, 49, 50, 51, 52, 60, 70, 80, 90, 96, 98, 99, 100, 101, 102, 104, 110, 130, 150, 200];

/// One 200-line file per `CHANGED` count, moved from `from(k)` to `to(k)` with k lines
/// changed; every file's lines are its own, so only its own move can pair it.
fn similarity_case(name: &str, from: fn(usize) -> String, to: fn(usize) -> String) -> Case {
    let (mut before, mut after) = (State::new(), State::new());
    for k in CHANGED {
        let base = lines(&format!("k{k}"), 200);
        before.insert(from(k), text(join(&base)));
        after.insert(to(k), text(join(&changed(&base, k))));
    }
    case(name, before, after, |git| {
        assert!(git.similarities().contains(&50) && git.similarities().contains(&75), "{:?}", git.similarities());
        assert!(git.added.len() >= 4, "the least similar stay apart");
    })
}

fn similarity_cases() -> Vec<Case> {
    vec![
        similarity_case("same directory, new name", |k| format!("d/k{k}.txt"), |k| format!("d/k{k}-moved.txt")),
        similarity_case("other directory, same unique basename", |k| format!("a/k{k}.txt"), |k| format!("b/k{k}.txt")),
        similarity_case("other directory, new name", |k| format!("a/x{k}.txt"), |k| format!("c/deep/y{k}.md")),
        similarity_case("same basename everywhere", |k| format!("p{k:03}/mod.rs"), |k| format!("q{k:03}/mod.rs")),
        similarity_case("same basename, crossing directories", |k| format!("p{k:03}/mod.rs"), |k| format!("q{:03}/mod.rs", 200 - k)),
    ]
}

/// Sizes at git's gates: twice the size scores exactly 50%, a byte more is never scored;
/// a third more passes the basename step's 75% gate, a byte more falls to the matrix.
fn size_cases() -> Vec<Case> {
    let base = join(&lines("sz", 60));
    let mut before = State::new();
    let mut after = State::new();
    before.insert("twice/a.txt".into(), text(base.clone()));
    after.insert("twice/b.txt".into(), text(base.repeat(2)));
    before.insert("over/a.txt".into(), text(base.replace("sz", "so")));
    after.insert("over/b.txt".into(), text(format!("{}x", base.replace("sz", "so").repeat(2))));
    let third = join(&lines("th", 90));
    before.insert("x/third.txt".into(), text(third.clone()));
    after.insert("y/third.txt".into(), text(format!("{third}{}", &third[..third.len() / 3])));
    let more = join(&lines("mo", 90));
    before.insert("x/more.txt".into(), text(more.clone()));
    after.insert("y/more.txt".into(), text(format!("{more}{}!", &more[..more.len() / 3])));
    vec![case("sizes at the gates", before, after, |git| {
        assert_eq!(git.renamed("twice/a.txt", "twice/b.txt"), Some(50));
        assert_eq!(git.renamed("over/a.txt", "over/b.txt"), None);
        assert_eq!(git.renamed("x/third.txt", "y/third.txt"), Some(75));
        assert_eq!(git.renamed("x/more.txt", "y/more.txt"), Some(74));
    })]
}

/// A destination with several candidate sources, a source with several candidate
/// destinations, and ties decided by the same file name and then by path order.
fn candidate_cases() -> Vec<Case> {
    let base = lines("cand", 100);
    let mut cases = Vec::new();
    // Sources at 90, 80, 70 and 60% of one destination: the best wins.
    let (mut before, mut after) = (State::new(), State::new());
    for (name, k) in [("s1", 40), ("s2", 10), ("s3", 30), ("s4", 20)] {
        before.insert(format!("src/{name}.txt"), text(join(&changed(&base, k))));
    }
    after.insert("dst/d.txt".into(), text(join(&base)));
    cases.push(case("one destination, several sources", before, after, |git| assert_eq!(git.renamed("src/s2.txt", "dst/d.txt"), Some(90))));
    // One source, destinations at 90 and 80%: the better takes it, the other is added.
    let (mut before, mut after) = (State::new(), State::new());
    before.insert("src/s.txt".into(), text(join(&base)));
    after.insert("dst/a.txt".into(), text(join(&changed(&base, 20))));
    after.insert("dst/b.txt".into(), text(join(&changed(&base, 10))));
    cases.push(case("one source, several destinations", before, after, |git| assert_eq!(git.renamed("src/s.txt", "dst/b.txt"), Some(90))));
    // Equal scores: two identical sources, one of them named like the destination.
    let (mut before, mut after) = (State::new(), State::new());
    for path in ["a/first.txt", "b/same.txt", "c/zlast.txt"] {
        before.insert(path.into(), text(join(&base)));
    }
    after.insert("d/same.txt".into(), text(join(&changed(&base, 40))));
    after.insert("e/other.txt".into(), text(join(&changed(&base, 40))));
    cases.push(case("equal scores, the same name first", before, after, |git| {
        assert_eq!(git.renamed("b/same.txt", "d/same.txt"), Some(60));
        assert_eq!(git.renamed("a/first.txt", "e/other.txt"), Some(60));
    }));
    // Equal scores, no name in common: destinations in path order take sources in path order.
    let (mut before, mut after) = (State::new(), State::new());
    for path in ["m/one.txt", "m/two.txt"] {
        before.insert(path.into(), text(join(&base)));
    }
    for path in ["n/b.txt", "n/a.txt", "n/c.txt"] {
        after.insert(path.into(), text(join(&changed(&base, 30))));
    }
    cases.push(case("equal scores, path order", before, after, |git| assert_eq!(git.renamed("m/one.txt", "n/a.txt"), Some(70))));
    // Equal scores from five sources: the same name, fifth in path order, still takes a
    // slot (it sorts before a different name) and then the destination.
    let (mut before, mut after) = (State::new(), State::new());
    for path in ["a/s1.txt", "a/s2.txt", "a/s3.txt", "a/s4.txt", "b/same.txt"] {
        before.insert(path.into(), text(join(&base)));
    }
    after.insert("c/same.txt".into(), text(join(&changed(&base, 40))));
    cases.push(case("equal scores, the same name fifth", before, after, |git| {
        assert_eq!(git.renamed("b/same.txt", "c/same.txt"), Some(60))
    }));
    cases.push(five_sources_case());
    cases
}

/// A destination keeps only its four best sources: when other destinations take those
/// four, it is added, although a fifth source it would have reached 50% with is free.
fn five_sources_case() -> Case {
    let base = lines("five", 100);
    let (mut before, mut after) = (State::new(), State::new());
    for (i, k) in [5, 6, 7, 8].into_iter().enumerate() {
        before.insert(format!("old/s{i}.txt"), text(join(&changed(&base, k))));
    }
    // About 76-80% like each of s0..s3, 60% like s4.
    let wide = changed(&base, 20);
    before.insert("old/s4.txt".into(), text(join(&changed(&wide, 40))));
    after.insert("new/wide.txt".into(), text(join(&wide)));
    for i in 0..4 {
        // Each of these is its source exactly plus a little: closer than `wide` is.
        after.insert(format!("new/t{i}.txt"), text(format!("{}tail {i}\n", join(&changed(&base, [5, 6, 7, 8][i])))));
    }
    case("a destination keeps four candidates", before, after, |git| {
        assert!(git.added.contains("new/wide.txt"), "{:?}", git.renames);
        assert!(git.removed.contains("old/s4.txt"));
    })
}

/// The basename step only pairs a file name held by one source and one destination.
fn basename_cases() -> Vec<Case> {
    let (a, b) = (lines("bna", 100), lines("bnb", 100));
    let mut cases = Vec::new();
    // Two sources named util.rs: the step skips it, the matrix pairs by score.
    let (mut before, mut after) = (State::new(), State::new());
    before.insert("x/util.rs".into(), text(join(&a)));
    before.insert("y/util.rs".into(), text(join(&b)));
    after.insert("z/util.rs".into(), text(join(&changed(&b, 40))));
    cases.push(case("basename on two sources", before, after, |git| assert_eq!(git.renamed("y/util.rs", "z/util.rs"), Some(60))));
    // Two destinations named lib.rs.
    let (mut before, mut after) = (State::new(), State::new());
    before.insert("x/lib.rs".into(), text(join(&a)));
    after.insert("y/lib.rs".into(), text(join(&changed(&a, 45))));
    after.insert("z/lib.rs".into(), text(join(&changed(&a, 15))));
    cases.push(case("basename on two destinations", before, after, |git| assert_eq!(git.renamed("x/lib.rs", "z/lib.rs"), Some(85))));
    // A unique basename at 80% wins over a different name at 95%: git's shortcut.
    let (mut before, mut after) = (State::new(), State::new());
    before.insert("x/core.rs".into(), text(join(&a)));
    after.insert("y/core.rs".into(), text(join(&changed(&a, 20))));
    after.insert("y/better.rs".into(), text(join(&changed(&a, 5))));
    cases.push(case("unique basename first", before, after, |git| assert_eq!(git.renamed("x/core.rs", "y/core.rs"), Some(80))));
    // Below 75% the unique basename falls to the matrix, where the better one wins.
    let (mut before, mut after) = (State::new(), State::new());
    before.insert("x/core.rs".into(), text(join(&a)));
    after.insert("y/core.rs".into(), text(join(&changed(&a, 30))));
    after.insert("y/better.rs".into(), text(join(&changed(&a, 20))));
    cases.push(case("unique basename under 75%", before, after, |git| assert_eq!(git.renamed("x/core.rs", "y/better.rs"), Some(80))));
    cases
}

/// Line endings, a last line without a newline, empty files.
fn text_shape_cases() -> Vec<Case> {
    let long = join(&lines("crlf", 80));
    let short: String = (0..200).map(|i| format!("{:03}\n", i)).collect();
    let tiny: String = (0..300).map(|i| format!("{}\n", (b'a' + (i % 26) as u8) as char)).collect();
    let no_newline = join(&lines("nonl", 50));
    let no_newline = no_newline.trim_end_matches('\n').to_string();
    let before = state(vec![
        ("crlf/long.txt".into(), text(long.clone())),
        ("crlf/short.txt".into(), text(short.clone())),
        ("crlf/tiny.txt".into(), text(tiny.clone())),
        ("back/lf.txt".into(), text(long.replace("crlf", "back").replace('\n', "\r\n"))),
        ("end/a.txt".into(), text(no_newline.clone())),
        ("end/b.txt".into(), text(format!("{no_newline}\n").replace("nonl", "nonm"))),
        ("end/c.txt".into(), text(format!("{}{}", join(&lines("nonc", 5)), "x".repeat(60)))),
        ("empty/a".into(), text("")),
        ("empty/gone".into(), text("")),
        ("empty/c".into(), text("")),
    ]);
    let after = state(vec![
        ("crlf/long2.txt".into(), text(long.replace('\n', "\r\n"))),
        ("crlf/short2.txt".into(), text(short.replace('\n', "\r\n"))),
        ("crlf/tiny2.txt".into(), text(tiny.replace('\n', "\r\n"))),
        ("back/lf2.txt".into(), text(long.replace("crlf", "back"))),
        ("end/a2.txt".into(), text(format!("{no_newline}\n"))),
        ("end/b2.txt".into(), text(no_newline.replace("nonl", "nonm"))),
        ("end/c2.txt".into(), text(format!("{}{}", join(&changed(&lines("nonc", 5), 1)), "x".repeat(60)))),
        ("empty/b".into(), text("")),
        ("empty/c".into(), text("now it has text\n")),
        ("empty/new".into(), text("some text\n")),
    ]);
    vec![case("line endings and empty files", before, after, |git| {
        assert_eq!(git.renamed("crlf/tiny.txt", "crlf/tiny2.txt"), Some(66));
        assert_eq!(git.renamed("crlf/short.txt", "crlf/short2.txt"), Some(80));
        assert_eq!(git.renamed("end/c.txt", "end/c2.txt"), Some(84), "the last line counts without its newline");
        assert_eq!(git.renamed("empty/a", "empty/b"), Some(100));
        assert!(git.modified.contains("empty/c"));
    })]
}

/// Blobs whose text the service does not keep: git pairs them by bytes, we only exactly.
fn unkept_cases() -> Vec<Case> {
    let mut binary: Vec<u8> = (0..4000u32).map(|i| (i.wrapping_mul(7919) % 251) as u8).collect();
    binary[10] = 0;
    let mut binary2 = binary.clone();
    binary2[2000..2100].fill(b'z');
    let latin1: Vec<u8> = join(&lines("latin", 50)).bytes().map(|b| if b == b'k' { 0xE9 } else { b }).collect();
    let mut latin2 = latin1.clone();
    latin2.extend_from_slice(b"one more line\n");
    let lfs = |oid: &str| format!("version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 12345\n");
    let huge = join(&lines("huge", 30_000));
    assert!(huge.len() as u64 > DEFAULT_MAX_TEXT_BYTES);
    let before = state(vec![
        ("bin/a.bin".into(), text(binary.clone())),
        ("bin/same.bin".into(), text(binary.clone())),
        ("latin/a.txt".into(), text(latin1)),
        ("lfs/a.psd".into(), text(lfs(&"4d7a2146".repeat(8)))),
        ("lfs/same.psd".into(), text(lfs(&"5e8b3257".repeat(8)))),
        ("huge/a.txt".into(), text(huge.clone())),
    ]);
    let after = state(vec![
        ("bin2/b.bin".into(), text(binary2)),
        ("bin2/moved.bin".into(), text(binary)),
        ("latin2/b.txt".into(), text(latin2)),
        ("lfs2/b.psd".into(), text(lfs(&format!("{}{}", "4d7a2146".repeat(6), "00000000".repeat(2))))),
        ("lfs2/same.psd".into(), text(lfs(&"5e8b3257".repeat(8)))),
        ("huge2/b.txt".into(), text(format!("{huge}one more line\n"))),
    ]);
    vec![case("binary, not UTF-8, LFS pointer, too large", before, after, |git| {
        assert_eq!(git.renamed("bin/a.bin", "bin2/moved.bin"), Some(100), "identical: path order");
        assert_eq!(git.renamed("lfs/same.psd", "lfs2/same.psd"), Some(100));
        assert!(git.added.contains("huge2/b.txt") && git.added.contains("bin2/b.bin"), "{:?}", git.added);
    })]
}

/// Symlinks, submodules and the executable bit alongside renames.
fn mode_cases() -> Vec<Case> {
    let body = lines("mode", 60);
    let other = lines("type", 60);
    let before = state(vec![
        ("run/script.sh".into(), text(join(&body))),
        ("run/tool".into(), exe(join(&other))),
        ("links/to-readme".into(), link("../README.md")),
        ("links/edited".into(), link("../docs/guide/chapter-one.md")),
        ("was-file".into(), text(join(&lines("typechange", 40)))),
        ("vendor/lib".into(), submodule('a')),
        ("vendor/old".into(), submodule('b')),
    ]);
    let after = state(vec![
        ("bin/script.sh".into(), exe(join(&changed(&body, 10)))),
        ("bin/tool".into(), text(join(&changed(&other, 5)))),
        ("other/to-readme".into(), link("../README.md")),
        ("other/edited".into(), link("../docs/guide/chapter-two.md")),
        ("was-file".into(), link("somewhere/else")),
        ("kept-content".into(), text(join(&lines("typechange", 40)))),
        ("third_party/lib".into(), submodule('a')),
        ("third_party/old".into(), submodule('c')),
    ]);
    vec![case("symlinks, submodules, executable bits", before, after, |git| {
        assert_eq!(git.renamed("run/script.sh", "bin/script.sh"), Some(83));
        assert_eq!(git.renamed("links/to-readme", "other/to-readme"), Some(100));
        assert_eq!(git.renamed("vendor/lib", "third_party/lib"), Some(100));
        assert!(git.modified.contains("was-file") && git.added.contains("other/edited"));
    })]
}

/// git's exact pairing looks at no more than 100 free sources of one blob per destination.
fn identical_sources_case() -> Case {
    let before = state((0..150).map(|i| (format!("a/{i:03}"), text(""))).collect());
    let after = state(vec![("b/149".into(), text("")), ("b/010".into(), text(""))]);
    case("150 identical sources", before, after, |git| {
        assert_eq!(git.renamed("a/010", "b/010"), Some(100));
        assert_eq!(git.renamed("a/000", "b/149"), Some(100), "the same name is past the hundredth");
    })
}

/// Identical sources without a name in common pair in path order, except when git's hash
/// table of sources grows as the last one goes in (205 or 3277 removed paths, ...):
/// growing reverses the chain it walks, so the last source goes first.
fn table_growth_case(removed: usize) -> Case {
    let mut before = state((2..removed).map(|i| (format!("o/z{i:05}"), text(format!("unique {i}\n")))).collect());
    before.insert("o/a1".into(), text("same\n"));
    before.insert("o/a2".into(), text("same\n"));
    let after = state(vec![("n/b1".into(), text("same\n")), ("n/b2".into(), text("same\n"))]);
    let check: fn(&Outcome) = match removed {
        205 | 3277 => |git| assert_eq!(git.renamed("o/a2", "n/b1"), Some(100)),
        _ => |git| assert_eq!(git.renamed("o/a1", "n/b1"), Some(100)),
    };
    case(&format!("{removed} removed paths"), before, after, check)
}

#[test]
fn table_cases_equal_git() {
    let mut cases = similarity_cases();
    cases.extend(size_cases());
    cases.extend(candidate_cases());
    cases.extend(basename_cases());
    cases.extend(text_shape_cases());
    cases.extend(unkept_cases());
    cases.extend(mode_cases());
    run_all("table cases", &cases);
}

#[test]
fn exact_pairing_of_many_identical_blobs_equals_git() {
    let mut cases = vec![identical_sources_case()];
    cases.extend([204, 205, 206, 3276, 3277, 3278].map(table_growth_case));
    run_all("exact pairing", &cases);
}

// ---------------------------------------------------------------------------------------
// The rename limit.

/// `removed` files moved to `added` new names with one line of four changed (75%), every
/// name distinct, plus `by_name` pairs that keep their unique file name.
fn limit_case(name: &str, removed: usize, added: usize, by_name: usize, check: fn(&Outcome)) -> Case {
    let body = |i: usize, last: &str| format!("alpha {i}\nbeta {i}\ngamma {i}\n{last} {i}\n");
    let mut before = state((0..removed).map(|i| (format!("old/r{i:04}.txt"), text(body(i, "delta")))).collect());
    let mut after = state((0..added).map(|i| (format!("new/n{i:04}.txt"), text(body(i, "omega")))).collect());
    for i in 0..by_name {
        before.insert(format!("old/keep{i}.txt"), text(format!("{}{}", body(i + 5000, "delta"), body(i + 5000, "theta"))));
        after.insert(format!("new/keep{i}.txt"), text(format!("{}{}", body(i + 5000, "delta"), body(i + 5000, "kappa"))));
    }
    case(name, before, after, check)
}

#[test]
fn the_rename_limit_equals_git() {
    let cases = vec![
        limit_case("1000 by 1000: the matrix runs", 1000, 1000, 0, |git| {
            assert!(!git.limited && git.inexact() == 1000, "{}", git.inexact())
        }),
        limit_case("1001 by 1000: skipped", 1001, 1000, 0, |git| assert!(git.limited && git.renames.is_empty())),
        limit_case("1001 by 1001 after two by name", 1003, 1003, 2, |git| {
            assert!(git.limited);
            assert_eq!(git.renames.len(), 2, "the basename step is not limited");
        }),
    ];
    run_all("rename limit", &cases);
}

// ---------------------------------------------------------------------------------------
// Random histories.

const DIRS: [&str; 6] = ["", "src/", "src/net/", "docs/", "lib/util/", "tests/"];
/// File names that several directories hold, as real trees do.
const SHARED_NAMES: [&str; 6] = ["mod.rs", "lib.rs", "README.md", "index.js", "util.py", "config.toml"];
const WORDS: [&str; 24] = [
    "let", "fn", "return", "value", "index", "path", "file", "sync", "rename", "score", "match", "self", "count", "text", "line", "tree",
    "blob", "commit", "state", "error", "Some", "None", "Ok", "=>",
];
/// Lines that many files share (and so many span counts), as braces and blanks do.
const COMMON: [&str; 5] = ["}\n", "\n", "    return None;\n", "use std::io;\n", "        }\n"];

/// A tree edited at random, one commit's worth at a time.
struct History {
    rng: Rng,
    state: State,
    names: usize,
}

impl History {
    fn new(seed: u64) -> History {
        let mut h = History { rng: Rng::new(seed), state: State::new(), names: 0 };
        for _ in 0..70 + h.rng.below(40) {
            let path = h.fresh_path(None);
            let body = h.random_text();
            h.state.insert(path, text(body));
        }
        h
    }

    fn line(&mut self) -> String {
        if self.rng.chance(15) {
            return self.rng.pick(&COMMON).to_string();
        }
        let words: Vec<&str> = (0..2 + self.rng.below(8)).map(|_| *self.rng.pick(&WORDS)).collect();
        format!("{}{}\n", "    ".repeat(self.rng.below(3)), words.join(" "))
    }

    fn random_text(&mut self) -> String {
        (0..3 + self.rng.below(120)).map(|_| self.line()).collect()
    }

    /// A path no file holds, in a random directory, named `name` or else a new or a shared name.
    fn fresh_path(&mut self, name: Option<&str>) -> String {
        loop {
            let dir = *self.rng.pick(&DIRS);
            let path = match name {
                Some(n) => format!("{dir}{n}"),
                None if self.rng.chance(20) => format!("{dir}{}", self.rng.pick(&SHARED_NAMES)),
                None => {
                    self.names += 1;
                    format!("{dir}f{}.{}", self.names, self.rng.pick(&["rs", "md", "txt"]))
                }
            };
            if !self.state.contains_key(&path) {
                return path;
            }
            if name.is_some() && self.rng.chance(30) {
                return self.fresh_path(None);
            }
        }
    }

    /// Some lines replaced, inserted or deleted: from a touch to most of the text.
    fn edit(&mut self, data: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(data);
        let mut lines: Vec<String> = text.split_inclusive('\n').map(String::from).collect();
        let percent = *self.rng.pick(&[5, 20, 40, 60]);
        let edits = 1 + self.rng.below(1 + lines.len() * percent / 100);
        for _ in 0..edits {
            let at = self.rng.below(lines.len() + 1);
            match self.rng.below(3) {
                0 if at < lines.len() => lines[at] = self.line(),
                1 if at < lines.len() => drop(lines.remove(at)),
                _ => {
                    let line = self.line();
                    lines.insert(at, line)
                }
            }
        }
        lines.concat().into_bytes()
    }

    fn any_path(&mut self, mode: &str) -> Option<String> {
        let paths: Vec<&String> = self.state.iter().filter(|(_, b)| b.mode == mode).map(|(p, _)| p).collect();
        (!paths.is_empty()).then(|| paths[self.rng.below(paths.len())].clone())
    }

    /// A file moved: to another directory under its name, or renamed; maybe edited.
    fn move_file(&mut self, edit: bool) {
        let mode = if self.rng.chance(50) { "100644" } else { "100755" };
        let Some(from) = self.any_path(mode).or_else(|| self.any_path("100644")) else {
            return;
        };
        let mut blob = self.state.remove(&from).expect("present");
        let name = from.rsplit('/').next().expect("a name").to_string();
        let keep_name = self.rng.chance(50);
        let to = self.fresh_path(keep_name.then_some(&name[..]));
        if edit {
            blob.data = self.edit(&blob.data);
        }
        self.state.insert(to, blob);
    }

    fn step(&mut self) {
        for _ in 0..1 + self.rng.below(7) {
            match self.rng.below(100) {
                _ if self.state.len() > 150 => self.remove(),
                _ if self.state.len() < 50 => self.add(),
                0..=24 => self.edit_in_place(),
                25..=44 => self.move_file(true),
                45..=54 => self.move_file(false),
                55..=62 => self.remove(),
                63..=72 => self.add(),
                73..=80 => self.copy(),
                81..=84 => self.chmod(),
                85..=87 => self.line_endings(),
                88..=91 => self.symlink(),
                92..=95 => self.binary(),
                _ => self.resize(),
            }
        }
    }
}

impl History {
    fn edit_in_place(&mut self) {
        if let Some(path) = self.any_path("100644") {
            let data = self.edit(&self.state[&path].data.clone());
            self.state.get_mut(&path).expect("present").data = data;
        }
    }

    fn remove(&mut self) {
        let paths: Vec<String> = self.state.keys().cloned().collect();
        let path = self.rng.pick(&paths).clone();
        self.state.remove(&path);
    }

    fn add(&mut self) {
        let path = self.fresh_path(None);
        let body = self.random_text();
        self.state.insert(path, text(body));
    }

    /// Another file's content at a new path, maybe edited: a source for two destinations.
    fn copy(&mut self) {
        if let Some(from) = self.any_path("100644") {
            let mut data = self.state[&from].data.clone();
            if self.rng.chance(60) {
                data = self.edit(&data);
            }
            let to = self.fresh_path(None);
            self.state.insert(to, text(data));
        }
    }

    fn chmod(&mut self) {
        let mode = if self.rng.chance(70) { "100644" } else { "100755" };
        if let Some(path) = self.any_path(mode) {
            let blob = self.state.get_mut(&path).expect("present");
            blob.mode = if blob.mode == "100644" { "100755" } else { "100644" };
        }
    }

    /// A text turned to CRLF or back, maybe moved too.
    fn line_endings(&mut self) {
        if let Some(path) = self.any_path("100644") {
            let blob = self.state.get_mut(&path).expect("present");
            let text = String::from_utf8_lossy(&blob.data).into_owned();
            blob.data = if text.contains("\r\n") { text.replace("\r\n", "\n") } else { text.replace('\n', "\r\n") }.into_bytes();
            if self.rng.chance(50) {
                let blob = self.state.remove(&path).expect("present");
                let to = self.fresh_path(None);
                self.state.insert(to, blob);
            }
        }
    }

    /// A symlink added, moved, or pointed elsewhere.
    fn symlink(&mut self) {
        match (self.any_path("120000"), self.rng.below(3)) {
            (Some(path), 0) => {
                let blob = self.state.remove(&path).expect("present");
                let to = self.fresh_path(None);
                self.state.insert(to, blob);
            }
            (Some(path), 1) => self.state.get_mut(&path).expect("present").data.extend_from_slice(b"/more"),
            _ => {
                let (to, target) = (self.fresh_path(None), format!("../target/{}", self.rng.below(1000)));
                self.state.insert(to, link(&target));
            }
        }
    }

    /// A binary file added, or one moved with a few bytes changed (git pairs it by bytes).
    fn binary(&mut self) {
        let existing: Vec<String> = self.state.iter().filter(|(_, b)| b.data.contains(&0)).map(|(p, _)| p.clone()).collect();
        if existing.is_empty() || self.rng.chance(40) {
            let data: Vec<u8> = (0..200 + self.rng.below(3000)).map(|_| self.rng.below(256) as u8).collect();
            let to = self.fresh_path(None);
            self.state.insert(to, text(data));
            return;
        }
        let from = self.rng.pick(&existing).clone();
        let mut blob = self.state.remove(&from).expect("present");
        for _ in 0..1 + self.rng.below(4) {
            let at = self.rng.below(blob.data.len());
            blob.data[at] = blob.data[at].wrapping_add(1);
        }
        let to = self.fresh_path(None);
        self.state.insert(to, blob);
    }

    /// A file emptied, doubled or halved: sizes at and past git's gates.
    fn resize(&mut self) {
        let Some(path) = self.any_path("100644") else { return };
        let blob = self.state.get_mut(&path).expect("present");
        blob.data = match self.rng.below(3) {
            0 => Vec::new(),
            1 => blob.data.repeat(2),
            _ => blob.data[..blob.data.len() / 2].to_vec(),
        };
        if self.rng.chance(70) {
            let blob = self.state.remove(&path).expect("present");
            let to = self.fresh_path(None);
            self.state.insert(to, blob);
        }
    }
}

/// A seeded history of `commits` states, compared commit to commit, and across a few
/// larger spans both ways.
fn history_case(seed: u64, commits: usize) -> Case {
    let mut history = History::new(seed);
    let mut states = vec![history.state.clone()];
    for _ in 1..commits {
        history.step();
        states.push(history.state.clone());
    }
    let last = commits - 1;
    let mut pairs: Vec<(usize, usize)> = (0..last).map(|i| (i, i + 1)).collect();
    pairs.extend((0..last - 5).step_by(7).map(|i| (i, i + 5)));
    pairs.extend([(0, last), (last, 0), (last / 2, last), (last, last / 3)]);
    Case { name: format!("history {seed}"), states, pairs, check: |_| {} }
}

#[test]
fn random_histories_equal_git() {
    let cases: Vec<Case> = (1..=12).map(|seed| history_case(seed, 50)).collect();
    run_all("random histories", &cases);
}
