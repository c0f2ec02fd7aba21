//! A first sync whose tree walk has many subtrees left reads them from the tarball, keeping
//! those whose built tree id is the listed one and listing the rest.

use super::*;

/// A big directory, then `packages` small ones under `pkgs/` (5 entries each): a recursive
/// listing cut at 30 entries leaves most packages to be listed one by one.
fn monorepo(packages: u32) -> Vec<TreeFile> {
    let mut files: Vec<TreeFile> = (0..40).map(|i| file(&format!("a-big/f{i:02}"), i)).collect();
    for p in 0..packages {
        for i in 0..3 {
            files.push(file(&format!("pkgs/p{p:02}/src/f{i}"), 1_000 + p * 10 + i));
        }
    }
    files
}

fn first_sync(w: &World, files: &[TreeFile]) -> Job {
    w.push("main", &sha(100), files.to_vec());
    w.gh.max_recursive.set(30);
    let mut job = w.job(None);
    w.run(&mut job);
    assert_eq!(job.status, SyncStatus::Complete, "{:?}", job.error);
    assert_eq!(w.active(), expect(files));
    assert_eq!(counts(&job), (files.len() as u64, 0, 0, 0, 0));
    job
}

#[test]
fn many_subtrees_left_to_list_are_read_from_the_tarball() {
    let w = World::new();
    let files = monorepo(40);
    first_sync(&w, &files);
    // The root (recursive, cut; then one level), pkgs (recursive, cut; then one level):
    // the 34 packages and a-big left are proven from one tarball, read again for contents.
    assert_eq!(w.gh.tree_requests.get(), 4, "{:?}", w.gh.listed.borrow());
    assert_eq!(w.gh.tarball_requests.get(), 2);
}

#[test]
fn subtrees_the_tarball_does_not_prove_are_listed() {
    let w = World::new();
    let mut files = monorepo(40);
    // export-subst and export-ignore change what the archive holds of p30 and p31; p33
    // holds a symlink (the archive's link entries are not read); p32's executable is proven.
    w.gh.archived.borrow_mut().insert("pkgs/p30/src/f1".into(), Some(b"substituted\n".to_vec()));
    w.gh.archived.borrow_mut().insert("pkgs/p31/src/f0".into(), None);
    let at = |files: &[TreeFile], path: &str| files.iter().position(|f| f.path == path).unwrap();
    let exe = at(&files, "pkgs/p32/src/f0");
    files[exe].mode = FileMode::Executable;
    let link = at(&files, "pkgs/p33/src/f2");
    files[link].mode = FileMode::Symlink;
    first_sync(&w, &files);
    let listed = w.gh.listed.borrow();
    let mut one_by_one: Vec<(&str, bool)> = listed.iter().skip(4).map(|(dir, recursive)| (dir.as_str(), *recursive)).collect();
    one_by_one.sort();
    assert_eq!(one_by_one, [("pkgs/p30", true), ("pkgs/p31", true), ("pkgs/p33", true)]);
}

#[test]
fn a_later_sync_lists_only_what_changed_never_the_tarball() {
    let w = World::new();
    let mut files = monorepo(40);
    first_sync(&w, &files);
    let tarballs = w.gh.tarball_requests.get();
    for p in 0..40 {
        let i = files.iter().position(|f| f.path == format!("pkgs/p{p:02}/src/f0")).unwrap();
        files[i] = file(&files[i].path.clone(), 5_000 + p);
    }
    w.push("main", &sha(101), files.clone());
    let mut job = w.job(None);
    w.run(&mut job);
    assert_eq!(job.status, SyncStatus::Complete, "{:?}", job.error);
    assert_eq!(w.active(), expect(&files));
    assert_eq!(w.gh.tarball_requests.get() - tarballs, 1, "one for contents, none for the listing");
}

#[test]
fn a_tarball_step_the_runtime_stopped_is_not_tried_again_the_subtrees_are_listed() {
    let w = World::new();
    let files = monorepo(40);
    w.push("main", &sha(100), files.clone());
    w.gh.max_recursive.set(30);
    let mut job = w.job(None);
    // As if the runtime had stopped the step once (CPU, memory) before it ended.
    w.run_with(&mut job, |_, job, _| {
        if matches!(job.phase, crate::engine::Phase::ListTarball { .. }) {
            job.step_attempts = 2;
        }
    });
    assert_eq!(job.status, SyncStatus::Complete, "{:?}", job.error);
    assert_eq!(w.active(), expect(&files));
    assert_eq!(w.gh.tarball_requests.get(), 1, "the tarball is read for contents only");
    assert!(w.gh.tree_requests.get() > 30, "the packages are listed one by one: {}", w.gh.tree_requests.get());
}

#[test]
fn a_tarball_known_to_be_large_is_not_read_to_save_a_few_requests() {
    let w = World::new();
    let mut files = monorepo(40);
    // a-big lists 40 files of 50 MiB each (listed sizes; their contents are never read):
    // the 29 in the root's cut answer already make the archive far larger than the
    // requests it would save are worth.
    for f in files.iter_mut().filter(|f| f.path.starts_with("a-big/")) {
        f.size = Some(50 << 20);
    }
    first_sync(&w, &files);
    assert!(w.gh.tree_requests.get() > 30, "the packages are listed one by one: {}", w.gh.tree_requests.get());
    assert_eq!(w.gh.tarball_requests.get(), 0, "nor is it read for the 120 small contents");
}
