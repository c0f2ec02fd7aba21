//! The service's settings and secrets, read once from a lookup (the Workers environment
//! in the shell, a map in tests). Secrets are explicit: what needs one that is not set is
//! refused with a 500 whose logged detail names it — never run with a key anyone could
//! derive (say, from an empty string).

use crate::auth::hmac_sha256;
use crate::error::{AppError, AppResult};
use crate::github_app::AppKey;
use crate::placement::Placement;

pub const DEFAULT_GITHUB_API_URL: &str = "https://api.github.com";
/// A running sync whose object says it has no job is failed only once it is this old, so
/// a start still on its way to the object is never mistaken for a lost one.
pub const DEFAULT_REAPER_GRACE_MS: u64 = 60_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub github_api_url: String,
    /// Token for projects without their own.
    pub github_token: Option<String>,
    /// Verifies GitHub webhooks; without it webhooks are refused (401).
    pub webhook_secret: Option<String>,
    pub max_text_bytes: u64,
    pub reaper_grace_ms: u64,
    /// `FAULT_INJECTION=true`: the admin may arm faults at named points (tests only).
    pub fault_injection: bool,
    /// `ALLOW_HTTP_HOOKS=true`: hooks may use `http://` (local development).
    pub allow_http_hooks: bool,
    /// `HOOK_RETRY_BASE_MS`: the first retry's delay of a hook delivery.
    pub hook_retry_base_ms: u64,
    /// `HOOK_DELIVERIES_KEPT`, `HOOK_DELIVERIES_KEPT_MS`: a hook's deliveries kept (the
    /// newest) and for how long; the contract's 1,000 and 30 days unless a test lowers them.
    pub hook_deliveries_kept: u64,
    pub hook_deliveries_kept_ms: u64,
    /// `PROJECT_DATABASES`, parsed by `placement()`.
    project_databases: Option<String>,
    admin_token: Option<String>,
    token_key: Option<String>,
    token_key_previous: Option<String>,
    stream_secret: Option<String>,
    github_app_id: Option<String>,
    github_app_private_key: Option<String>,
}

/// The GitHub App this service authenticates as (`GITHUB_APP_ID`, `GITHUB_APP_PRIVATE_KEY`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubApp {
    pub id: u64,
    pub key: AppKey,
}

/// AES-GCM keys for stored GitHub tokens: new writes use `current`; reads try `current`,
/// then `previous`, so a rotation keeps every stored token readable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenKeys {
    pub current: [u8; 32],
    pub previous: Option<[u8; 32]>,
}

impl Settings {
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Settings {
        let get = |name: &str| get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        Settings {
            github_api_url: get("GITHUB_API_URL").unwrap_or_else(|| DEFAULT_GITHUB_API_URL.into()),
            github_token: get("GITHUB_TOKEN"),
            webhook_secret: get("WEBHOOK_SECRET"),
            max_text_bytes: get("MAX_TEXT_BYTES").and_then(|v| v.parse().ok()).unwrap_or(crate::content::DEFAULT_MAX_TEXT_BYTES),
            reaper_grace_ms: get("REAPER_GRACE_MS").and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_REAPER_GRACE_MS),
            fault_injection: get("FAULT_INJECTION").as_deref() == Some("true"),
            allow_http_hooks: get("ALLOW_HTTP_HOOKS").as_deref() == Some("true"),
            hook_retry_base_ms: get("HOOK_RETRY_BASE_MS").and_then(|v| v.parse().ok()).unwrap_or(crate::hooks::DEFAULT_RETRY_BASE_MS),
            hook_deliveries_kept: get("HOOK_DELIVERIES_KEPT")
                .and_then(|v| v.parse().ok())
                .unwrap_or(crate::retention::DEFAULT_DELIVERIES_KEPT)
                .clamp(1, crate::retention::DEFAULT_DELIVERIES_KEPT),
            hook_deliveries_kept_ms: get("HOOK_DELIVERIES_KEPT_MS")
                .and_then(|v| v.parse().ok())
                .unwrap_or(crate::retention::DEFAULT_DELIVERIES_KEPT_MS)
                .min(crate::retention::DEFAULT_DELIVERIES_KEPT_MS),
            project_databases: get("PROJECT_DATABASES"),
            admin_token: get("ADMIN_TOKEN"),
            token_key: get("TOKEN_ENCRYPTION_KEY"),
            token_key_previous: get("TOKEN_ENCRYPTION_KEY_PREVIOUS"),
            stream_secret: get("STREAM_TOKEN_SECRET"),
            github_app_id: get("GITHUB_APP_ID"),
            github_app_private_key: get("GITHUB_APP_PRIVATE_KEY"),
        }
    }

    /// Which database holds which project (a bad `PROJECT_DATABASES` refuses every request
    /// with a 500 that names it, rather than putting projects where they will not be found).
    pub fn placement(&self) -> AppResult<Placement> {
        Placement::parse(self.project_databases.as_deref()).map_err(|e| AppError::internal(e.0))
    }

    pub fn admin_token(&self) -> AppResult<&str> {
        self.admin_token.as_deref().ok_or_else(|| missing("ADMIN_TOKEN"))
    }

    /// The HMAC key of `eventsUrl` stream tokens.
    pub fn stream_secret(&self) -> AppResult<&[u8]> {
        self.stream_secret.as_deref().map(str::as_bytes).ok_or_else(|| missing("STREAM_TOKEN_SECRET"))
    }

    /// The App, for installations; a key that is not an RSA private key is refused naming
    /// the secret and what is wrong with it (in the log, never in an answer).
    pub fn github_app(&self) -> AppResult<GitHubApp> {
        let id = self.github_app_id.as_deref().ok_or_else(|| missing("GITHUB_APP_ID"))?;
        let id = id
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| AppError::internal(format!("GITHUB_APP_ID must be the App's numeric id, not {id:?}")))?;
        let pem = self.github_app_private_key.as_deref().ok_or_else(|| missing("GITHUB_APP_PRIVATE_KEY"))?;
        let key = AppKey::from_pem(pem).map_err(|why| AppError::internal(format!("GITHUB_APP_PRIVATE_KEY: {why}")))?;
        Ok(GitHubApp { id, key })
    }

    pub fn token_keys(&self) -> AppResult<TokenKeys> {
        let current = self.token_key.as_deref().ok_or_else(|| missing("TOKEN_ENCRYPTION_KEY"))?;
        Ok(TokenKeys { current: token_key(current), previous: self.token_key_previous.as_deref().map(token_key) })
    }
}

