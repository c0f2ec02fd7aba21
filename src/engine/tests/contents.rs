//! Contents: which blobs are read, how (blobs or a tarball), and that what is kept is
//! exactly each blob's bytes, whatever the tarball holds.

use super::*;
use crate::content::ContentStatus;
use crate::domain::FileKind;

/// The text kept for a blob, if any.
fn kept(w: &World, sha: &CommitSha) -> Option<Vec<u8>> {
    let stored = w.store.blobs.borrow();
    let b = stored.get(&("acme/widgets".to_string(), sha.to_string()))?;
    Some(b.chunks.iter().map(|c| c.text.as_str()).collect::<String>().into_bytes())
}

#[test]
fn contents_are_read_once_by_the_cheaper_path() {
    let w = World::new();
    // Few changed files: one blob request each (distinct blobs only).
    let small = vec![file("a.txt", 1), file("b.txt", 2), file("copy-of-a.txt", 1), sized("big.bin", 3, 5_000)];
    w.push("main", &sha(100), small);
    let mut first = w.job(None);
    w.run(&mut first);
    assert_eq!(first.status, SyncStatus::Complete, "{:?}", first.error);
    assert_eq!(w.gh.blob_requests.get(), 2, "two distinct small blobs; the 5,000-byte file is over the limit");
    assert_eq!(w.gh.tarball_requests.get(), 0);
    assert_eq!(w.store.blobs.borrow().len(), 2);

    // Many new files: one tarball instead of 80 requests.
    let many: Vec<TreeFile> = (0..80).map(|i| file(&format!("dir/f{i:02}.txt"), 200 + i)).collect();
    w.push("main", &sha(101), many.clone());
    let mut second = w.job(None);
    w.run(&mut second);
    assert_eq!(second.status, SyncStatus::Complete, "{:?}", second.error);
    assert_eq!((w.gh.blob_requests.get(), w.gh.tarball_requests.get()), (2, 1));
    for f in &many {
        assert_eq!(kept(&w, &f.sha).expect("content stored"), w.gh.content(f.sha.as_str()));
    }

    // One changed file: one blob request; a file whose blob we already hold: none.
    let mut next = many.clone();
    next[0] = file("dir/f00.txt", 999);
    next[1] = file("dir/f01.txt", 1);
    w.push("main", &sha(102), next);
    let mut third = w.job(None);
    w.run(&mut third);
    assert_eq!((w.gh.blob_requests.get(), w.gh.tarball_requests.get()), (3, 1));
    assert_eq!(third.counts.modified, 2);
}

#[test]
fn lfs_pointers_binaries_and_restores() {
    let w = World::new();
    let pointer = b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n";
    let model = with_content("model.bin", pointer.to_vec());
    let logo = with_content("logo.png", b"\x89PNG\x00\x00".to_vec());
    let text = file("a.txt", 9);
    w.push("main", &sha(100), vec![model.clone(), logo.clone(), text.clone()]);
    let mut first = w.job(None);
    w.run(&mut first);
    let kinds: Vec<(String, FileKind)> = w.store.active().into_iter().map(|f| (f.path, f.kind)).collect();
    assert!(kinds.contains(&("model.bin".into(), FileKind::LfsPointer)));
    assert!(kinds.contains(&("logo.png".into(), FileKind::File)));
    let status = |f: &TreeFile| w.store.blobs.borrow().get(&("acme/widgets".to_string(), f.sha.to_string())).map(|b| b.status);
    assert_eq!(status(&model), Some(ContentStatus::LfsPointer));
    assert_eq!(status(&logo), Some(ContentStatus::Binary));
    assert_eq!(status(&text), Some(ContentStatus::Text));

    w.push("main", &sha(101), vec![file("a.txt", 10)]);
    let mut second = w.job(None);
    w.run(&mut second);
    let before = w.gh.blob_requests.get();
    let mut restore = w.job(Some((first.sync_id.clone(), 1, Some(sha(100)))));
    w.run(&mut restore);
    assert_eq!(restore.status, SyncStatus::Complete, "{:?}", restore.error);
    assert_eq!(w.gh.blob_requests.get(), before, "a restore reads nothing from GitHub");
    assert!(w.store.active().iter().any(|f| f.path == "model.bin" && f.kind == FileKind::LfsPointer));
}

/// Defect 3: tarball bytes were trusted as blob bytes. `.gitattributes` makes the archive
/// differ from the blobs: `eol=crlf` (other size), `export-subst` (same size, other bytes),
/// `export-ignore` (missing), and LFS archives carry the large object for a pointer.
#[test]
fn tarball_bytes_are_kept_only_when_they_are_the_blob() {
    let w = World::new();
    let mut files: Vec<TreeFile> = (0..60).map(|i| file(&format!("src/f{i:02}.rs"), 300 + i)).collect();
    let crlf = with_content("docs/crlf.txt", b"one\ntwo\n".to_vec());
    let subst = with_content("VERSION", b"$Format:%h$\n".to_vec());
    let ignored = with_content("build/ignored.txt", b"left out of archives\n".to_vec());
    let pointer = with_content(
        "model.bin",
        b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 4096\n".to_vec(),
    );
    files.extend([crlf.clone(), subst.clone(), ignored.clone(), pointer.clone()]);
    w.push("main", &sha(100), files.clone());
    {
        let mut archived = w.gh.archived.borrow_mut();
        archived.insert(crlf.path.clone(), Some(b"one\r\ntwo\r\n".to_vec()));
        archived.insert(subst.path.clone(), Some(b"a1b2c3d4e5f\n".to_vec())); // as long as "$Format:%h$\n"
        archived.insert(ignored.path.clone(), None);
        archived.insert(pointer.path.clone(), Some(vec![0u8; 4096])); // the LFS object itself
    }
    let mut job = w.job(None);
    w.run(&mut job);
    assert_eq!(job.status, SyncStatus::Complete, "{:?}", job.error);
    assert_eq!(w.gh.tarball_requests.get(), 1);
    assert_eq!(w.gh.blob_requests.get(), 4, "the four files the archive lacks or alters are read as blobs");
    for f in files.iter().filter(|f| f.path != pointer.path) {
        assert_eq!(kept(&w, &f.sha).as_deref(), Some(w.gh.content(f.sha.as_str()).as_slice()), "{}", f.path);
    }
    // The pointer was read as the pointer (an LFS pointer keeps no text), not as the object.
    let status = w.store.blobs.borrow().get(&("acme/widgets".to_string(), pointer.sha.to_string())).map(|b| b.status);
    assert_eq!(status, Some(ContentStatus::LfsPointer));
    assert_eq!(w.store.active().iter().find(|f| f.path == "model.bin").map(|f| f.kind), Some(FileKind::LfsPointer));
}

