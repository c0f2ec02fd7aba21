//! `content_sweeps` and the content rows they delete (`crate::sweep`): a deleted project's
//! repository is walked in sha order, and its blob rows (with their full-text entries) that
//! no remaining project's version references are deleted, never while a sync of the
//! repository runs — every guard inside the deleting statements themselves, so what they
//! check and what they delete is one transaction.

use super::{n, s, Db, DbResult, DROP_UNLISTED_PACKS, RUNNING_STATUSES};
use crate::sweep::Swept;
use serde::Deserialize;

/// No sync of a project on repository ?1 is queued or running.
fn no_running_sync() -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM syncs rs JOIN projects rp ON rp.id = rs.project_id \
         WHERE rp.repository = ?1 COLLATE NOCASE AND rs.status IN {RUNNING_STATUSES})"
    )
}

/// Some version of a project on repository ?1 has blob `sha`.
fn referenced(sha: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM projects fp JOIN file_versions fv ON fv.project_no = fp.no AND fv.sha = {sha} \
         WHERE fp.repository = ?1 COLLATE NOCASE)"
    )
}

/// The packs among `list` (a JSON array parameter of keys) that a blob row points into, as
/// a query of one column, `pack` (once per such row): the blob rows each pack's ledger
/// names, looked up by their row id.
fn packs_pointed_into(list: &str) -> String {
    format!(
        "SELECT p.key AS pack FROM json_each({list}) k CROSS JOIN packs p ON p.key = k.value \
         CROSS JOIN pack_blobs l ON l.pack_id = p.id CROSS JOIN json_each(l.ids) j \
         CROSS JOIN blob_contents b ON b.id = j.value AND b.pack_id = p.id"
    )
}

/// A repository waiting for its sweep, and how far its walk got.
#[derive(Debug, Clone, Deserialize)]
pub struct SweepRow {
    pub repository: String,
    pub after_sha: String,
    pub requested_at: String,
}

#[derive(Deserialize)]
struct PageRow {
    id: u64,
    sha: String,
    size: u64,
    chunks: String,
    pack: Option<String>,
    pack_offset: Option<u64>,
    referenced: u8,
}

impl Db {
    /// The repository asked for longest ago.
    pub async fn next_content_sweep(&self) -> DbResult<Option<SweepRow>> {
        self.first("SELECT repository, after_sha, requested_at FROM content_sweeps ORDER BY requested_at LIMIT 1", &[]).await
    }

    /// Whether a sync of a project on the repository is queued or running here.
    pub async fn repository_busy(&self, repository: &str) -> DbResult<bool> {
        #[derive(Deserialize)]
        struct Row {
            busy: u8,
        }
        let row: Option<Row> = self.first(&format!("SELECT NOT {} AS busy", no_running_sync()), &[s(repository)]).await?;
        Ok(row.is_some_and(|r| r.busy == 1))
    }

    /// The next page of the repository's blob rows after `after_sha`: the last sha seen,
    /// and those no version of its projects references.
    pub async fn sweep_page(&self, repository: &str, after_sha: &str, limit: u32) -> DbResult<(Option<String>, usize, Vec<Swept>)> {
        let rows: Vec<PageRow> = self
            .all(
                &format!(
                    "SELECT b.id, b.sha, b.size, b.chunks, p.key AS pack, b.pack_offset, {} AS referenced \
                     FROM blob_contents b LEFT JOIN packs p ON p.id = b.pack_id \
                     WHERE b.repository = ?1 AND b.sha > ?2 ORDER BY b.sha LIMIT ?3",
                    referenced("b.sha")
                ),
                &[s(repository), s(after_sha), n(u64::from(limit))],
            )
            .await?;
        let last = rows.last().map(|r| r.sha.clone());
        let count = rows.len();
        let swept = rows
            .into_iter()
            .filter(|r| r.referenced == 0)
            .map(|r| Swept {
                id: r.id,
                sha: r.sha,
                size: r.size,
                chunk_starts: serde_json::from_str(&r.chunks).unwrap_or_default(),
                pack: r.pack.zip(r.pack_offset),
            })
            .collect();
        Ok((last, count, swept))
    }

