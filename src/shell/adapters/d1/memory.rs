//! Memory entries: chunks of the text blobs a project has active at a chain position,
//! listed or searched. D1 knows where each blob's chunks start (`blob_contents.chunks`); the
//! text is in R2, in the pack the blob row names. The full-text index (`memory_fts`, contentless, one document per chunk,
//! docid = blob id * 65536 + chunk) carries a scope token per repository, so a search
//! matches and ranks only the repository's own chunks.

use super::files::VISIBLE_AT;
use super::{n, s, Db, DbResult, PROJECT_NO};
use crate::domain::ProjectId;
use serde::Deserialize;

/// One memory entry as D1 knows it: where its text is, not the text.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChunkRef {
    pub id: String,
    pub path: String,
    pub sha: String,
    pub chunk: u32,
    pub start: u64,
    pub end: u64,
    pub sync_id: String,
    /// The pack holding the blob's text, and where in it the text starts.
    pub pack: String,
    pub base: u64,
}

impl ChunkRef {
    /// The chunk's length in bytes (`start` and `end` are offsets in the blob's text).
    pub fn bytes(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
}

/// The entry's columns, from `fv` (a version), `b` (its blob), `p` (its pack) and `c` (a chunk of it).
const ENTRY: &str = "fv.introduced_sync_id || ':' || c.key || ':' || fv.path AS id, fv.path, fv.sha, c.key AS chunk, \
     c.value AS start, COALESCE(json_extract(b.chunks, '$[' || (c.key + 1) || ']'), b.size) AS \"end\", \
     fv.introduced_sync_id AS syncId, p.key AS pack, b.pack_offset AS base";

impl Db {
    /// Active memory entries at `seq` in path and chunk order, after `(path, chunk)`.
    pub async fn memory_list(&self, project: &ProjectId, seq: u64, scope: &str, after: (&str, u64), limit: u32) -> DbResult<Vec<ChunkRef>> {
        self.all(
            &format!(
                "SELECT {ENTRY} FROM file_versions fv \
                 JOIN blob_contents b ON b.repository = ?3 AND b.sha = fv.sha AND b.pack_id IS NOT NULL \
                 JOIN packs p ON p.id = b.pack_id \
                 JOIN json_each(b.chunks) c \
                 WHERE fv.project_no = {PROJECT_NO} AND {VISIBLE_AT} AND fv.kind = 'file' \
                 AND (fv.path > ?4 OR (fv.path = ?4 AND c.key > ?5)) \
                 ORDER BY fv.path, c.key LIMIT ?6"
            ),
            &[s(project), n(seq), s(scope), s(after.0), n(after.1), n(u64::from(limit))],
        )
        .await
    }

    /// Active memory entries at `seq` matching an FTS5 query (already scoped to the
    /// repository), best match first, among documents up to `max_doc` (so later pages see
    /// the same set), from `offset`.
    pub async fn memory_search(
        &self,
        project: &ProjectId,
        seq: u64,
        fts: &str,
        max_doc: u64,
        offset: u64,
        limit: u32,
    ) -> DbResult<Vec<ChunkRef>> {
        self.all(
            &format!(
                "SELECT {ENTRY} FROM memory_fts f \
                 JOIN blob_contents b ON b.id = f.rowid / 65536 AND b.pack_id IS NOT NULL \
                 JOIN packs p ON p.id = b.pack_id \
                 JOIN json_each(b.chunks) c ON c.key = f.rowid % 65536 \
                 JOIN file_versions fv ON fv.project_no = {PROJECT_NO} AND fv.sha = b.sha AND {VISIBLE_AT} AND fv.kind = 'file' \
                 WHERE memory_fts MATCH ?3 AND f.rowid <= ?4 \
                 ORDER BY f.rank, f.rowid, fv.path LIMIT ?5 OFFSET ?6"
            ),
            &[s(project), n(seq), s(fts), n(max_doc), n(u64::from(limit)), n(offset)],
        )
        .await
    }

    /// The last document id the index can hold now: a search's first page pins the set of
    /// documents its pages rank.
    pub async fn newest_doc(&self) -> DbResult<u64> {
        #[derive(Deserialize)]
        struct Row {
            id: Option<u64>,
        }
        let newest = self.first::<Row>("SELECT max(id) AS id FROM blob_contents", &[]).await?.and_then(|r| r.id).unwrap_or(0);
        Ok(newest * 65_536 + 65_535)
    }
}
