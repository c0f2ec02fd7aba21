use super::*;
use crate::domain::FileMode;
use crate::error::AppError;

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

#[test]
fn tree_listing_keeps_files_and_notes_dirs() {
    let sha = "a".repeat(40);
    let body = serde_json::json!({
        "sha": "t", "url": "https://api.github.com/x", "truncated": false, "tree": [
            {"path": "src", "mode": "040000", "type": "tree", "sha": sha, "url": "u"},
            {"path": "src/a.rs", "mode": "100644", "type": "blob", "sha": sha, "size": 5, "url": "u"},
            {"path": "run.sh", "mode": "100755", "type": "blob", "sha": sha, "size": 1},
            {"path": "link", "mode": "120000", "type": "blob", "sha": sha, "size": 4},
            {"path": "vendor/lib", "mode": "160000", "type": "commit", "sha": sha}
        ]
    });
    let l = parse_tree(body.to_string().as_bytes(), "root").unwrap();
    assert_eq!(l.dirs, vec![("root/src".to_string(), sha.clone())]);
    assert_eq!(l.files.len(), 4);
    assert_eq!(l.files[0].path, "root/src/a.rs");
    assert_eq!(l.files[3].mode, FileMode::Submodule);
    assert_eq!(l.files[3].size, None);
    let bad =
        [r#"{"tree": []}"#, r#"{"sha": "t", "tree": [{"path": "x", "mode": "100000", "type": "blob", "sha": "s"}]}"#, r#"{"sha": "t"} x"#];
    for body in bad {
        assert!(matches!(parse_tree(body.as_bytes(), ""), Err(GhError::Malformed(_))), "{body}");
    }
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
