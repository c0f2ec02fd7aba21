//! The engine's `Scratch` port over the object's own SQLite: the wanted listing, the
//! changes, directory maps and the blobs still to read. Cleared when the sync ends.

use crate::diff::{Change, FileEntry};
use crate::engine::{PendingBlob, Scratch, ScratchMap, StoreError};
use serde::Deserialize;
use worker::{SqlStorage, SqlStorageValue};

/// The scratch tables. `blobs_to_read` is kept in path order for the tarball merge.
pub const SCRATCH_DDL: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS wanted (path TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS changes (idx INTEGER PRIMARY KEY, body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS maps (name TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (name, key)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS blobs_to_read (sha TEXT PRIMARY KEY, path TEXT NOT NULL, size INTEGER NOT NULL, \
     read INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS blobs_to_read_by_path ON blobs_to_read (read, path)",
];

const TABLES: [&str; 4] = ["wanted", "changes", "maps", "blobs_to_read"];

pub struct ObjectScratch {
    pub sql: SqlStorage,
}

pub fn sql_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("object storage: {e}"))
}

pub fn text(v: impl Into<String>) -> SqlStorageValue {
    SqlStorageValue::String(v.into())
}

fn int(v: u64) -> SqlStorageValue {
    SqlStorageValue::Integer(v.min(i64::MAX as u64) as i64)
}

#[derive(Deserialize)]
struct Body {
    body: String,
}

impl ObjectScratch {
    fn exec(&self, sql: &str, args: Vec<SqlStorageValue>) -> Result<(), StoreError> {
        self.sql.exec(sql, args).map_err(sql_err)?;
        Ok(())
    }

    fn rows<T: for<'de> Deserialize<'de>>(&self, sql: &str, args: Vec<SqlStorageValue>) -> Result<Vec<T>, StoreError> {
        self.sql.exec(sql, args).map_err(sql_err)?.to_array().map_err(sql_err)
    }

    fn bodies<T: for<'de> Deserialize<'de>>(&self, sql: &str, args: Vec<SqlStorageValue>) -> Result<Vec<T>, StoreError> {
        let rows: Vec<Body> = self.rows(sql, args)?;
        rows.into_iter().map(|r| serde_json::from_str(&r.body).map_err(sql_err)).collect()
    }
}

impl Scratch for ObjectScratch {
    fn put_wanted(&self, files: &[FileEntry]) -> Result<(), StoreError> {
        for f in files {
            let body = serde_json::to_string(f).map_err(sql_err)?;
            self.exec("INSERT OR REPLACE INTO wanted (path, body) VALUES (?, ?)", vec![text(f.path.clone()), text(body)])?;
        }
        Ok(())
    }

    fn wanted(&self) -> Result<Vec<FileEntry>, StoreError> {
        self.bodies("SELECT body FROM wanted ORDER BY path", vec![])
    }

    fn put_changes(&self, changes: &[Change]) -> Result<(), StoreError> {
        self.exec("DELETE FROM changes", vec![])?;
        for (i, c) in changes.iter().enumerate() {
            let body = serde_json::to_string(c).map_err(sql_err)?;
            self.exec("INSERT INTO changes (idx, body) VALUES (?, ?)", vec![int(i as u64), text(body)])?;
        }
        Ok(())
    }

    fn changes(&self, offset: u64, limit: u64) -> Result<Vec<Change>, StoreError> {
        self.bodies("SELECT body FROM changes WHERE idx >= ? ORDER BY idx LIMIT ?", vec![int(offset), int(limit)])
    }

    fn map_put(&self, map: ScratchMap, entries: &[(String, String)]) -> Result<(), StoreError> {
        for (k, v) in entries {
            self.exec("INSERT OR REPLACE INTO maps (name, key, value) VALUES (?, ?, ?)", vec![text(map.name()), text(k.clone()), text(v.clone())])?;
        }
        Ok(())
    }

    fn map_get(&self, map: ScratchMap, key: &str) -> Result<Option<String>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            value: String,
        }
        let rows: Vec<Row> = self.rows("SELECT value FROM maps WHERE name = ? AND key = ?", vec![text(map.name()), text(key)])?;
        Ok(rows.into_iter().next().map(|r| r.value))
    }

    fn map_all(&self, map: ScratchMap) -> Result<Vec<(String, String)>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            key: String,
            value: String,
        }
        let rows: Vec<Row> = self.rows("SELECT key, value FROM maps WHERE name = ? ORDER BY key", vec![text(map.name())])?;
        Ok(rows.into_iter().map(|r| (r.key, r.value)).collect())
    }

    fn add_pending_blobs(&self, blobs: &[PendingBlob]) -> Result<(), StoreError> {
        for b in blobs {
            self.exec(
                "INSERT INTO blobs_to_read (sha, path, size) VALUES (?, ?, ?) ON CONFLICT (sha) DO NOTHING",
                vec![text(b.sha.clone()), text(b.path.clone()), int(b.size)],
            )?;
        }
        Ok(())
    }

    fn pending_blobs(&self, after: Option<&str>, limit: u64) -> Result<Vec<PendingBlob>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            sha: String,
            path: String,
            size: i64,
        }
        let rows: Vec<Row> = self.rows(
            "SELECT sha, path, size FROM blobs_to_read WHERE read = 0 AND path > ? ORDER BY path LIMIT ?",
            vec![text(after.unwrap_or("")), int(limit)],
        )?;
        Ok(rows.into_iter().map(|r| PendingBlob { sha: r.sha, path: r.path, size: r.size.max(0) as u64 }).collect())
    }

    fn pending_totals(&self) -> Result<(u64, u64), StoreError> {
        #[derive(Deserialize)]
        struct Row {
            n: i64,
            bytes: Option<i64>,
        }
        let rows: Vec<Row> = self.rows("SELECT count(*) AS n, sum(size) AS bytes FROM blobs_to_read WHERE read = 0", vec![])?;
        Ok(rows.first().map(|r| (r.n.max(0) as u64, r.bytes.unwrap_or(0).max(0) as u64)).unwrap_or((0, 0)))
    }

    fn mark_read(&self, shas: &[String]) -> Result<(), StoreError> {
        for sha in shas {
            self.exec("UPDATE blobs_to_read SET read = 1 WHERE sha = ?", vec![text(sha.clone())])?;
        }
        Ok(())
    }

    fn clear(&self) -> Result<(), StoreError> {
        for table in TABLES {
            self.exec(&format!("DELETE FROM {table}"), vec![])?;
        }
        Ok(())
    }
}