/// The AES-256 key made from a configured secret (any length, any characters).
fn token_key(secret: &str) -> [u8; 32] {
    hmac_sha256(secret.as_bytes(), b"token-encryption")
}

fn missing(name: &str) -> AppError {
    AppError::internal(format!("the secret {name} is not set, so this request cannot be served (set it with `wrangler secret put {name}`)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn missing_secrets_are_refused_naming_the_secret() {
        let s = settings(&[("ADMIN_TOKEN", "  "), ("GITHUB_TOKEN", "")]);
        for (result, name) in [
            (s.admin_token().map(|_| ()), "ADMIN_TOKEN"),
            (s.stream_secret().map(|_| ()), "STREAM_TOKEN_SECRET"),
            (s.token_keys().map(|_| ()), "TOKEN_ENCRYPTION_KEY"),
        ] {
            let err = result.expect_err(name);
            assert_eq!(err.status(), 500, "{name}");
            assert!(err.to_string().contains(name), "the log names {name}: {err}");
            assert!(!err.public_message().contains(name), "the answer does not: {}", err.public_message());
        }
        assert_eq!(s.github_token, None, "an empty value is no value");
        assert_eq!(s.github_api_url, DEFAULT_GITHUB_API_URL);
    }

    #[test]
    fn keys_and_rotation() {
        let s = settings(&[("TOKEN_ENCRYPTION_KEY", "new"), ("TOKEN_ENCRYPTION_KEY_PREVIOUS", "old"), ("STREAM_TOKEN_SECRET", "s")]);
        let keys = s.token_keys().unwrap();
        assert_eq!(keys.current, token_key("new"));
        assert_eq!(keys.previous, Some(token_key("old")));
        assert_ne!(keys.current, token_key(""), "never the key of an empty secret");
        assert_eq!(s.stream_secret().unwrap(), b"s");
        let plain = settings(&[("TOKEN_ENCRYPTION_KEY", "k"), ("FAULT_INJECTION", "true"), ("REAPER_GRACE_MS", "2000")]);
        assert_eq!(plain.token_keys().unwrap().previous, None);
        assert!(plain.fault_injection);
        assert_eq!(plain.reaper_grace_ms, 2_000);
        assert_eq!((plain.hook_deliveries_kept, plain.hook_deliveries_kept_ms), (1_000, 30 * 24 * 3_600_000), "the contract's");
        let lowered = settings(&[("HOOK_DELIVERIES_KEPT", "3"), ("HOOK_DELIVERIES_KEPT_MS", "5000")]);
        assert_eq!((lowered.hook_deliveries_kept, lowered.hook_deliveries_kept_ms), (3, 5_000));
        let raised = settings(&[("HOOK_DELIVERIES_KEPT", "5000"), ("HOOK_DELIVERIES_KEPT_MS", "99999999999")]);
        assert_eq!((raised.hook_deliveries_kept, raised.hook_deliveries_kept_ms), (1_000, 30 * 24 * 3_600_000), "never past the contract");
        assert_eq!(settings(&[("HOOK_DELIVERIES_KEPT", "0")]).hook_deliveries_kept, 1, "a new delivery is never trimmed away at once");
    }

    #[test]
    fn the_app_needs_a_numeric_id_and_an_rsa_key() {
        let pem = include_str!("testdata/app-key-pkcs1.pem");
        let app = settings(&[("GITHUB_APP_ID", "1234"), ("GITHUB_APP_PRIVATE_KEY", pem)]).github_app().unwrap();
        assert_eq!(app.id, 1234);
        for (pairs, named) in [
            (vec![("GITHUB_APP_PRIVATE_KEY", pem)], "GITHUB_APP_ID"),
            (vec![("GITHUB_APP_ID", "1234")], "GITHUB_APP_PRIVATE_KEY"),
            (vec![("GITHUB_APP_ID", "my-app"), ("GITHUB_APP_PRIVATE_KEY", pem)], "GITHUB_APP_ID"),
            (vec![("GITHUB_APP_ID", "1234"), ("GITHUB_APP_PRIVATE_KEY", "ghp_x")], "GITHUB_APP_PRIVATE_KEY"),
        ] {
            let err = settings(&pairs).github_app().expect_err(named);
            assert!(err.to_string().contains(named), "{named}: {err}");
            assert!(!err.public_message().contains("PRIVATE"), "the answer names nothing");
        }
    }
}
