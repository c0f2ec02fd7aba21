//! Installation tokens of the GitHub App: one per installation, shared by all its projects.
//! A token is minted with an app JWT (signed through WebCrypto), kept sealed in the home
//! database until 5 minutes before it expires, and renewed at once when GitHub answers 401.
//! Tokens are never returned or logged; an installation GitHub suspended or deleted mints
//! none, and every request of its projects fails naming it.
//!
//! Minting is single-flight: requests of one isolate share one mint (`mint_flight`), and
//! isolates share one through a short lease in the installation's row: the isolate that
//! claims it mints, the others re-read the cached row a few times (`MINT_WAITS_MS`) and
//! take the token stored meanwhile, or mint themselves once the waits are spent.

use super::mint_flight::{self, Join};
use crate::config::{GitHubApp, Settings};
use crate::error::AppResult;
use crate::github::GhError;
use crate::github_app::{
    jwt, jwt_signing_input, token_usable, waited_token_takeable, AccessTokenWire, InstallationId, MINT_LEASE_MS, MINT_WAITS_MS,
};
use crate::shell::adapters::crypto::{decrypt_token, encrypt_token, sign_rs256};
use crate::shell::adapters::d1::{Db, InstallationRow};
use crate::shell::adapters::github_transport::GitHubTransport;
use crate::shell::adapters::{now, now_ms};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use worker::Delay;

pub struct InstallationTokens {
    id: InstallationId,
    home: Rc<Db>,
    settings: Settings,
    /// The token this client uses, once read or minted.
    current: RefCell<Option<String>>,
    /// The installation's row, read once per client (its state and cached token).
    row: RefCell<Option<InstallationRow>>,
    /// The sealed token this client last found unusable or holds: a mint another isolate
    /// finished meanwhile leaves another one in the row.
    seen_sealed: RefCell<Option<String>>,
}

/// A JWT that speaks as the App (valid for 9 minutes).
pub async fn app_jwt(app: &GitHubApp) -> AppResult<String> {
    let input = jwt_signing_input(app.id, now_ms() / 1000);
    let signature = sign_rs256(&app.key, input.as_bytes()).await?;
    Ok(jwt(&input, &signature))
}

/// A minted token's expiry in epoch milliseconds (an hour when GitHub's time is unreadable).
pub fn expiry_ms(wire: &AccessTokenWire) -> u64 {
    crate::timestamp::parse_rfc3339_ms(&wire.expires_at).unwrap_or_else(|| now_ms() + 3_600_000)
}

impl InstallationTokens {
    pub fn new(id: InstallationId, home: Rc<Db>, settings: Settings) -> InstallationTokens {
        InstallationTokens { id, home, settings, current: RefCell::new(None), row: RefCell::new(None), seen_sealed: RefCell::new(None) }
    }

    pub fn id(&self) -> InstallationId {
        self.id
    }

    fn unusable(&self, why: impl std::fmt::Display) -> GhError {
        GhError::Credential(format!("the GitHub App installation {} {why}", self.id))
    }

    /// The token to send: this client's, else the cached one while it has 5 minutes left,
    /// else a new one.
    pub async fn token(&self, gh: &GitHubTransport) -> Result<String, GhError> {
        if let Some(token) = self.current.borrow().clone() {
            return Ok(token);
        }
        let row = self.usable_row().await?;
        self.seen_sealed.replace(row.token_enc.clone());
        if let (Some(sealed), Some(expires)) = (&row.token_enc, row.token_expires_ms) {
            if token_usable(expires, now_ms()) {
                if let Ok(token) = self.open(sealed).await {
                    *self.current.borrow_mut() = Some(token.clone());
                    return Ok(token);
                }
            }
        }
        self.mint(gh).await
    }

    /// The installation's row, once it is known to be usable: granted here and active.
    async fn usable_row(&self) -> Result<InstallationRow, GhError> {
        let cached = self.row.borrow().clone();
        let row = match cached {
            Some(row) => row,
            None => {
                let read = self.home.installation(self.id).await.map_err(|e| GhError::Unavailable(e.to_string()))?;
                let row = read.ok_or_else(|| self.unusable("is not granted here"))?;
                *self.row.borrow_mut() = Some(row.clone());
                row
            }
        };
        match row.state.refusal(self.id) {
            Some(why) => Err(GhError::Credential(why)),
            None => Ok(row),
        }
    }

    /// Why the installation cannot be used (it names it), or `None`. A read that fails is
    /// no verdict: the requests that follow ask again.
    pub async fn refusal(&self) -> Option<String> {
        match self.usable_row().await {
            Err(GhError::Credential(why)) => Some(why),
            _ => None,
        }
    }

