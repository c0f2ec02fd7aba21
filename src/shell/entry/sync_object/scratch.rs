//! The engine's `Scratch` port over the object's own SQLite: the wanted listing, the
//! changes, directory maps and the blobs still to read. Cleared when the sync ends.

use crate::diff::{Change, FileEntry};
use crate::engine::{rename_group, Kept, Leftovers, PendingBlob, Scratch, ScratchMap, Side, StoreError, TakenBy};
use crate::merge::Span;
use crate::renames::basename;
use crate::similarity::{SpanCounts, MAX_SCORE};
use crate::sqlbatch::{json_chunks, DEFAULT_CHUNK_BYTES, DEFAULT_CHUNK_ROWS};
use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};
use worker::{SqlStorage, SqlStorageValue};

/// The scratch tables. `blobs_to_read` is kept in path order for the tarball merge.
pub const SCRATCH_DDL: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS wanted (path TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS diff_changes (path TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS maps (name TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (name, key)) WITHOUT ROWID",
    // Unchanged directories as ranges of paths: start (`dir/`) and end (`dir0`, '' for none).
    "CREATE TABLE IF NOT EXISTS unchanged_dirs (start TEXT PRIMARY KEY, end TEXT NOT NULL) WITHOUT ROWID",
    // Rename candidates: paths only one side has, grouped by blob id and object type.
    "CREATE TABLE IF NOT EXISTS candidates (side TEXT NOT NULL, path TEXT NOT NULL, grp TEXT NOT NULL, body TEXT NOT NULL, \
     paired INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (side, path)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS candidates_by_group ON candidates (grp, side, path)",
    "CREATE TABLE IF NOT EXISTS blobs_to_read (sha TEXT PRIMARY KEY, path TEXT NOT NULL, size INTEGER NOT NULL, \
     read INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS blobs_to_read_by_path ON blobs_to_read (read, path)",
    // What exact pairing left, for renames with edits: `taken` NULL, 'basename' or 'matrix'.
    "CREATE TABLE IF NOT EXISTS leftovers (side TEXT NOT NULL, path TEXT NOT NULL, base TEXT NOT NULL, sha TEXT NOT NULL, \
     regular INTEGER NOT NULL, size INTEGER NOT NULL, body TEXT NOT NULL, taken TEXT, PRIMARY KEY (side, path)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS leftovers_by_base ON leftovers (side, base)",
    "CREATE TABLE IF NOT EXISTS name_pairs (src TEXT PRIMARY KEY, dst TEXT NOT NULL) WITHOUT ROWID",
    // Span counts by blob, base64 (NULL: the blob has no text we keep).
    "CREATE TABLE IF NOT EXISTS span_counts (sha TEXT PRIMARY KEY, counts TEXT) WITHOUT ROWID",
    // The matrix's kept entries, keyed in git's order: score (as what it lacks of the full
    // score), same name first, destination, slot.
    "CREATE TABLE IF NOT EXISTS kept (loss INTEGER NOT NULL, other INTEGER NOT NULL, dst TEXT NOT NULL, slot INTEGER NOT NULL, \
     src TEXT NOT NULL, PRIMARY KEY (loss, other, dst, slot)) WITHOUT ROWID",
];

const TABLES: [&str; 10] =
    ["wanted", "diff_changes", "maps", "unchanged_dirs", "candidates", "blobs_to_read", "leftovers", "name_pairs", "span_counts", "kept"];

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

/// A span's bounds as bindings: `from`, then `until` ('' for no end).
/// `span` as a condition on `column` from parameter `?first` on, with its bound values.
fn span_args(span: &Span, column: &str, first: u8) -> (String, Vec<SqlStorageValue>) {
    let (within, bounds) = span.condition(column, first);
    (within, bounds.into_iter().map(|b| text(b.to_string())).collect())
}

fn taken_name(by: TakenBy) -> &'static str {
    match by {
        TakenBy::Basename => "basename",
        TakenBy::Matrix => "matrix",
    }
}

fn side_of(name: &str) -> Side {
    if name == "added" {
        Side::Added
    } else {
        Side::Removed
    }
}

fn decode_counts(counts: Option<String>) -> Result<Option<SpanCounts>, StoreError> {
    let Some(text) = counts else { return Ok(None) };
    let bytes = Base64::decode_vec(&text).map_err(sql_err)?;
    SpanCounts::from_bytes(&bytes).map(Some).ok_or_else(|| sql_err("unreadable span counts"))
}

