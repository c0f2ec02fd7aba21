use super::*;
use serde_json::json;

/// A `projects` row as D1 hands it over (booleans as numbers, the filter as JSON text).
pub(crate) fn project_json() -> serde_json::Value {
    json!({
        "id": "p-1", "name": "Site", "repository": "acme/widgets", "branch": "main", "tracked": 1,
        "github_token_enc": null, "current_sync_id": "s-1", "current_seq": 3,
        "current_commit_sha": "a".repeat(40), "head_etag": null, "head_sha": null,
        "created_at": "2026-11-22T04:15:48.123Z", "installation_id": 42,
        "path_filter": r#"{"include":["/src/"],"exclude":[]}"#
    })
}

pub(crate) fn sync_json() -> serde_json::Value {
    json!({
        "id": "s-1", "project_id": "p-1", "kind": "sync", "trigger": "api", "branch": "main",
        "commit_sha": "a".repeat(40), "status": "COMPLETE", "progress": 100, "message": "done", "seq": 3,
        "previous_sync_id": null, "restored_from_sync_id": null, "added": 1, "modified": 2, "removed": 3,
        "unchanged": 4, "renamed": 5, "github_requests": 6, "github_not_modified": 7, "d1_rows_written": 8,
        "bytes_downloaded": 9, "duration_ms": 10, "error": null, "started_at": "2026-11-22T04:15:48.123Z",
        "completed_at": "2026-11-22T04:15:50.000Z", "updated_at": null, "path_filter": r#"{"include":[],"exclude":[]}"#,
        "dry_run": 0, "changes_kept": 1, "renames_limited": 0
    })
}

#[test]
fn rows_parse_as_d1_hands_them_over() {
    let p: ProjectRow = serde_json::from_value(project_json()).unwrap();
    assert_eq!((p.id.as_str(), p.tracked, p.current_sync_id.as_ref().map(SyncId::as_str)), ("p-1", true, Some("s-1")));
    assert_eq!(p.path_filter.include().collect::<Vec<_>>(), ["/src/"]);
    let s: SyncRow = serde_json::from_value(sync_json()).unwrap();
    assert_eq!(
        (s.status, s.dry_run, s.changes_kept, s.completed_at.map(|t| t.ms())),
        (SyncStatus::Complete, false, true, Some(1_795_320_950_000))
    );
    let mut bad = sync_json();
    bad["project_id"] = json!("../p");
    assert!(serde_json::from_value::<SyncRow>(bad).is_err(), "an id is parsed where the row is read");
    let d: DeliveryRow = serde_json::from_value(json!({
        "id": "d-1", "hook_id": "h-1", "sync_id": "s-1", "event": "sync.failed", "status": "pending", "attempts": 0,
        "last_status_code": null, "last_error": null, "body": "{}", "created_at": "2026-11-22T04:15:48.123Z", "delivered_at": null
    }))
    .unwrap();
    assert_eq!((d.event, d.status), (HookEvent::Failed, DeliveryStatus::Pending));
    let h: HookRow = serde_json::from_value(json!({
        "id": "h-1", "url": "https://h.example.com/in", "secret_enc": null, "events": r#"["sync.completed"]"#,
        "created_at": "2026-11-22T04:15:48.123Z"
    }))
    .unwrap();
    assert_eq!(h.events, [HookEvent::Completed]);
}
