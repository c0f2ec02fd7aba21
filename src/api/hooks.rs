//! Hooks: the create request, the hook and delivery views, and the body a receiver gets.

use super::fields::{opt_string, parse_object, reject_unknown, req_string, strings};
use super::{ProjectView, SyncView};
use crate::domain::{DeliveryId, HookEvent, SyncId, Timestamp};
use crate::error::{AppError, AppResult};
use crate::hooks::DeliveryStatus;
use crate::rows::{DeliveryRow, HookRow, ProjectRow, SyncRow};
use serde::Serialize;

/// `POST /projects/{id}/hooks`. The URL's scheme and origin are checked where the
/// service's own origin is known (`hooks::check_url`).
#[derive(Debug, Clone, PartialEq)]
pub struct CreateHook {
    pub url: String,
    pub secret: Option<String>,
    pub events: Vec<HookEvent>,
}

impl CreateHook {
    pub fn parse(body: &[u8]) -> AppResult<Self> {
        let m = parse_object(body, false)?;
        reject_unknown(&m, &["url", "secret", "events"])?;
        let url = req_string(&m, "url")?.to_string();
        let secret = opt_string(&m, "secret")?.map(String::from);
        if let Some(secret) = &secret {
            crate::hooks::check_secret(secret).map_err(|e| AppError::invalid("secret", e))?;
        }
        let events = crate::hooks::parse_events(strings(&m, "events", "names")?.as_deref()).map_err(|e| AppError::invalid("events", e))?;
        Ok(CreateHook { url, secret, events })
    }
}

/// A hook as the API shows it (never its secret).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HookView {
    pub id: String,
    pub url: String,
    pub events: Vec<HookEvent>,
    /// Whether deliveries are signed.
    pub has_secret: bool,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    pub id: String,
    pub event: HookEvent,
    pub sync_id: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
}

impl From<&HookRow> for HookView {
    fn from(row: &HookRow) -> HookView {
        HookView {
            id: row.id.to_string(),
            url: row.url.clone(),
            events: row.events.clone(),
            has_secret: row.secret_enc.is_some(),
            created_at: row.created_at.to_string(),
        }
    }
}

impl From<&DeliveryRow> for DeliveryView {
    fn from(row: &DeliveryRow) -> DeliveryView {
        DeliveryView {
            id: row.id.to_string(),
            event: row.event,
            sync_id: row.sync_id.to_string(),
            status: row.status,
            attempts: row.attempts,
            last_status_code: row.last_status_code,
            last_error: row.last_error.clone(),
            created_at: row.created_at.to_string(),
            delivered_at: row.delivered_at.as_ref().map(Timestamp::to_string),
        }
    }
}

/// What a receiver gets: the project and the sync as they were when the sync ended. Made
/// once, when the delivery is created, and stored as the bytes every attempt sends (and
/// signs): a later change to the views changes no delivery already made.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryBody {
    pub event: HookEvent,
    pub delivery_id: String,
    pub project: ProjectView,
    pub sync: SyncView,
    pub changes_url: String,
}

impl DeliveryBody {
    pub fn new(event: HookEvent, delivery_id: &DeliveryId, project: &ProjectRow, sync: &SyncRow) -> DeliveryBody {
        DeliveryBody {
            event,
            delivery_id: delivery_id.to_string(),
            project: ProjectView::from(project),
            sync: SyncView::from(sync),
            changes_url: changes_url(&sync.id),
        }
    }

    pub fn to_json(&self) -> String {
        // Plain data with string keys: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

fn changes_url(sync_id: &SyncId) -> String {
    format!("/api/v1/syncs/{sync_id}/changes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::fields::err_field;

    #[test]
    fn hooks_are_validated() {
        let h = CreateHook::parse(br#"{"url":"https://h.example.com/in","secret":"s","events":["sync.failed"]}"#).unwrap();
        assert_eq!(h.events, vec![HookEvent::Failed]);
        assert_eq!(CreateHook::parse(br#"{"url":"https://h.example.com/in"}"#).unwrap().events.len(), 3);
        assert_eq!(err_field(CreateHook::parse(br#"{"secret":"s"}"#)), "url");
        assert_eq!(err_field(CreateHook::parse(br#"{"url":"https://h/","secret":""}"#)), "secret");
        assert_eq!(err_field(CreateHook::parse(br#"{"url":"https://h/","events":[]}"#)), "events");
        assert_eq!(err_field(CreateHook::parse(br#"{"url":"https://h/","events":["push"]}"#)), "events");
        assert_eq!(err_field(CreateHook::parse(br#"{"url":"https://h/","events":"sync.failed"}"#)), "events");
        assert_eq!(err_field(CreateHook::parse(br#"{"url":"https://h/","extra":1}"#)), "extra");
    }

    #[test]
    fn a_delivery_body_has_the_project_and_the_sync_as_the_api_shows_them() {
        let project: ProjectRow = serde_json::from_value(crate::rows::tests::project_json()).unwrap();
        let sync: SyncRow = serde_json::from_value(crate::rows::tests::sync_json()).unwrap();
        let id = DeliveryId::parse("d-1").unwrap();
        let body: serde_json::Value =
            serde_json::from_str(&DeliveryBody::new(HookEvent::Completed, &id, &project, &sync).to_json()).unwrap();
        assert_eq!(body["event"], "sync.completed");
        assert_eq!(body["deliveryId"], "d-1");
        assert_eq!(body["changesUrl"], "/api/v1/syncs/s-1/changes");
        assert_eq!(body["project"], serde_json::to_value(ProjectView::from(&project)).unwrap());
        assert_eq!(body["sync"], serde_json::to_value(SyncView::from(&sync)).unwrap());
        let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 5, "{keys:?}");
    }
}