/// The leftovers the matrix weighs: those no basename pair took.
const WEIGHED: &str = "(taken IS NULL OR taken = 'matrix')";

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Added => "added",
        Side::Removed => "removed",
    }
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

    /// Runs `sql` once per JSON chunk of `rows` (the chunk is the last parameter, after
    /// `fixed`): a page of rows is one call into storage, not one per row.
    fn bulk<T: Serialize>(&self, sql: &str, fixed: &[&str], rows: &[T]) -> Result<(), StoreError> {
        for chunk in json_chunks(rows, DEFAULT_CHUNK_BYTES, DEFAULT_CHUNK_ROWS).map_err(sql_err)? {
            let mut args: Vec<SqlStorageValue> = fixed.iter().map(|f| text(*f)).collect();
            args.push(text(chunk));
            self.exec(sql, args)?;
        }
        Ok(())
    }

    /// Files read by side then path: `sql` selects `side` and `body` after (?1, ?2), at
    /// most ?3 of them.
    fn by_side(&self, sql: &str, after: Option<(Side, &str)>, limit: u64) -> Result<Vec<(Side, FileEntry)>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            side: String,
            body: String,
        }
        let (side, path) = after.map(|(s, p)| (side_name(s), p)).unwrap_or(("", ""));
        let rows: Vec<Row> = self.rows(sql, vec![text(side), text(path), int(limit)])?;
        rows.into_iter().map(|r| Ok((side_of(&r.side), serde_json::from_str(&r.body).map_err(sql_err)?))).collect()
    }

    /// Leftovers meeting `condition`: (removed, added).
    fn leftover_counts(&self, condition: &str) -> Result<(u64, u64), StoreError> {
        #[derive(Deserialize)]
        struct Row {
            removed: Option<i64>,
            added: Option<i64>,
        }
        let rows: Vec<Row> = self.rows(
            &format!("SELECT sum(side = 'removed') AS removed, sum(side = 'added') AS added FROM leftovers WHERE {condition}"),
            vec![],
        )?;
        let n = |v: Option<i64>| v.unwrap_or(0).max(0) as u64;
        Ok(rows.first().map(|r| (n(r.removed), n(r.added))).unwrap_or((0, 0)))
    }

    fn bodies<T: for<'de> Deserialize<'de>>(&self, sql: &str, args: Vec<SqlStorageValue>) -> Result<Vec<T>, StoreError> {
        let rows: Vec<Body> = self.rows(sql, args)?;
        rows.into_iter().map(|r| serde_json::from_str(&r.body).map_err(sql_err)).collect()
    }
}

mod leftovers;

impl Scratch for ObjectScratch {
    fn put_wanted(&self, files: &[FileEntry]) -> Result<(), StoreError> {
        self.bulk("INSERT OR REPLACE INTO wanted (path, body) SELECT value ->> '$.path', value FROM json_each(?1)", &[], files)
    }

    fn wanted_in(&self, span: &Span, limit: u64) -> Result<Vec<FileEntry>, StoreError> {
        let (within, mut args) = span_args(span, "path", 1);
        args.push(int(limit));
        self.bodies(&format!("SELECT body FROM wanted WHERE {within} ORDER BY path LIMIT ?{}", args.len()), args)
    }

    fn put_changes(&self, changes: &[Change]) -> Result<(), StoreError> {
        let rows: Vec<(&str, &Change)> = changes.iter().map(|c| (c.path(), c)).collect();
        self.bulk("INSERT OR REPLACE INTO diff_changes (path, body) SELECT value ->> 0, value -> 1 FROM json_each(?1)", &[], &rows)
    }

    fn changes_after(&self, after: Option<&str>, limit: u64) -> Result<Vec<Change>, StoreError> {
        // `path > ''` for the first page: no path is empty, and a plain comparison lets the
        // key serve every page (an `? IS NULL OR` would scan from the start each time).
        self.bodies("SELECT body FROM diff_changes WHERE path > ?1 ORDER BY path LIMIT ?2", vec![text(after.unwrap_or("")), int(limit)])
    }

    fn map_put(&self, map: ScratchMap, entries: &[(String, String)]) -> Result<(), StoreError> {
        self.bulk(
            "INSERT OR REPLACE INTO maps (name, key, value) SELECT ?1, value ->> 0, value ->> 1 FROM json_each(?2)",
            &[map.name()],
            entries,
        )
    }

