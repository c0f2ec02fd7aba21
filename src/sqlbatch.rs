//! D1's rules, without I/O: splitting bulk writes into statements D1 accepts (at most 100
//! bound parameters per statement, so rows travel as one JSON array parameter expanded with
//! `json_each`, each array under a byte budget well inside D1's statement and value
//! limits), and reading what a D1 error says.

use serde::Serialize;

/// D1's limit on bound parameters per statement.
pub const D1_MAX_PARAMS: usize = 100;
/// Bytes of JSON per bulk parameter. D1 allows 2 MB per value; a smaller chunk keeps each
/// statement quick, and so keeps one slice's D1 time bounded.
pub const DEFAULT_CHUNK_BYTES: usize = 256 * 1024;
/// Rows per bulk statement, whatever their size.
pub const DEFAULT_CHUNK_ROWS: usize = 2_000;

/// Serializes `rows` into JSON arrays of at most `max_rows` rows and (unless one row alone
/// is larger) `max_bytes` bytes each. Order is kept; no row is split or dropped.
pub fn json_chunks<T: Serialize>(rows: &[T], max_bytes: usize, max_rows: usize) -> Result<Vec<String>, serde_json::Error> {
    let mut chunks = Vec::new();
    let mut current = String::from("[");
    let mut in_current = 0usize;
    for row in rows {
        let encoded = serde_json::to_string(row)?;
        let would_be = current.len() + encoded.len() + 2;
        if in_current > 0 && (would_be > max_bytes || in_current >= max_rows.max(1)) {
            current.push(']');
            chunks.push(std::mem::replace(&mut current, String::from("[")));
            in_current = 0;
        }
        if in_current > 0 {
            current.push(',');
        }
        current.push_str(&encoded);
        in_current += 1;
    }
    if in_current > 0 {
        current.push(']');
        chunks.push(current);
    }
    Ok(chunks)
}

/// The columns of the unique index a D1 error says refused a write (SQLite's
/// `UNIQUE constraint failed: syncs.project_id`), if that is what it says.
pub fn unique_violation(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once("UNIQUE constraint failed: ")?;
    let columns = rest.split([':', '\n']).next().unwrap_or(rest).trim();
    (!columns.is_empty()).then_some(columns)
}

#[cfg(test)]
mod tests {
    #[test]
    fn unique_violations_are_read_from_d1_errors() {
        let cases = [
            ("D1_ERROR: UNIQUE constraint failed: syncs.project_id: SQLITE_CONSTRAINT", Some("syncs.project_id")),
            (
                "Error: UNIQUE constraint failed: file_versions.project_id, file_versions.path",
                Some("file_versions.project_id, file_versions.path"),
            ),
            ("D1_ERROR: no such table: syncs", None),
            ("UNIQUE constraint failed: ", None),
        ];
        for (message, want) in cases {
            assert_eq!(super::unique_violation(message), want, "{message}");
        }
    }

    use super::*;

    #[test]
    fn chunks_respect_both_budgets_and_keep_every_row() {
        let rows: Vec<(String, u32)> = (0..1000).map(|i| (format!("path/{i}"), i)).collect();
        let cases = [(1_000_000, 10_000), (1_000, 10_000), (1_000_000, 7), (50, 3), (10, 1)];
        for (max_bytes, max_rows) in cases {
            let chunks = json_chunks(&rows, max_bytes, max_rows).unwrap();
            let mut back: Vec<(String, u32)> = Vec::new();
            for c in &chunks {
                let part: Vec<(String, u32)> = serde_json::from_str(c).unwrap();
                assert!(!part.is_empty());
                assert!(part.len() <= max_rows);
                assert!(c.len() <= max_bytes || part.len() == 1, "{max_bytes}/{max_rows}: {} bytes", c.len());
                back.extend(part);
            }
            assert_eq!(back, rows, "{max_bytes}/{max_rows}");
        }
    }

    #[test]
    fn empty_input_makes_no_statement() {
        assert!(json_chunks::<u8>(&[], 100, 10).unwrap().is_empty());
    }
}
