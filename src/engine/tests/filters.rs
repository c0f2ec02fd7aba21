//! Path filters and dry runs: pruned walks (first, incremental, truncated), filter changes
//! that remove and add without pairing renames, restores across a change, and dry runs
//! that write nothing but their changes.

use super::*;
use crate::diff::Change;
use crate::pathfilter::PathFilter;

fn filter(include: &[&str], exclude: &[&str]) -> PathFilter {
    PathFilter::parse(include, exclude).unwrap()
}

fn admitted(files: &[TreeFile], f: &PathFilter) -> Vec<(String, String)> {
    let kept: Vec<TreeFile> = files.iter().filter(|t| f.admits(&t.path)).cloned().collect();
    expect(&kept)
}

/// A repository with a large directory the filters below leave out.
fn repo(n: u32) -> Vec<TreeFile> {
    let mut files = vec![file("README.md", n), file("src/lib.rs", n + 1), file("src/a/b.rs", n + 2), file("docs/guide.md", n + 3)];
    files.extend((0..40).map(|i| file(&format!("vendor/pkg{}/f{i}.js", i % 4), 1000 + i)));
    files.push(file("src/vendor/inner.js", n + 4));
    files
}

fn listed_under(w: &World, dir: &str) -> Vec<(String, bool)> {
    w.gh.listed.borrow().iter().filter(|(p, _)| p == dir || p.starts_with(&format!("{dir}/"))).cloned().collect()
}

fn run_ok(w: &World) -> Job {
    let mut job = w.job(None);
    let events = w.run(&mut job);
    check_events(&events, SyncStatus::Complete);
    job
}

#[test]
fn an_excluded_directory_is_never_listed_and_nothing_of_it_is_held() {
    for (include, exclude) in [(vec![], vec!["/vendor/"]), (vec![], vec!["vendor/"]), (vec!["/src/", "/*.md", "/docs/"], vec![])] {
        let w = World::new();
        let files = repo(1);
        w.push("main", &sha(100), files.clone());
        let f = filter(&include, &exclude);
        *w.filter.borrow_mut() = f.clone();
        let first = run_ok(&w);
        assert_eq!(w.active(), admitted(&files, &f), "{include:?}/{exclude:?}");
        assert!(listed_under(&w, "vendor").is_empty(), "vendor listed: {:?}", w.gh.listed.borrow());
        assert_eq!(w.gh.listed.borrow()[0], (String::new(), false), "the root is listed one level deep");
        assert_eq!(first.counts.added, admitted(&files, &f).len() as u64);
        assert!(first.message.contains("Synced"), "{}", first.message);

        // The next sync changes vendor and src: only src is listed again.
        let mut next = repo(1);
        next[1] = file("src/lib.rs", 77);
        next[6] = file("vendor/pkg2/f2.js", 78);
        w.push("main", &sha(101), next.clone());
        w.gh.listed.borrow_mut().clear();
        let second = run_ok(&w);
        assert_eq!(w.active(), admitted(&next, &f));
        assert!(listed_under(&w, "vendor").is_empty(), "vendor listed: {:?}", w.gh.listed.borrow());
        assert_eq!(counts(&second).1, 1, "src/lib.rs modified");
    }
}

#[test]
fn a_truncated_listing_is_relisted_without_the_excluded_directory() {
    let w = World::new();
    let mut files = repo(1);
    files.extend((0..30).map(|i| file(&format!("src/m{}/x{i}.rs", i % 3), 2000 + i)));
    w.push("main", &sha(100), files.clone());
    w.gh.max_recursive.set(10);
    let f = filter(&[], &["/vendor/"]);
    *w.filter.borrow_mut() = f.clone();
    run_ok(&w);
    assert_eq!(w.active(), admitted(&files, &f));
    assert!(listed_under(&w, "vendor").is_empty(), "{:?}", w.gh.listed.borrow());
}

