//! GitHub App authentication without I/O: the app's private key made ready for WebCrypto,
//! the app JWT (its signing input and its assembly; the shell signs), installation ids, when
//! a cached installation token must be renewed, and the wire types of the App endpoints.
//!
//! GitHub hands out PKCS#1 keys (`BEGIN RSA PRIVATE KEY`); WebCrypto imports PKCS#8 only,
//! so a PKCS#1 key is wrapped in a PKCS#8 envelope here: a few lines of DER.

use crate::auth::base64url_encode;
use crate::github::GhError;
use serde::Deserialize;
use std::fmt;

/// Kept here by name too: the App endpoints are where installation ids come from.
pub use crate::domain::InstallationId;

/// An installation's state: only an active one mints tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InstallationState {
    Active,
    Suspended,
    Deleted,
}

impl InstallationState {
    pub fn as_str(self) -> &'static str {
        match self {
            InstallationState::Active => "active",
            InstallationState::Suspended => "suspended",
            InstallationState::Deleted => "deleted",
        }
    }

    /// Why an installation in this state mints no token (naming it), or `None`.
    pub fn refusal(self, id: InstallationId) -> Option<String> {
        match self {
            InstallationState::Active => None,
            InstallationState::Suspended => Some(format!("the GitHub App installation {id} was suspended on GitHub")),
            InstallationState::Deleted => Some(format!("the GitHub App installation {id} was uninstalled from GitHub")),
        }
    }
}

/// Whether an `installation` event of GitHub's time `event_ms` is older than the state last
/// applied (at `applied_ms`) and must be ignored: GitHub redelivers and reorders events, so
/// arrival order says nothing. An equal time applies (a redelivery of the same event is
/// harmless); an event or a record without a readable time cannot be ordered and applies.
pub fn installation_event_is_stale(applied_ms: Option<u64>, event_ms: Option<u64>) -> bool {
    matches!((applied_ms, event_ms), (Some(applied), Some(event)) if event < applied)
}

/// The app's private key as WebCrypto imports it (PKCS#8 DER of an RSA key).
#[derive(Clone, PartialEq, Eq)]
pub struct AppKey {
    pub pkcs8_der: Vec<u8>,
}

impl fmt::Debug for AppKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppKey(..)")
    }
}

/// DER of the AlgorithmIdentifier `rsaEncryption` (OID 1.2.840.113549.1.1.1, NULL parameters).
const RSA_ALGORITHM: [u8; 15] = [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];

impl AppKey {
    /// A PEM key as GitHub hands it out (PKCS#1) or as PKCS#8. A value pasted with literal
    /// `\n` (an environment variable on one line) is read the same way.
    pub fn from_pem(pem: &str) -> Result<AppKey, String> {
        let text = pem.trim().replace("\\n", "\n").replace("\r\n", "\n");
        let (label, der) = decode_pem(&text)?;
        match label {
            "RSA PRIVATE KEY" => {
                der_sequence(&der).ok_or("the RSA PRIVATE KEY is not a DER sequence (PKCS#1)")?;
                Ok(AppKey { pkcs8_der: wrap_pkcs1(&der) })
            }
            "PRIVATE KEY" => {
                let body = der_sequence(&der).ok_or("the PRIVATE KEY is not a DER sequence (PKCS#8)")?;
                // version INTEGER 0, then the algorithm: it must be RSA.
                if body.get(3..3 + RSA_ALGORITHM.len()) != Some(&RSA_ALGORITHM[..]) {
                    return Err("the PRIVATE KEY is not an RSA key (GitHub App keys are RSA)".into());
                }
                Ok(AppKey { pkcs8_der: der })
            }
            "ENCRYPTED PRIVATE KEY" => Err("the key is encrypted; give the unencrypted PEM GitHub hands out".into()),
            other => Err(format!("a PEM \"{other}\" is not a private key: expected BEGIN RSA PRIVATE KEY or BEGIN PRIVATE KEY")),
        }
    }
}