/// Defect 4 (tarball side): a pass cut short by the slice budget resumes, and the next
/// pass neither reads nor writes again what the first one stored.
#[test]
fn an_interrupted_tarball_pass_resumes_without_rereading() {
    let w = World::new();
    // 6.5 MB of text in 100 files: several flushes, so a pass can stop between them.
    let files: Vec<TreeFile> = (0..100).map(|i| sized(&format!("big/f{i:03}.txt"), 500 + i, 65_000)).collect();
    w.push("main", &sha(100), files.clone());
    let mut job = w.job(None);
    job.max_text_bytes = 100_000;
    let mut first_pass = true;
    let events = w.run_with(&mut job, |_, job, w| {
        // The first tarball pass runs with almost no budget left: it stops after one flush.
        if first_pass && matches!(job.phase, crate::engine::Phase::FetchTarball { .. }) {
            first_pass = false;
            w.meter.query(crate::engine::SLICE_MAX_QUERIES - 1);
        }
    });
    check_events(&events, SyncStatus::Complete);
    assert_eq!((w.gh.tarball_requests.get(), w.gh.blob_requests.get()), (2, 0), "two passes, no blob requests");
    assert_eq!(w.store.blob_puts.get(), 100, "each blob was analysed and written once");
    for f in &files {
        assert_eq!(kept(&w, &f.sha).expect("stored"), w.gh.content(f.sha.as_str()));
    }
}

/// The remainder after an interrupted pass is read one by one when that is cheaper.
#[test]
fn few_blobs_left_after_an_interrupted_pass_are_read_as_blobs() {
    let w = World::new();
    let files: Vec<TreeFile> = (0..40).map(|i| sized(&format!("big/f{i:02}.txt"), 700 + i, 65_000)).collect();
    w.push("main", &sha(100), files.clone());
    let mut job = w.job(None);
    job.max_text_bytes = 100_000;
    let mut first_pass = true;
    w.run_with(&mut job, |_, job, w| {
        if first_pass && matches!(job.phase, crate::engine::Phase::FetchTarball { .. }) {
            first_pass = false;
            w.meter.query(crate::engine::SLICE_MAX_QUERIES - 1);
        }
    });
    assert_eq!(job.status, SyncStatus::Complete, "{:?}", job.error);
    let from_blobs = w.gh.blob_requests.get();
    assert_eq!(w.gh.tarball_requests.get(), 1);
    assert!(from_blobs > 0 && from_blobs < 40, "the rest came as blobs: {from_blobs}");
    assert_eq!(w.store.blob_puts.get(), 40);
}

/// Issue 19, defect 4: a push of many large text files read one request each held all 25
/// of a step's blobs at once (with their texts, chunks, pack and index JSON: past 128 MB for
/// 25 files of 1 MB). A step now reads blobs up to a byte budget, one at least.
#[test]
fn a_step_reads_large_blobs_within_its_byte_budget() {
    let w = World::new();
    let mut files: Vec<TreeFile> = (0..30).map(|i| sized(&format!("big/{i:02}.txt"), i, 1_000_000)).collect();
    // A large binary in the listing makes the tarball dearer than 30 blob requests.
    let mut video = file("video.bin", 999);
    video.size = Some(2_000_000_000);
    files.push(video);
    w.push("main", &sha(100), files.clone());
    let mut job = w.job(None);
    job.max_text_bytes = 1_048_576;
    w.run(&mut job);
    assert_eq!(job.status, SyncStatus::Complete, "{:?}", job.error);
    assert_eq!((w.gh.blob_requests.get(), w.gh.tarball_requests.get()), (30, 0));
    let largest = w.store.largest_put_bytes.get();
    assert!(largest <= crate::engine::BLOB_BYTES_PER_STEP, "one step stored {largest} bytes of blobs");
    for f in &files[..30] {
        assert_eq!(kept(&w, &f.sha).expect("content stored"), w.gh.content(f.sha.as_str()));
    }
    // A blob larger than the budget is still read, alone in its step.
    let mut next = files.clone();
    next[0] = sized("big/00.txt", 1_000, 5 * 1_048_576);
    w.push("main", &sha(101), next);
    let mut second = w.job(None);
    second.max_text_bytes = 8 * 1_048_576;
    w.run(&mut second);
    assert_eq!(second.status, SyncStatus::Complete, "{:?}", second.error);
}