#[test]
fn a_filter_change_removes_and_adds_and_pairs_no_renames() {
    let w = World::new();
    // Two directories with identical files: a rename candidate for every path.
    let files = vec![file("a/x.txt", 1), file("a/y.txt", 2), file("b/x.txt", 1), file("b/y.txt", 2), file("keep.md", 3)];
    w.push("main", &sha(100), files.clone());
    let before = filter(&[], &["/b/"]);
    *w.filter.borrow_mut() = before.clone();
    let first = run_ok(&w);
    assert_eq!(w.active(), admitted(&files, &before));

    // Same commit, new filter: listed again (the unchanged-head shortcut does not apply).
    let after = filter(&[], &["/a/"]);
    *w.filter.borrow_mut() = after.clone();
    let tree_requests = w.gh.tree_requests.get();
    let second = run_ok(&w);
    assert!(w.gh.tree_requests.get() > tree_requests, "the tree is listed again");
    assert_eq!(w.active(), admitted(&files, &after));
    assert_eq!(counts(&second), (2, 0, 2, 0, 1), "two added, two removed, no renames");
    let staged = w.store.applied.borrow()[second.sync_id.as_str()].clone();
    assert!(staged.values().all(|c| !matches!(c, Change::Renamed { .. })), "{staged:?}");
    assert_eq!(second.base_filter, Some(before.clone()));

    // A restore brings the first state back with the first filter; the next sync, under
    // the project's filter, takes it away again.
    *w.filter.borrow_mut() = before.clone();
    let mut restore = w.job(Some((first.sync_id.clone(), 1, Some(sha(100)))));
    check_events(&w.run(&mut restore), SyncStatus::Complete);
    assert_eq!(w.active(), admitted(&files, &before));
    *w.filter.borrow_mut() = after.clone();
    let fourth = run_ok(&w);
    assert_eq!(w.active(), admitted(&files, &after));
    assert_eq!(counts(&fourth), (2, 0, 2, 0, 1));
    // History is kept: each sync's state is as it was.
    assert_eq!(w.store.visible_at(1).into_iter().map(|f| f.path).collect::<Vec<_>>(), ["a/x.txt", "a/y.txt", "keep.md"]);
    assert_eq!(w.store.visible_at(2).into_iter().map(|f| f.path).collect::<Vec<_>>(), ["b/x.txt", "b/y.txt", "keep.md"]);
}

#[test]
fn a_dry_run_writes_only_its_changes() {
    let w = World::new();
    let v1 = repo(1);
    w.push("main", &sha(100), v1.clone());
    run_ok(&w);
    let versions = w.store.versions.borrow().len();
    let head = w.store.head.borrow().clone();
    let blob_puts = w.store.blob_puts.get();

    let mut v2 = v1.clone();
    v2[0] = file("README.md", 50);
    v2.push(file("new.txt", 51));
    w.push("main", &sha(101), v2.clone());
    w.dry_run.set(true);
    *w.filter.borrow_mut() = filter(&[], &["/vendor/"]);
    let mut dry = w.job(None);
    check_events(&w.run(&mut dry), SyncStatus::Complete);
    assert!(dry.message.starts_with("Dry run"), "{}", dry.message);
    assert_eq!(w.store.versions.borrow().len(), versions, "no version written");
    assert_eq!(*w.store.head.borrow(), head, "the chain did not move");
    assert_eq!(w.store.blob_puts.get(), blob_puts, "no content read or stored");
    assert_eq!(w.gh.blob_requests.get() + w.gh.tarball_requests.get(), 1, "only the first sync's content");
    let preview = w.store.previews.borrow()[dry.sync_id.as_str()].clone();
    // What the real sync then does is exactly what the dry run said.
    w.dry_run.set(false);
    let real = run_ok(&w);
    assert_eq!(w.store.applied.borrow()[real.sync_id.as_str()], preview);
    assert_eq!(counts(&real), counts(&dry));
    assert_eq!(counts(&dry), (1, 1, 40, 0, 4), "new.txt added, README modified, vendor's 40 files filtered out");

    // A dry run of an unchanged head lists nothing.
    w.dry_run.set(true);
    let trees = w.gh.tree_requests.get();
    let mut idle = w.job(None);
    check_events(&w.run(&mut idle), SyncStatus::Complete);
    assert_eq!(w.gh.tree_requests.get(), trees);
    assert_eq!(counts(&idle), (0, 0, 0, 0, 6));
}
