//! The two sides of a compare as D1 holds them (`crate::compare::Sides`): between chain
//! positions `lo` < `hi`, the versions active at `lo` that a sync in between superseded
//! (the lo side) and the versions active at `hi` that a sync in between introduced (the hi
//! side). A path both states hold in one version row is on neither side.
//!
//! Windows read version rows in path order (the primary key) up to a bound found by
//! counting rows, so a window reads a bounded run of rows whatever the states hold; rename
//! candidates are found by blob id (`file_versions_by_sha`). The indexes are named
//! (`INDEXED BY`): without statistics SQLite prefers the primary key's `project_no` prefix,
//! which reads every version of the project.

use super::files::{introduced_by, EntryRow, ENTRY_COLUMNS};
use super::texts::read_texts;
use super::{n, s, Db, DbError, PROJECT_NO};
use crate::compare::{Side, Sides, Window};
use crate::diff::FileEntry;
use crate::domain::ProjectId;
use crate::shell::adapters::content::ContentBucket;
use crate::similarity::SpanCounts;
use crate::sqlbatch::DEFAULT_CHUNK_ROWS;
use serde::Deserialize;
use std::collections::HashMap;

/// Version rows a window may pass over, per row it may return: where the states mostly
/// agree, a window ends after this many rows whatever it found.
const SCAN_ROWS_PER_ROW: u32 = 2;

/// The lo side, on the rows of `t`.
fn lo_side(t: &str) -> String {
    format!("({t}.introduced_seq <= ?2 AND {t}.superseded_seq > ?2 AND {t}.superseded_seq <= ?3)")
}

/// The hi side, on the rows of `t`.
fn hi_side(t: &str) -> String {
    format!("({t}.introduced_seq > ?2 AND {t}.introduced_seq <= ?3 AND ({t}.superseded_seq IS NULL OR {t}.superseded_seq > ?3))")
}

/// A compare of one project's states: `from` is the lo side when `forward`, else the hi one.
pub struct CompareSides<'a> {
    pub db: &'a Db,
    /// Where the texts are (renames with edits), and the repository they are kept for.
    pub content: &'a ContentBucket,
    pub scope: String,
    pub project: ProjectId,
    pub lo: u64,
    pub hi: u64,
    pub forward: bool,
}

#[derive(Deserialize)]
struct SideRow {
    #[serde(flatten)]
    file: EntryRow,
    lo: u8,
}

#[derive(Deserialize)]
struct PathRow {
    path: String,
}

impl CompareSides<'_> {
    /// Which compare side the lo side is.
    fn is_from(&self, lo: bool) -> bool {
        lo == self.forward
    }

    fn split(&self, rows: Vec<SideRow>) -> Result<(Vec<FileEntry>, Vec<FileEntry>), DbError> {
        let (mut from, mut to) = (Vec::new(), Vec::new());
        for row in rows {
            let from_side = self.is_from(row.lo == 1);
            let entry = row.file.entry().map_err(|e| DbError::Other(e.to_string()))?;
            if from_side {
                from.push(entry);
            } else {
                to.push(entry);
            }
        }
        Ok((from, to))
    }

    /// The SQL condition of compare side `side` on the rows of `t`.
    fn condition(&self, side: Side, t: &str) -> String {
        if self.is_from(true) == (side == Side::From) {
            lo_side(t)
        } else {
            hi_side(t)
        }
    }
}

