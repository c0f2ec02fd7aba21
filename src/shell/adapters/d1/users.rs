//! `users`: who may call the API (tokens stored only as SHA-256 hashes).

use super::{s, Db, DbResult};
use crate::domain::Timestamp;
use crate::domain::UserId;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub name: String,
    pub token_hash: String,
    pub created_at: String,
}

impl Db {
    /// The user whose token hashes to `token_hash`.
    pub async fn user_by_token_hash(&self, token_hash: &str) -> DbResult<Option<UserId>> {
        #[derive(Deserialize)]
        struct Row {
            id: UserId,
        }
        Ok(self.first::<Row>("SELECT id FROM users WHERE token_hash = ?1", &[s(token_hash)]).await?.map(|r| r.id))
    }

    /// The user's row as it is copied into the database of each of its projects (which
    /// refer to it); the home database holds the original.
    pub async fn user(&self, id: &UserId) -> DbResult<Option<UserRow>> {
        self.first("SELECT id, name, token_hash, created_at FROM users WHERE id = ?1", &[s(id)]).await
    }

    /// Writes a copy of a user row (nothing when this database holds it already).
    pub async fn copy_user(&self, user: &UserRow) -> DbResult<()> {
        self.run(
            "INSERT INTO users (id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (id) DO NOTHING",
            &[s(&user.id), s(&user.name), s(&user.token_hash), s(&user.created_at)],
        )
        .await?;
        Ok(())
    }

    pub async fn insert_user(&self, id: &UserId, name: &str, token_hash: &str, now: &Timestamp) -> DbResult<()> {
        self.run("INSERT INTO users (id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)", &[s(id), s(name), s(token_hash), s(now)])
            .await?;
        Ok(())
    }
}