    fn map_get(&self, map: ScratchMap, key: &str) -> Result<Option<String>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            value: String,
        }
        let rows: Vec<Row> = self.rows("SELECT value FROM maps WHERE name = ? AND key = ?", vec![text(map.name()), text(key)])?;
        Ok(rows.into_iter().next().map(|r| r.value))
    }

    fn map_in(&self, map: ScratchMap, span: &Span, limit: u64) -> Result<Vec<(String, String)>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            key: String,
            value: String,
        }
        let (within, bounds) = span_args(span, "key", 2);
        let mut args = vec![text(map.name())];
        args.extend(bounds);
        args.push(int(limit));
        let rows: Vec<Row> =
            self.rows(&format!("SELECT key, value FROM maps WHERE name = ?1 AND {within} ORDER BY key LIMIT ?{}", args.len()), args)?;
        Ok(rows.into_iter().map(|r| (r.key, r.value)).collect())
    }

    fn forget_below(&self, dir: &str) -> Result<(), StoreError> {
        let span = Span::inside(dir);
        let (within, args) = span_args(&span, "path", 1);
        self.exec(&format!("DELETE FROM wanted WHERE {within}"), args)?;
        for map in [ScratchMap::WantedDirs, ScratchMap::ListedWhole] {
            let (within, mut args) = span_args(&span, "key", 2);
            args.insert(0, text(map.name().to_string()));
            self.exec(&format!("DELETE FROM maps WHERE name = ?1 AND {within}"), args)?;
        }
        Ok(())
    }

    fn add_unchanged(&self, dir: &str) -> Result<(), StoreError> {
        // Nothing wanted lies in an unchanged range (a truncated listing may have kept some).
        self.forget_below(dir)?;
        let span = Span::inside(dir);
        self.exec(
            "INSERT OR REPLACE INTO unchanged_dirs (start, end) VALUES (?, ?)",
            vec![text(span.from), text(span.until.unwrap_or_default())],
        )
    }

    fn next_unchanged(&self, from: &str) -> Result<Option<Span>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            start: String,
            end: String,
        }
        // Ranges never overlap, so the first one by start that ends after `from` is next.
        let rows: Vec<Row> =
            self.rows("SELECT start, end FROM unchanged_dirs WHERE end = '' OR end > ?1 ORDER BY start LIMIT 1", vec![text(from)])?;
        Ok(rows.into_iter().next().map(|r| Span { from: r.start, until: (!r.end.is_empty()).then_some(r.end) }))
    }

    fn add_candidates(&self, side: Side, files: &[FileEntry]) -> Result<(), StoreError> {
        let rows: Vec<(&str, String, &FileEntry)> = files.iter().map(|f| (f.path.as_str(), rename_group(f), f)).collect();
        self.bulk(
            "INSERT INTO candidates (side, path, grp, body) SELECT ?1, value ->> 0, value ->> 1, value -> 2 FROM json_each(?2) WHERE true \
             ON CONFLICT (side, path) DO NOTHING",
            &[side_name(side)],
            &rows,
        )
    }

    fn rename_groups(&self, after: Option<&str>, limit: u64) -> Result<Vec<String>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            grp: String,
        }
        let rows: Vec<Row> = self.rows(
            "SELECT a.grp FROM candidates a WHERE a.side = 'added' AND a.grp > ?1 \
             AND EXISTS (SELECT 1 FROM candidates r WHERE r.grp = a.grp AND r.side = 'removed') \
             GROUP BY a.grp ORDER BY a.grp LIMIT ?2",
            vec![text(after.unwrap_or("")), int(limit)],
        )?;
        Ok(rows.into_iter().map(|r| r.grp).collect())
    }

    fn group(&self, key: &str) -> Result<(Vec<FileEntry>, Vec<FileEntry>), StoreError> {
        #[derive(Deserialize)]
        struct Row {
            side: String,
            body: String,
        }
        // Both sides in one read, through `candidates_by_group`.
        let rows: Vec<Row> = self.rows("SELECT side, body FROM candidates WHERE grp = ?1 ORDER BY side, path", vec![text(key)])?;
        let (mut added, mut removed) = (Vec::new(), Vec::new());
        for row in rows {
            let file: FileEntry = serde_json::from_str(&row.body).map_err(sql_err)?;
            match side_of(&row.side) {
                Side::Added => added.push(file),
                Side::Removed => removed.push(file),
            }
        }
        Ok((added, removed))
    }

    fn mark_paired(&self, side: Side, paths: &[String]) -> Result<(), StoreError> {
        self.bulk(
            "UPDATE candidates SET paired = 1 WHERE side = ?1 AND path IN (SELECT value FROM json_each(?2))",
            &[side_name(side)],
            paths,
        )
    }

    fn candidate_count(&self, side: Side) -> Result<u64, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            n: i64,
        }
        let rows: Vec<Row> = self.rows("SELECT count(*) AS n FROM candidates WHERE side = ?1", vec![text(side_name(side))])?;
        Ok(rows.first().map_or(0, |r| r.n.max(0) as u64))
    }

    fn candidates_after(&self, after: Option<(Side, &str)>, limit: u64) -> Result<Vec<(Side, FileEntry)>, StoreError> {
        // A row-value comparison, which the key (side, path) serves; no side or path is empty.
        self.by_side(
            "SELECT side, body FROM candidates WHERE (side, path) > (?1, ?2) AND paired = 0 ORDER BY side, path LIMIT ?3",
            after,
            limit,
        )
    }

    fn remove_changes(&self, paths: &[String]) -> Result<(), StoreError> {
        self.bulk("DELETE FROM diff_changes WHERE path IN (SELECT value FROM json_each(?1))", &[], paths)
    }

    fn add_pending_blobs(&self, blobs: &[PendingBlob]) -> Result<(), StoreError> {
        let rows: Vec<(&str, &str, u64)> = blobs.iter().map(|b| (b.sha.as_str(), b.path.as_str(), b.size)).collect();
        self.bulk(
            "INSERT INTO blobs_to_read (sha, path, size) SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?1) WHERE true \
             ON CONFLICT (sha) DO NOTHING",
            &[],
            &rows,
        )
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
        self.bulk("UPDATE blobs_to_read SET read = 1 WHERE sha IN (SELECT value FROM json_each(?1))", &[], shas)
    }

    fn clear(&self) -> Result<(), StoreError> {
        for table in TABLES {
            self.exec(&format!("DELETE FROM {table}"), vec![])?;
        }
        Ok(())
    }
}