    /// After GitHub refused the current token: a new one, whatever the cache says.
    pub async fn renew(&self, gh: &GitHubTransport) -> Result<String, GhError> {
        self.current.borrow_mut().take();
        self.mint(gh).await
    }

    async fn open(&self, sealed: &str) -> AppResult<String> {
        decrypt_token(&self.settings.token_keys()?, sealed).await
    }

    /// A new token: this isolate's mint under way, else another isolate's (by the lease),
    /// else one of its own.
    async fn mint(&self, gh: &GitHubTransport) -> Result<String, GhError> {
        let answer = match mint_flight::join(self.id) {
            Join::Follow(flight) => match mint_flight::follow(flight).await {
                Some(answer) => answer,
                // The leading request went away before it settled: mint for this one.
                None => self.mint_across_isolates(gh).await,
            },
            Join::Lead(leader) => {
                let answer = self.mint_across_isolates(gh).await;
                leader.settle(&answer);
                answer
            }
        };
        let token = answer?;
        *self.current.borrow_mut() = Some(token.clone());
        Ok(token)
    }

    async fn mint_across_isolates(&self, gh: &GitHubTransport) -> Result<String, GhError> {
        let now = now_ms();
        let until = now + MINT_LEASE_MS;
        // A lease that cannot be read or written is no reason not to mint.
        let claimed = self.home.claim_mint_lease(self.id, now, until).await.unwrap_or(true);
        if claimed {
            let minted = self.mint_now(gh).await;
            if minted.is_err() {
                if let Err(e) = self.home.release_mint_lease(self.id, until).await {
                    worker::console_warn!("installation {}: the mint lease was not released (it lapses): {e}", self.id);
                }
            }
            return minted;
        }
        for wait in MINT_WAITS_MS {
            Delay::from(Duration::from_millis(wait)).await;
            if let Some(token) = self.minted_meanwhile().await? {
                return Ok(token);
            }
        }
        // The lease holder is slow or gone: this client cannot wait any longer.
        self.mint_now(gh).await
    }

    /// The token another isolate stored since this client looked, if it can be taken.
    async fn minted_meanwhile(&self) -> Result<Option<String>, GhError> {
        let Ok(Some(row)) = self.home.installation(self.id).await else { return Ok(None) };
        if let Some(why) = row.state.refusal(self.id) {
            return Err(GhError::Credential(why));
        }
        let before = self.seen_sealed.borrow().clone();
        let (Some(sealed), Some(expires)) = (row.token_enc, row.token_expires_ms) else { return Ok(None) };
        if !waited_token_takeable(before.as_deref(), Some(&sealed), expires, now_ms()) {
            return Ok(None);
        }
        Ok(self.open(&sealed).await.ok())
    }

    async fn mint_now(&self, gh: &GitHubTransport) -> Result<String, GhError> {
        let app = self.settings.github_app().map_err(|e| {
            worker::console_error!("installation {}: {e}", self.id);
            self.unusable("cannot be used: the service's GitHub App is not configured (see the service log)")
        })?;
        let jwt = app_jwt(&app).await.map_err(|e| self.unusable(format!("cannot be used: {}", e.public_message())))?;
        // Through the transport alone: no credential of this installation is needed.
        let wire = gh.mint_installation_token(self.id, &jwt).await.map_err(|e| match e {
            GhError::Credential(why) => self.unusable(format!("has no token: {why}")),
            // A refusal names the installation; outages and rate limits stay what they are
            // (retried, or waited for, like any request).
            refused @ (GhError::Refused { .. } | GhError::Unauthorized | GhError::NotFound(_) | GhError::Malformed(_)) => {
                self.unusable(format!("has no token: {refused}"))
            }
            other => other,
        })?;
        let token = wire.checked_token().map_err(GhError::Malformed)?.to_string();
        // A token that cannot be cached still serves this client; the next one mints again.
        if let Err(e) = self.keep(&token, expiry_ms(&wire)).await {
            worker::console_warn!("installation {}: the new token was not cached: {e}", self.id);
        }
        Ok(token)
    }

    async fn keep(&self, token: &str, expires_ms: u64) -> AppResult<()> {
        let sealed = encrypt_token(&self.settings.token_keys()?, token).await?;
        self.home.store_installation_token(self.id, &sealed, expires_ms, &now()).await?;
        self.seen_sealed.replace(Some(sealed));
        Ok(())
    }
}
