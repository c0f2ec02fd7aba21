use super::*;
use crate::domain::{DeliveryId, ProjectId, SyncStatus};

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

/// Hosts that reach the service's own network, the machine or the cloud's metadata are
/// refused with the range they are in; loopback only where ALLOW_HTTP_HOOKS lets it in.
#[test]
fn hook_urls_that_point_inward_are_refused_naming_the_range() {
    for (raw, why) in [
        ("https://127.0.0.1/", "loopback"),
        ("https://127.1/", "loopback"),
        ("https://2130706433/", "loopback"),
        ("https://[::1]/", "loopback"),
        ("https://[::ffff:127.0.0.1]/", "loopback"),
        ("https://localhost/", "loopback"),
        ("https://LOCALHOST./", "loopback"),
        ("https://api.localhost/", "loopback"),
        ("https://10.1.2.3/", "private"),
        ("https://172.16.0.1/", "private"),
        ("https://172.31.255.255/", "private"),
        ("https://192.168.1.1/", "private"),
        ("https://[::ffff:10.0.0.1]/", "private"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://[fe80::1]/", "link-local"),
        ("https://100.64.0.1/", "carrier-grade NAT"),
        ("https://100.127.255.255/", "carrier-grade NAT"),
        ("https://[fd00::1]/", "unique-local"),
        ("https://[fc00::1]/", "unique-local"),
        ("https://0.0.0.0/", "unspecified"),
        ("https://0.1.2.3/", "unspecified"),
        ("https://[::]/", "unspecified"),
        ("https://255.255.255.255/", "broadcast"),
    ] {
        let refusal = check_url(raw, false, &own()).expect_err(raw).0;
        assert!(refusal.contains(why) && refusal.contains("inward"), "{raw}: {refusal}");
        let with_http = check_url(raw, true, &own());
        assert_eq!(with_http.is_ok(), why == "loopback", "{raw} with ALLOW_HTTP_HOOKS: {with_http:?}");
    }
    for raw in [
        "https://100.63.255.255/",
        "https://100.128.0.0/",
        "https://172.32.0.1/",
        "https://8.8.8.8/",
        "https://[2001:db8::1]/",
        "https://localhost.example.com/",
        "https://mylocalhost/",
    ] {
        assert!(check_url(raw, false, &own()).is_ok(), "{raw} is public");
    }
    // The service's own host with a trailing dot is still the service.
    assert!(check_url("https://sync.example.com./x", false, &own()).unwrap_err().0.contains("itself"));
    assert!(check_url("https://Sync.Example.com.:443/x", false, &own()).unwrap_err().0.contains("itself"));
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
    let m = HookMessage::Deliver { project_id: ProjectId::parse("p-1").unwrap(), delivery_id: DeliveryId::parse("d-1").unwrap() };
    let json = serde_json::to_string(&m).unwrap();
    assert_eq!(json, r#"{"kind":"deliver","projectId":"p-1","deliveryId":"d-1"}"#);
    assert_eq!(serde_json::from_str::<HookMessage>(&json).unwrap(), m);
}

#[test]
fn a_delivery_status_is_stored_by_its_name() {
    for (status, name) in
        [(DeliveryStatus::Pending, "pending"), (DeliveryStatus::Delivered, "delivered"), (DeliveryStatus::Failed, "failed")]
    {
        assert_eq!(status.as_str(), name);
        assert_eq!(serde_json::to_value(status).unwrap(), name);
        assert_eq!(serde_json::from_value::<DeliveryStatus>(name.into()).unwrap(), status);
    }
    assert_eq!(AfterAttempt::RetryIn { ms: 1 }.status(), DeliveryStatus::Pending);
    assert_eq!(AfterAttempt::Delivered.status(), DeliveryStatus::Delivered);
    assert_eq!(AfterAttempt::GiveUp.status(), DeliveryStatus::Failed);
}