fn decode_pem(text: &str) -> Result<(&str, Vec<u8>), String> {
    let unreadable = |e: pem_rfc7468::Error| format!("the key is not a readable PEM document ({e})");
    let mut decoder = pem_rfc7468::Decoder::new_detect_wrap(text.as_bytes()).map_err(unreadable)?;
    let label = decoder.type_label();
    let mut der = Vec::new();
    decoder.decode_to_end(&mut der).map_err(unreadable)?;
    Ok((label, der))
}

/// The contents of a DER SEQUENCE that spans all of `der`, or `None`.
fn der_sequence(der: &[u8]) -> Option<&[u8]> {
    let (&tag, rest) = der.split_first()?;
    if tag != 0x30 {
        return None;
    }
    let (len, header) = match *rest.first()? {
        n if n < 0x80 => (usize::from(n), 1),
        0x81 => (usize::from(*rest.get(1)?), 2),
        0x82 => ((usize::from(*rest.get(1)?) << 8) | usize::from(*rest.get(2)?), 3),
        _ => return None,
    };
    let body = rest.get(header..)?;
    (body.len() == len).then_some(body)
}

fn der_length(len: usize) -> Vec<u8> {
    match len {
        0..=0x7f => vec![len as u8],
        0x80..=0xff => vec![0x81, len as u8],
        _ => vec![0x82, (len >> 8) as u8, len as u8],
    }
}

/// PKCS#8 `PrivateKeyInfo { version 0, rsaEncryption, OCTET STRING <PKCS#1 key> }`.
fn wrap_pkcs1(pkcs1: &[u8]) -> Vec<u8> {
    let mut body = vec![0x02, 0x01, 0x00];
    body.extend_from_slice(&RSA_ALGORITHM);
    body.push(0x04);
    body.extend(der_length(pkcs1.len()));
    body.extend_from_slice(pkcs1);
    let mut out = vec![0x30];
    out.extend(der_length(body.len()));
    out.extend(body);
    out
}

/// `iat` is set this far in the past, as GitHub advises, against clock drift.
pub const JWT_BACKDATE_SECS: u64 = 60;
/// `exp` this far ahead of now: under GitHub's 10 minutes, with a minute to spare for a
/// clock that runs ahead of GitHub's.
pub const JWT_LIFETIME_SECS: u64 = 9 * 60;

