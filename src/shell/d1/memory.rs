//! Memory entries: chunks of the text blobs (`blob_chunks`, shared by a repository's
//! projects) that are active for a project at a chain position, listed or searched. The
//! full-text index (`memory_fts`, contentless) is keyed by repository, so a search ranks
//! only the repository's own chunks.

use super::files::VISIBLE_AT;
use super::{n, s, Db, DbResult};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryView {
    pub id: String,
    pub path: String,
    pub sha: String,
    pub chunk: u32,
    pub text: String,
    pub sync_id: String,
}

impl Db {
    /// Active memory entries at `seq` in path and chunk order, after `(path, chunk)`.
    pub async fn memory_list(&self, project: &str, seq: u64, scope: &str, after: (&str, u64), limit: u32) -> DbResult<Vec<MemoryView>> {
        self.all(
            &format!(
                "SELECT fv.id || ':' || c.chunk AS id, fv.path, fv.sha, c.chunk, c.text, fv.introduced_sync_id AS syncId \
                 FROM file_versions fv JOIN blob_chunks c ON c.repository = ?3 AND c.sha = fv.sha \
                 WHERE fv.project_id = ?1 AND {VISIBLE_AT} AND fv.kind = 'file' \
                 AND (fv.path > ?4 OR (fv.path = ?4 AND c.chunk > ?5)) \
                 ORDER BY fv.path, c.chunk LIMIT ?6"
            ),
            &[s(project), n(seq), s(scope), s(after.0), n(after.1), n(u64::from(limit))],
        )
        .await
    }

    /// Active memory entries at `seq` matching an FTS5 query (already scoped to the
    /// repository), best match first, among chunks up to `max_chunk` (so later pages see
    /// the same set), from `offset`.
    pub async fn memory_search(&self, project: &str, seq: u64, fts: &str, max_chunk: u64, offset: u64, limit: u32) -> DbResult<Vec<MemoryView>> {
        self.all(
            &format!(
                "SELECT fv.id || ':' || c.chunk AS id, fv.path, fv.sha, c.chunk, c.text, fv.introduced_sync_id AS syncId \
                 FROM memory_fts f JOIN blob_chunks c ON c.id = f.rowid \
                 JOIN file_versions fv ON fv.project_id = ?1 AND fv.sha = c.sha AND {VISIBLE_AT} AND fv.kind = 'file' \
                 WHERE memory_fts MATCH ?3 AND f.rowid <= ?4 \
                 ORDER BY f.rank, c.id, fv.path LIMIT ?5 OFFSET ?6"
            ),
            &[s(project), n(seq), s(fts), n(max_chunk), n(u64::from(limit)), n(offset)],
        )
        .await
    }

    /// The newest chunk id: a search's first page pins the set of chunks its pages rank.
    pub async fn newest_chunk(&self) -> DbResult<u64> {
        #[derive(Deserialize)]
        struct Row {
            id: Option<u64>,
        }
        Ok(self.first::<Row>("SELECT max(id) AS id FROM blob_chunks", &[]).await?.and_then(|r| r.id).unwrap_or(0))
    }
}
