//! The contract's request bodies, parsed and validated once, and its response shapes, one
//! file per resource as `shell::entry::routes` has them; `fields` reads a body's JSON fields and
//! `page` holds what every list shares (limits, cursors, query and entity-tag helpers).
//!
//! Parsing reports the first wrong field by name; unknown fields are refused so a typo
//! never silently does nothing. This layer owns the wire format: it turns rows into views.

pub mod fields;
pub mod files;
pub mod hooks;
pub mod installations;
pub mod page;
pub mod projects;
pub mod syncs;
pub mod users;

pub use fields::{parse_object, FilterChange, MAX_BODY_BYTES, MAX_GITHUB_TOKEN_BYTES, MAX_NAME_CHARS};
pub use files::{ChangeView, ChangesPage, FileHistoryView, FileView, MemoryView};
pub use hooks::{CreateHook, DeliveryBody, DeliveryView, HookView};
pub use installations::{GrantInstallation, InstallationRepoView, InstallationView};
pub use page::{encode_cursor, etag_matches, percent_decode, query_param, Page, PageRequest, DEFAULT_LIMIT, MAX_LIMIT};
pub use projects::{BranchView, CreateProject, PatchProject, ProjectView, TokenChange};
pub use syncs::{Restore, StartSync, SyncStarted, SyncView};
pub use users::{CreateUser, UserCreated};

#[cfg(test)]
mod tests {
    use super::fields::err_field;
    use super::{CreateHook, CreateProject, PatchProject, StartSync, TokenChange};
    use serde_json::Value;

    /// Issue 19, defect 11: `null` is taken only where web/openapi.json says a field is
    /// nullable; everywhere else it is a 400 naming the field (it was read as "absent").
    #[test]
    fn null_is_refused_unless_the_reference_says_nullable() {
        let hook = |f: &str| err_field(CreateHook::parse(format!(r#"{{"url":"https://h.example.com/in","{f}":null}}"#).as_bytes()));
        assert_eq!(hook("events"), "events");
        assert_eq!(hook("secret"), "secret");
        assert_eq!(err_field(CreateHook::parse(br#"{"url":null}"#)), "url");
        for f in ["branch", "tracked", "githubToken", "installationId", "include", "exclude"] {
            let body = format!(r#"{{"name":"n","repository":"o/r","{f}":null}}"#);
            assert_eq!(err_field(CreateProject::parse(body.as_bytes())), f, "create {f}");
        }
        for f in ["name", "branch", "tracked", "include", "exclude"] {
            assert_eq!(err_field(PatchProject::parse(format!(r#"{{"{f}":null}}"#).as_bytes())), f, "patch {f}");
        }
        for f in ["branch", "dryRun", "include", "exclude"] {
            assert_eq!(err_field(StartSync::parse(format!(r#"{{"{f}":null}}"#).as_bytes())), f, "start {f}");
        }
        // The two the reference makes nullable keep their meaning.
        assert_eq!(PatchProject::parse(br#"{"githubToken":null}"#).unwrap().github_token, TokenChange::Remove);
        assert_eq!(PatchProject::parse(br#"{"installationId":null}"#).unwrap().installation_id, Some(None));
        let doc: Value = serde_json::from_str(include_str!("../../web/openapi.json")).unwrap();
        let schemas = &doc["components"]["schemas"];
        for (schema, field) in [("CreateHook", "events"), ("PatchProject", "branch"), ("CreateProject", "tracked")] {
            let t = schemas[schema]["properties"][field].to_string();
            assert!(!t.contains("null"), "{schema}.{field} is not nullable in the reference: {t}");
        }
        assert!(schemas["PatchProject"]["properties"]["githubToken"].to_string().contains("null"));
    }
}