    /// Deletes the swept rows and their full-text entries (`entries`: JSON arrays of
    /// document id, text, blob sha) in one transaction, each only if still unreferenced,
    /// still there, and no sync of the repository runs. Returns the blob rows deleted.
    pub async fn delete_swept(&self, repository: &str, fts_scope: &str, entries: &[String], ids: &str) -> DbResult<u64> {
        let mut statements = Vec::with_capacity(entries.len() + 1);
        for json in entries {
            statements.push(self.stmt(
                &format!(
                    "INSERT INTO memory_fts (memory_fts, rowid, scope, text) \
                         SELECT 'delete', j.value ->> 0, ?2, j.value ->> 1 FROM json_each(?3) j \
                         WHERE {} AND NOT {} \
                         AND EXISTS (SELECT 1 FROM blob_contents b WHERE b.id = (j.value ->> 0) / 65536 AND b.sha = j.value ->> 2)",
                    no_running_sync(),
                    referenced("j.value ->> 2")
                ),
                &[s(repository), s(fts_scope), s(json)],
            )?);
        }
        statements.push(self.stmt(
            &format!(
                "DELETE FROM blob_contents WHERE repository = ?1 AND id IN (SELECT value FROM json_each(?2)) \
                         AND {} AND NOT {}",
                no_running_sync(),
                referenced("blob_contents.sha")
            ),
            &[s(repository), s(ids)],
        )?);
        let changed = self.batch(statements).await?;
        Ok(changed.last().copied().unwrap_or(0))
    }

    /// Moves the walk on, or ends it when `after` is `None`; unless the repository was asked
    /// for again meanwhile (a newer `requested_at`: the walk starts over).
    pub async fn advance_content_sweep(&self, sweep: &SweepRow, after: Option<&str>) -> DbResult<()> {
        let (repo, at) = (s(&sweep.repository), s(&sweep.requested_at));
        match after {
            Some(sha) => {
                self.run("UPDATE content_sweeps SET after_sha = ?3 WHERE repository = ?1 AND requested_at = ?2", &[repo, at, s(sha)])
                    .await?
            }
            None => self.run("DELETE FROM content_sweeps WHERE repository = ?1 AND requested_at = ?2", &[repo, at]).await?,
        };
        Ok(())
    }

    /// Which of `packs` (a JSON array of keys) some blob row here still points into: the
    /// blob rows each pack's ledger names, looked up by their row id.
    pub async fn packs_in_use(&self, packs: &str) -> DbResult<Vec<String>> {
        #[derive(Deserialize)]
        struct Row {
            pack: String,
        }
        let rows: Vec<Row> = self.all(&format!("SELECT DISTINCT pack FROM ({})", packs_pointed_into("?1")), &[s(packs)]).await?;
        Ok(rows.into_iter().map(|r| r.pack).collect())
    }

    /// Forgets the ledger and number of `packs` (a JSON array of keys) whose objects were
    /// deleted, except a pack some blob row points into again (a sync stored the same batch
    /// meanwhile). One transaction: nothing is stored between what it checks and deletes.
    pub async fn forget_packs(&self, packs: &str) -> DbResult<()> {
        let unused =
            format!("SELECT id FROM packs WHERE key IN (SELECT value FROM json_each(?1)) AND key NOT IN ({})", packs_pointed_into("?1"));
        self.batch(vec![
            self.stmt(&format!("DELETE FROM pack_blobs WHERE pack_id IN ({unused})"), &[s(packs)])?,
            // What is left of a pack's ledger is in use (the statement above just asked).
            self.stmt(DROP_UNLISTED_PACKS, &[s(packs)])?,
        ])
        .await?;
        Ok(())
    }

    /// A repository's content rows and full-text entries here (diagnostics).
    pub async fn content_usage(&self, repository: &str, fts_scope: &str) -> DbResult<(u64, u64)> {
        #[derive(Deserialize)]
        struct Row {
            rows: u64,
            entries: u64,
        }
        let row: Option<Row> = self
            .first(
                "SELECT (SELECT count(*) FROM blob_contents WHERE repository = ?1) AS rows, \
                 (SELECT count(*) FROM memory_fts WHERE memory_fts MATCH 'scope : ' || ?2) AS entries",
                &[s(repository), s(fts_scope)],
            )
            .await?;
        Ok(row.map_or((0, 0), |r| (r.rows, r.entries)))
    }
}