/// `base64url(header).base64url(claims)`: the bytes an RS256 signature covers.
pub fn jwt_signing_input(app_id: u64, now_secs: u64) -> String {
    let header = br#"{"alg":"RS256","typ":"JWT"}"#;
    let claims =
        format!(r#"{{"iat":{},"exp":{},"iss":{app_id}}}"#, now_secs.saturating_sub(JWT_BACKDATE_SECS), now_secs + JWT_LIFETIME_SECS);
    format!("{}.{}", base64url_encode(header), base64url_encode(claims.as_bytes()))
}

/// The JWT: the signing input and its signature.
pub fn jwt(signing_input: &str, signature: &[u8]) -> String {
    format!("{signing_input}.{}", base64url_encode(signature))
}

/// A cached installation token is used until this long before it expires.
pub const TOKEN_RENEW_MARGIN_MS: u64 = 5 * 60 * 1000;

/// Whether a token that expires at `expires_at_ms` may still be handed out.
pub fn token_usable(expires_at_ms: u64, now_ms: u64) -> bool {
    now_ms + TOKEN_RENEW_MARGIN_MS < expires_at_ms
}

/// How long an isolate holds the lease on minting an installation's token: the others wait
/// for the token it stores rather than mint their own. A lease not released (its isolate
/// died) lapses after this.
pub const MINT_LEASE_MS: u64 = 10_000;

/// Whether the mint lease that ends at `until_ms` may be claimed at `now_ms`: nobody holds
/// it, or it lapsed. The claiming UPDATE's WHERE says the same.
pub fn mint_lease_free(until_ms: Option<u64>, now_ms: u64) -> bool {
    until_ms.is_none_or(|until| until <= now_ms)
}

/// The waits (ms) of an isolate that found the lease held, each followed by a re-read of the
/// cached token; after the last it mints itself (the holder is slow or gone). Together
/// they stay within the lease.
pub const MINT_WAITS_MS: [u64; 6] = [100, 200, 400, 800, 1_600, 3_200];

/// A token another isolate's mint may leave the waiting one with at least this much life.
pub const WAITED_TOKEN_MIN_LIFE_MS: u64 = 60_000;

/// Whether an isolate waiting on another's mint may take the cached token it re-read
/// (`after`, sealed, expiring at `expires_at_ms`): it is another token than the one it
/// found unusable or GitHub refused (`before`), so one minted meanwhile, and has a minute
/// left (GitHub's own lifetime may be shorter than the renewal margin).
pub fn waited_token_takeable(before: Option<&str>, after: Option<&str>, expires_at_ms: u64, now_ms: u64) -> bool {
    after.is_some() && after != before && now_ms + WAITED_TOKEN_MIN_LIFE_MS < expires_at_ms
}

/// GitHub's longest installation tokens (it is moving to a longer format).
pub const MAX_TOKEN_CHARS: usize = 1_000;

pub fn installation_path(id: InstallationId) -> String {
    format!("/app/installations/{id}")
}

pub fn access_tokens_path(id: InstallationId) -> String {
    format!("/app/installations/{id}/access_tokens")
}

/// Repositories an installation token reaches, 100 a page (GitHub's most).
pub const REPOSITORIES_PER_PAGE: u64 = 100;

pub fn installation_repositories_path(page: u64) -> String {
    format!("/installation/repositories?per_page={REPOSITORIES_PER_PAGE}&page={page}")
}

#[derive(Debug, Deserialize)]
pub struct InstallationWire {
    pub account: AccountWire,
    pub repository_selection: String,
    #[serde(default)]
    pub suspended_at: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct AccountWire {
    pub login: String,
}

#[derive(Deserialize)]
pub struct AccessTokenWire {
    pub token: String,
    pub expires_at: String,
}

impl AccessTokenWire {
    /// A token we can store and send: printable ASCII, at most `MAX_TOKEN_CHARS`.
    pub fn checked_token(&self) -> Result<&str, String> {
        let t = self.token.as_str();
        if t.is_empty() || t.len() > MAX_TOKEN_CHARS || !t.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!("an installation token of {} characters that is not a token", t.len()));
        }
        Ok(t)
    }
}

#[derive(Debug, Deserialize)]
pub struct InstallationReposWire {
    pub total_count: u64,
    pub repositories: Vec<InstallationRepoWire>,
}

#[derive(Debug, Deserialize)]
pub struct InstallationRepoWire {
    pub full_name: String,
    pub private: bool,
    pub default_branch: String,
}

/// What a refusal of the App's own endpoints means, when it is about the App (a JWT GitHub
/// refused, an installation it does not know or has suspended); `None` for the refusals
/// every endpoint shares (rate limits, outages), which `github::classify_failure` reads.
pub fn app_refusal(status: u16, body: &str) -> Option<GhError> {
    #[derive(Deserialize)]
    struct Body {
        message: Option<String>,
    }
    let message = serde_json::from_str::<Body>(body).ok().and_then(|b| b.message).unwrap_or_default();
    match status {
        401 => Some(GhError::Credential(format!("GitHub refused the App's JWT: {message}"))),
        404 => Some(GhError::Credential("GitHub does not know this installation of the App (was it uninstalled?)".into())),
        403 if message.to_ascii_lowercase().contains("suspended") => {
            Some(GhError::Credential(format!("GitHub refused to mint a token: {message}")))
        }
        _ => None,
    }
}

/// The GitHub pages (1-based, 100 each) that hold items `offset .. offset + limit`.
pub fn pages_for(offset: u64, limit: u64) -> std::ops::RangeInclusive<u64> {
    let first = offset / REPOSITORIES_PER_PAGE + 1;
    let last = (offset + limit.max(1) - 1) / REPOSITORIES_PER_PAGE + 1;
    first..=last
}

#[cfg(test)]
mod tests;
