//! `github_cache`: GitHub answers with their ETags, keyed by token scope and URL, so a
//! repeated read is a conditional request that GitHub answers 304 (free).

use super::{opt, s, Db, DbResult};
use crate::domain::Timestamp;
use serde::Deserialize;

/// A GitHub answer kept for conditional requests.
#[derive(Debug, Clone, Deserialize)]
pub struct CachedGet {
    pub etag: String,
    pub link: Option<String>,
    pub body: String,
}

impl Db {
    pub async fn cached_get(&self, key: &str) -> DbResult<Option<CachedGet>> {
        self.first("SELECT etag, link, body FROM github_cache WHERE key = ?1", &[s(key)]).await
    }

    pub async fn store_get(&self, key: &str, etag: &str, link: Option<&str>, body: &str, now: &Timestamp) -> DbResult<()> {
        self.run(
            "INSERT INTO github_cache (key, etag, link, body, stored_at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (key) DO UPDATE SET etag = excluded.etag, link = excluded.link, body = excluded.body, \
             stored_at = excluded.stored_at",
            &[s(key), s(etag), opt(link), s(body), s(now)],
        )
        .await?;
        Ok(())
    }
}
