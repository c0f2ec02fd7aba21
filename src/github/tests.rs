use super::*;
use crate::domain::{FileMode, TreeFile};
use crate::error::AppError;
use crate::gitobj::{blob_id, tree_id, TreeEntry};

#[test]
fn urls() {
    let repo = RepoName::parse("acme/widgets").unwrap();
    let br = BranchName::parse("feature/ünï").unwrap();
    assert_eq!(api_url("https://ghe.example.com/api/v3/", "/repos/a/b"), "https://ghe.example.com/api/v3/repos/a/b");
    assert_eq!(head_ref_path(&repo, &br), "/repos/acme/widgets/git/ref/heads/feature/%C3%BCn%C3%AF");
    assert_eq!(tree_path(&repo, "abc", true), "/repos/acme/widgets/git/trees/abc?recursive=1");
    assert_eq!(branches_path(&repo), "/repos/acme/widgets/branches?per_page=100");
}

#[test]
fn link_headers() {
    let cases: &[(Option<&str>, Option<&str>)] = &[
        (None, None),
        (Some(""), None),
        (
            Some(r#"<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last""#),
            Some("https://api.github.com/x?page=2"),
        ),
        (Some(r#"<https://h/x?page=1>; rel="prev", <https://h/x?page=3>; rel="next""#), Some("https://h/x?page=3")),
        (Some(r#"<https://h/x?page=1>; rel="first", <https://h/x?page=1>; rel="prev""#), None),
    ];
    for (header, want) in cases {
        assert_eq!(next_link(*header).as_deref(), *want, "{header:?}");
    }
}

/// Reads a whole answer handed over in pieces of `piece` bytes.
fn read_tree(body: &[u8], prefix: &str, recursive: bool, piece: usize) -> Result<(Vec<TreeItem>, TreeEnd), GhError> {
    let mut reader = TreeReader::new(prefix, recursive);
    let mut items = Vec::new();
    for chunk in body.chunks(piece) {
        reader.feed(chunk, &mut items)?;
    }
    let end = reader.finish(&mut items)?;
    Ok((items, end))
}

#[test]
fn tree_answers_keep_files_and_note_dirs_whatever_the_pieces() {
    let sha = "a".repeat(40);
    let body = serde_json::json!({
        "sha": "t", "url": "https://api.github.com/x", "tree": [
            {"path": "src", "mode": "040000", "type": "tree", "sha": sha, "url": "u"},
            {"path": "src/a.rs", "mode": "100644", "type": "blob", "sha": sha, "size": 5, "url": "u", "extra": {"x": [1, {"y": 2}]}},
            {"path": "run.sh", "mode": "100755", "type": "blob", "sha": sha, "size": 1},
            {"path": "li\"n\\k é😀", "mode": "120000", "type": "blob", "sha": sha, "size": 4},
            {"path": "vendor/lib", "mode": "160000", "type": "commit", "sha": sha, "size": null}
        ], "truncated": false, "more": [[], {}]
    })
    .to_string()
    // GitHub may escape any character; a surrogate pair is one character.
    .replace("é😀", "\\u00e9\\ud83d\\ude00");
    assert!(body.contains(r"\ud83d"));
    for piece in [1, 2, 3, 7, 64, 1 << 20] {
        let (items, end) = read_tree(body.as_bytes(), "root", false, piece).unwrap();
        assert_eq!(end, TreeEnd { sha: "t".into(), truncated: false, whole: vec![] }, "{piece}");
        assert_eq!(items[0], TreeItem::Dir("root/src".into(), sha.clone()));
        let files: Vec<&TreeFile> = items.iter().filter_map(|i| if let TreeItem::File(f) = i { Some(f) } else { None }).collect();
        assert_eq!(files.len(), 4);
        assert_eq!(files[0].path, "root/src/a.rs");
        assert_eq!(files[0].size, Some(5));
        assert_eq!(files[2].path, "root/li\"n\\k é😀");
        assert_eq!(files[3].mode, FileMode::Submodule);
        assert_eq!(files[3].size, None);
    }
}

#[test]
fn malformed_tree_answers_are_refused() {
    let sha = "a".repeat(40);
    let entry = |mode: &str, kind: &str, sha: &str| {
        format!(r#"{{"sha": "t", "tree": [{{"path": "x", "mode": "{mode}", "type": "{kind}", "sha": "{sha}"}}]}}"#)
    };
    let bad = [
        r#"{"tree": []}"#.to_string(),
        r#"{"sha": "t", "tree": [{"path": "x", "mode": "100644", "type": "blob"}]}"#.to_string(),
        entry("100000", "blob", &sha),
        entry("100644", "blob", "not-a-sha"),
        r#"{"sha": "t"} x"#.to_string(),
        r#"{"sha": "t", "tree": [{"path": "x""#.to_string(),
        r#"{"sha": 5, "tree": []}"#.to_string(),
        r#"{"sha": "t", "truncated": "yes", "tree": []}"#.to_string(),
        r#"{"sha": "t", "tree": [{"path": 1, "mode": "100644", "type": "blob", "sha": "s"}]}"#.to_string(),
        r#"[]"#.to_string(),
        String::new(),
    ];
    for body in bad {
        for piece in [1, 5, 1 << 20] {
            assert!(matches!(read_tree(body.as_bytes(), "", false, piece), Err(GhError::Malformed(_))), "{body:?} in pieces of {piece}");
        }
    }
}

#[test]
fn a_truncated_recursive_answer_proves_the_directories_it_holds_whole() {
    // b/ holds c.txt; the root holds a.txt, b/ and z.txt. Cut after b/c.txt: b is whole.
    let (a, c, z) = (blob_id(b"a"), blob_id(b"c"), blob_id(b"z"));
    let b = tree_id(&[TreeEntry { name: "c.txt", mode: "100644", sha: &c, is_tree: false }]).unwrap();
    let root = tree_id(&[
        TreeEntry { name: "a.txt", mode: "100644", sha: &a, is_tree: false },
        TreeEntry { name: "b", mode: "040000", sha: &b, is_tree: true },
        TreeEntry { name: "z.txt", mode: "100644", sha: &z, is_tree: false },
    ])
    .unwrap();
    let entries =
        [("a.txt", "100644", "blob", &a), ("b", "040000", "tree", &b), ("b/c.txt", "100644", "blob", &c), ("z.txt", "100644", "blob", &z)];
    let answer = |n: usize, truncated: bool| {
        let tree: Vec<serde_json::Value> =
            entries[..n].iter().map(|(p, m, k, s)| serde_json::json!({"path": p, "mode": m, "type": k, "sha": s, "size": 1})).collect();
        serde_json::json!({"sha": root, "tree": tree, "truncated": truncated}).to_string()
    };
    let (_, whole) = read_tree(answer(4, false).as_bytes(), "top", true, 9).unwrap();
    assert_eq!(whole.whole, vec!["top/b".to_string(), "top".to_string()]);
    let (items, cut) = read_tree(answer(3, true).as_bytes(), "", true, 9).unwrap();
    assert_eq!((cut.truncated, cut.whole), (true, vec!["b".to_string()]));
    assert_eq!(items.len(), 3, "every listed entry is handed out");
    // One level proves nothing.
    let (_, flat) = read_tree(answer(4, false).as_bytes(), "", false, 9).unwrap();
    assert!(flat.whole.is_empty());
}

#[test]
fn failures_are_classified() {
    let none = RateInfo::default();
    let now = 1_000;
    let cases: Vec<(u16, RateInfo, &str, GhError)> = vec![
        (401, none, r#"{"message":"Bad credentials"}"#, GhError::Unauthorized),
        (404, none, r#"{"message":"Not Found"}"#, GhError::NotFound("repo".into())),
        (409, none, r#"{"message":"Git Repository is empty."}"#, GhError::EmptyRepository),
        (503, none, "", GhError::Unavailable("HTTP 503".into())),
        (
            403,
            RateInfo { remaining: Some(0), reset_at: Some(1_042), retry_after: None },
            r#"{"message":"API rate limit exceeded"}"#,
            GhError::RateLimited { wait_secs: 42, secondary: false },
        ),
        (
            403,
            RateInfo { remaining: Some(10), reset_at: None, retry_after: Some(7) },
            r#"{"message":"You have exceeded a secondary rate limit"}"#,
            GhError::RateLimited { wait_secs: 7, secondary: true },
        ),
        (429, none, r#"{"message":"You have exceeded a secondary rate limit"}"#, GhError::RateLimited { wait_secs: 60, secondary: true }),
        (
            403,
            RateInfo { remaining: Some(10), ..none },
            r#"{"message":"Resource not accessible"}"#,
            GhError::Refused { status: 403, message: "Resource not accessible".into() },
        ),
    ];
    for (status, rate, body, want) in cases {
        assert_eq!(classify_failure(status, rate, body, now, "repo"), want, "{status} {body}");
    }
}

#[test]
fn retry_policy() {
    let p = RetryPolicy::default();
    let unavailable = GhError::Unavailable("x".into());
    assert_eq!(p.decide(1, &unavailable, 0.0), RetryDecision::RetryAfterMs(125));
    assert_eq!(p.decide(2, &unavailable, 0.999_999), RetryDecision::RetryAfterMs(499));
    assert_eq!(p.decide(4, &unavailable, 0.5), RetryDecision::GiveUp);
    let short = GhError::RateLimited { wait_secs: 3, secondary: true };
    assert_eq!(p.decide(1, &short, 0.5), RetryDecision::RetryAfterMs(3000));
    let long = GhError::RateLimited { wait_secs: 3600, secondary: false };
    assert_eq!(p.decide(1, &long, 0.5), RetryDecision::GiveUp);
    assert_eq!(p.decide(1, &GhError::NotFound("x".into()), 0.5), RetryDecision::GiveUp);
}

#[test]
fn rate_limits_become_429_and_others_422() {
    let (s, b) = AppError::from(GhError::RateLimited { wait_secs: 9, secondary: false }).to_http();
    assert_eq!((s, b["error"]["retryAfter"].as_u64()), (429, Some(9)));
    assert_eq!(AppError::from(GhError::Unauthorized).status(), 422);
    assert_eq!(AppError::from(GhError::EmptyRepository).status(), 422);
}

#[test]
fn a_large_answer_reads_the_same_in_any_pieces() {
    // 20,000 entries in git's pre-order, as GitHub would send them, read in network-sized
    // pieces: the same items as serde reads from the whole answer.
    let mut tree = Vec::new();
    for d in 0..200 {
        tree.push(serde_json::json!({"path": format!("d{d:03}"), "mode": "040000", "type": "tree", "sha": format!("{d:040}")}));
        for f in 0..99 {
            let sha = format!("{:040x}", d * 1000 + f);
            tree.push(serde_json::json!({"path": format!("d{d:03}/f{f:02}.txt"), "mode": "100644", "type": "blob", "sha": sha, "size": f, "url": "u"}));
        }
    }
    let body = serde_json::json!({"sha": "r", "url": "u", "tree": tree, "truncated": true}).to_string();
    let started = std::time::Instant::now();
    let (items, end) = read_tree(body.as_bytes(), "", true, 65_536).unwrap();
    eprintln!("{} bytes, {} entries read in {:?}", body.len(), items.len(), started.elapsed());
    assert_eq!(items.len(), 20_000);
    assert!(end.truncated);
    assert!(end.whole.is_empty(), "made-up ids prove nothing");
    for (item, wire) in items.iter().zip(&tree) {
        let path = wire["path"].as_str().unwrap();
        match item {
            TreeItem::Dir(p, sha) => assert_eq!((p.as_str(), sha.as_str()), (path, wire["sha"].as_str().unwrap())),
            TreeItem::File(f) => assert_eq!((f.path.as_str(), f.size), (path, wire["size"].as_u64())),
        }
    }
}