impl Sides for CompareSides<'_> {
    type Error = DbError;

    async fn window(&self, after: &str, rows: u32) -> Result<Window, DbError> {
        let rows = rows.max(3);
        let (p, lo, hi) = (s(&self.project), n(self.lo), n(self.hi));
        let bound: Option<PathRow> = self
            .db
            .first(
                &format!("SELECT path FROM file_versions WHERE project_no = {PROJECT_NO} AND path > ?2 ORDER BY path LIMIT 1 OFFSET ?3"),
                &[p.clone(), s(after), n(u64::from(rows * SCAN_ROWS_PER_ROW))],
            )
            .await?;
        let bound = bound.map(|b| b.path);
        let upper = if bound.is_some() { "AND f.path <= ?6" } else { "" };
        let sql = format!(
            "SELECT {ENTRY_COLUMNS}, {lo_side} AS lo FROM file_versions f \
             WHERE f.project_no = {PROJECT_NO} AND f.path > ?4 {upper} AND ({lo_side} OR {hi_side}) ORDER BY f.path LIMIT ?5",
            lo_side = lo_side("f"),
            hi_side = hi_side("f"),
        );
        let mut args = vec![p, lo, hi, s(after), n(u64::from(rows))];
        if let Some(b) = &bound {
            args.push(s(b));
        }
        let mut found: Vec<SideRow> = self.db.all(&sql, &args).await?;
        let mut through = bound;
        if found.len() as u32 >= rows {
            // The last path's second version may lie past the limit: it is the next window's.
            let last = found.last().map(|r| r.file.path.clone()).unwrap_or_default();
            found.retain(|r| r.file.path != last);
            through = found.last().map(|r| r.file.path.clone());
        }
        let (from, to) = self.split(found)?;
        Ok(Window { from, to, through })
    }

    async fn candidates(&self, side: Side, shas: &[String]) -> Result<Vec<FileEntry>, DbError> {
        if self.lo == 0 && self.is_from(true) == (side == Side::From) {
            return Ok(Vec::new()); // the empty state's side: nothing is active at position 0
        }
        let other = if side == Side::From { Side::To } else { Side::From };
        let sql = format!(
            "SELECT {ENTRY_COLUMNS}, 0 AS lo FROM file_versions f INDEXED BY file_versions_by_sha \
             WHERE f.project_no = {PROJECT_NO} AND f.sha IN (SELECT value FROM json_each(?4)) AND {this} \
             AND NOT EXISTS (SELECT 1 FROM file_versions o WHERE o.project_no = f.project_no AND o.path = f.path AND {other})",
            this = self.condition(side, "f"),
            other = self.condition(other, "o"),
        );
        let list = serde_json::to_string(shas).map_err(|e| DbError::Other(e.to_string()))?;
        let rows: Vec<SideRow> = self.db.all(&sql, &[s(&self.project), n(self.lo), n(self.hi), s(&list)]).await?;
        rows.into_iter().map(|r| r.file.entry().map_err(|e| DbError::Other(e.to_string()))).collect()
    }

    async fn span_counts(&self, files: &[FileEntry]) -> Result<Vec<Option<SpanCounts>>, DbError> {
        let shas: Vec<String> = files.iter().map(|f| f.sha.to_string()).collect();
        let mut texts: HashMap<String, Option<Vec<u8>>> = HashMap::new();
        for chunk in shas.chunks(DEFAULT_CHUNK_ROWS) {
            texts.extend(read_texts(self.db, self.content, &self.scope, chunk).await?);
        }
        Ok(shas.iter().map(|sha| texts.get(sha).cloned().flatten().map(|t| SpanCounts::of(&t, true))).collect())
    }

    async fn whole(&self, cap: u32) -> Result<Option<(Vec<FileEntry>, Vec<FileEntry>)>, DbError> {
        // The rows the syncs in between introduced or superseded, through the position
        // indexes: a superset of both sides (less what was introduced and superseded in
        // between), read only while it is small. A first sync's rows are in no index by
        // position (`files::introduced_by`): read through the primary key when the empty
        // state is the lo end.
        let introduced = |seq: u64, range: &str| {
            let (index, by_seq) = introduced_by(seq, "f");
            format!(
                "SELECT {ENTRY_COLUMNS}, 0 AS lo, {hi_side} AS kept FROM file_versions f {index} \
                 WHERE f.project_no = {PROJECT_NO} AND {by_seq}{range} UNION ALL ",
                hi_side = hi_side("f")
            )
        };
        let first = if self.lo == 0 { introduced(1, "") } else { String::new() };
        let later = introduced(2, " AND f.introduced_seq > ?2 AND f.introduced_seq <= ?3");
        let sql = format!(
            "SELECT * FROM ( {first}{later} \
               SELECT {ENTRY_COLUMNS}, 1 AS lo, 1 AS kept FROM file_versions f INDEXED BY file_versions_superseded \
               WHERE f.project_no = {PROJECT_NO} AND f.superseded_seq > ?2 AND f.superseded_seq <= ?3 AND f.introduced_seq <= ?2 \
             ) LIMIT ?4"
        );
        let rows: Vec<WholeRow> = self.db.all(&sql, &[s(&self.project), n(self.lo), n(self.hi), n(u64::from(cap) + 1)]).await?;
        if rows.len() as u32 > cap {
            return Ok(None);
        }
        let kept = rows.into_iter().filter(|r| r.kept == 1).map(|r| r.row).collect();
        self.split(kept).map(Some)
    }
}

#[derive(Deserialize)]
struct WholeRow {
    #[serde(flatten)]
    row: SideRow,
    kept: u8,
}
