//! `users`: who may call the API (tokens stored only as SHA-256 hashes).

use super::{s, Db, DbResult};
use crate::domain::Id;
use serde::Deserialize;

impl Db {
    /// The user whose token hashes to `token_hash`.
    pub async fn user_by_token_hash(&self, token_hash: &str) -> DbResult<Option<Id>> {
        #[derive(Deserialize)]
        struct Row {
            id: Id,
        }
        Ok(self.first::<Row>("SELECT id FROM users WHERE token_hash = ?1", &[s(token_hash)]).await?.map(|r| r.id))
    }

    pub async fn insert_user(&self, id: &str, name: &str, token_hash: &str, now: &str) -> DbResult<()> {
        self.run(
            "INSERT INTO users (id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            &[s(id), s(name), s(token_hash), s(now)],
        )
        .await?;
        Ok(())
    }
}
