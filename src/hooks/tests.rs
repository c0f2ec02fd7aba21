use super::*;

fn own() -> Vec<Origin> {
    vec![Origin { host: "sync.example.com".into(), port: Some(443) }, Origin { host: "127.0.0.1".into(), port: Some(8787) }]
}

#[test]
fn hook_urls_are_checked() {
    for (raw, allow_http, ok) in [
        ("https://hooks.example.com/in", false, true),
        ("https://hooks.example.com:8443/in?x=1", false, true),
        ("http://127.0.0.1:9999/in", true, true),
        ("http://hooks.example.com/in", false, false),
        ("ftp://hooks.example.com/in", true, false),
        ("/relative", true, false),
        ("https://user:pw@hooks.example.com/", false, false),
        ("https://sync.example.com/api/v1/webhooks/github", false, false),
        ("https://SYNC.example.com:443/x", false, false),
        ("http://127.0.0.1:8787/api/v1/projects", true, false),
        ("http://127.0.0.1:8788/in", true, true),
    ] {
        assert_eq!(check_url(raw, allow_http, &own()).is_ok(), ok, "{raw} (http allowed: {allow_http})");
    }
    let long = format!("https://h.example.com/{}", "a".repeat(MAX_URL_CHARS));
    assert!(check_url(&long, false, &own()).unwrap_err().0.contains("longer"));
    assert!(check_url("http://h.example.com/", false, &own()).unwrap_err().0.contains("ALLOW_HTTP_HOOKS"));
    assert!(check_url("https://sync.example.com/", false, &own()).unwrap_err().0.contains("itself"));
}

#[test]
fn events_default_to_all_and_are_checked() {
    assert_eq!(parse_events(None).unwrap(), ALL_EVENTS.to_vec());
    let some = vec!["sync.failed".to_string(), "sync.completed".to_string()];
    assert_eq!(parse_events(Some(&some)).unwrap(), vec![HookEvent::Completed, HookEvent::Failed]);
    assert!(parse_events(Some(&[])).is_err());
    assert!(parse_events(Some(&["sync.started".to_string()])).unwrap_err().contains("sync.started"));
    assert!(parse_events(Some(&["sync.failed".to_string(), "sync.failed".to_string()])).unwrap_err().contains("twice"));
    assert_eq!(serde_json::to_string(&HookEvent::Cancelled).unwrap(), r#""sync.cancelled""#);
    assert_eq!(HookEvent::of_status(SyncStatus::Complete), Some(HookEvent::Completed));
    assert_eq!(HookEvent::of_status(SyncStatus::Persisting), None);
}

#[test]
fn secrets_are_checked() {
    assert!(check_secret("s3cret").is_ok());
    assert!(check_secret("").is_err());
    assert!(check_secret(&"x".repeat(MAX_SECRET_CHARS + 1)).is_err());
    assert!(check_secret("a\nb").is_err());
}

#[test]
fn the_signature_is_githubs_scheme_over_the_raw_body() {
    // HMAC-SHA256("It's a Secret to Everybody", "Hello, World!"), GitHub's documented example.
    assert_eq!(
        signature("It's a Secret to Everybody", b"Hello, World!"),
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    );
}

#[test]
fn attempts_are_retried_with_exponential_backoff_then_given_up() {
    let base = DEFAULT_RETRY_BASE_MS;
    assert_eq!(after_attempt(&Attempt::Answered(204), 1, base), AfterAttempt::Delivered);
    assert_eq!(after_attempt(&Attempt::Answered(200), MAX_ATTEMPTS, base), AfterAttempt::Delivered, "the last attempt may deliver");
    assert_eq!(after_attempt(&Attempt::Answered(500), 1, base), AfterAttempt::RetryIn { ms: 30_000 });
    assert_eq!(after_attempt(&Attempt::Answered(301), 2, base), AfterAttempt::RetryIn { ms: 60_000 }, "a redirect is not delivered");
    assert_eq!(after_attempt(&Attempt::NoAnswer("refused".into()), 3, base), AfterAttempt::RetryIn { ms: 120_000 });
    assert_eq!(after_attempt(&Attempt::Answered(500), MAX_ATTEMPTS, base), AfterAttempt::GiveUp);
    // At least 6 attempts over at least 30 minutes.
    let waited: u64 = (1..MAX_ATTEMPTS).map(|n| retry_delay_ms(base, n)).sum();
    assert!(MAX_ATTEMPTS >= 6 && waited >= 30 * 60 * 1000, "{MAX_ATTEMPTS} attempts over {waited} ms");
    let before_sixth: u64 = (1..6).map(|n| retry_delay_ms(base, n)).sum();
    assert!(before_sixth < 30 * 60 * 1000, "the sixth attempt is not the one that crosses 30 minutes");
    assert_eq!(retry_delay_ms(u64::MAX, 5), u64::MAX, "saturates");
    assert_eq!(describe(&Attempt::Answered(503)), (Some(503), Some("the receiver answered 503".into())));
    assert_eq!(describe(&Attempt::NoAnswer("timed out after 10 s".into())).0, None);
}

#[test]
fn queue_delays_are_whole_seconds_within_the_queues_limit() {
    assert_eq!(delay_seconds(0), 0);
    assert_eq!(delay_seconds(1), 1);
    assert_eq!(delay_seconds(30_000), 30);
    assert_eq!(delay_seconds(30_001), 31);
    assert_eq!(delay_seconds(u64::MAX), 43_200);
    let m = HookMessage::Deliver { project_id: Id::parse("p-1").unwrap(), delivery_id: "d-1".into() };
    let json = serde_json::to_string(&m).unwrap();
    assert_eq!(json, r#"{"kind":"deliver","projectId":"p-1","deliveryId":"d-1"}"#);
    assert_eq!(serde_json::from_str::<HookMessage>(&json).unwrap(), m);
}
