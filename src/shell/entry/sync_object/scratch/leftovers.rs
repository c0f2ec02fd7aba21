//! Renames with edits over the object's SQLite (`Leftovers`): the leftovers of exact
//! pairing, unique-basename pairs, span counts (base64) and the matrix's kept entries.

use super::*;

impl Leftovers for ObjectScratch {
    fn add_leftovers(&self, side: Side, files: &[FileEntry]) -> Result<(), StoreError> {
        let rows: Vec<(&str, &str, &str, bool, u64, &FileEntry)> =
            files.iter().map(|f| (f.path.as_str(), basename(&f.path), f.sha.as_str(), f.is_regular(), f.size.unwrap_or(0), f)).collect();
        self.bulk(
            "INSERT INTO leftovers (side, path, base, sha, regular, size, body) \
             SELECT ?1, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value -> 5 FROM json_each(?2) WHERE true \
             ON CONFLICT (side, path) DO NOTHING",
            &[side_name(side)],
            &rows,
        )
    }

    fn leftover_totals(&self) -> Result<(u64, u64), StoreError> {
        self.leftover_counts("true")
    }

    fn weighed_leftovers(&self) -> Result<(u64, u64), StoreError> {
        self.leftover_counts(WEIGHED)
    }

    fn find_name_pairs(&self) -> Result<(), StoreError> {
        self.exec("DELETE FROM name_pairs", vec![])?;
        self.exec(
            "INSERT INTO name_pairs (src, dst) SELECT s.path, d.path FROM \
             (SELECT base, min(path) AS path FROM leftovers WHERE side = 'removed' GROUP BY base HAVING count(*) = 1) s \
             JOIN (SELECT base, min(path) AS path FROM leftovers WHERE side = 'added' GROUP BY base HAVING count(*) = 1) d \
             ON d.base = s.base",
            vec![],
        )
    }

    fn name_pairs(&self, after: Option<&str>, limit: u64) -> Result<Vec<(FileEntry, FileEntry)>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            old: String,
            new: String,
        }
        let rows: Vec<Row> = self.rows(
            "SELECT s.body AS old, d.body AS new FROM name_pairs p \
             JOIN leftovers s ON s.side = 'removed' AND s.path = p.src JOIN leftovers d ON d.side = 'added' AND d.path = p.dst \
             WHERE p.src > ?1 ORDER BY p.src LIMIT ?2",
            vec![text(after.unwrap_or("")), int(limit)],
        )?;
        rows.into_iter()
            .map(|r| Ok((serde_json::from_str(&r.old).map_err(sql_err)?, serde_json::from_str(&r.new).map_err(sql_err)?)))
            .collect()
    }

    fn take_leftovers(&self, side: Side, paths: &[String], by: TakenBy) -> Result<(), StoreError> {
        self.bulk(
            "UPDATE leftovers SET taken = ?2 WHERE side = ?1 AND path IN (SELECT value FROM json_each(?3))",
            &[side_name(side), taken_name(by)],
            paths,
        )
    }

    fn uncounted(&self, after: Option<(Side, &str)>, limit: u64) -> Result<Vec<(Side, FileEntry)>, StoreError> {
        let sql = format!(
            "SELECT side, body FROM leftovers l WHERE (side, path) > (?1, ?2) AND {WEIGHED} AND regular = 1 AND size > 0 \
             AND NOT EXISTS (SELECT 1 FROM span_counts c WHERE c.sha = l.sha) ORDER BY side, path LIMIT ?3"
        );
        self.by_side(&sql, after, limit)
    }

    fn leftovers_at(&self, side: Side, paths: &[String]) -> Result<Vec<FileEntry>, StoreError> {
        let mut found = Vec::new();
        for chunk in json_chunks(paths, DEFAULT_CHUNK_BYTES, DEFAULT_CHUNK_ROWS).map_err(sql_err)? {
            found.extend(self.bodies::<FileEntry>(
                "SELECT body FROM leftovers WHERE side = ?1 AND path IN (SELECT value FROM json_each(?2))",
                vec![text(side_name(side)), text(chunk)],
            )?);
        }
        Ok(found)
    }

    fn span_counts(&self, shas: &[String]) -> Result<Vec<(String, Option<SpanCounts>)>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            sha: String,
            counts: Option<String>,
        }
        let mut found = Vec::new();
        for chunk in json_chunks(shas, DEFAULT_CHUNK_BYTES, DEFAULT_CHUNK_ROWS).map_err(sql_err)? {
            let rows: Vec<Row> =
                self.rows("SELECT sha, counts FROM span_counts WHERE sha IN (SELECT value FROM json_each(?1))", vec![text(chunk)])?;
            for r in rows {
                found.push((r.sha, decode_counts(r.counts)?));
            }
        }
        Ok(found)
    }

    fn put_span_counts(&self, counts: &[(String, Option<SpanCounts>)]) -> Result<(), StoreError> {
        let rows: Vec<(&str, Option<String>)> =
            counts.iter().map(|(sha, c)| (sha.as_str(), c.as_ref().map(|c| Base64::encode_string(&c.to_bytes())))).collect();
        self.bulk("INSERT OR REPLACE INTO span_counts (sha, counts) SELECT value ->> 0, value ->> 1 FROM json_each(?1)", &[], &rows)
    }

    fn matrix_side(
        &self,
        side: Side,
        after: Option<&str>,
        limit: u64,
        max_bytes: u64,
    ) -> Result<Vec<(FileEntry, Option<SpanCounts>)>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            body: String,
            counts: Option<String>,
        }
        // A running total of the counts' bytes (base64 is 4/3 of them) cuts the page; the
        // first row is always in it.
        let rows: Vec<Row> = self.rows(
            &format!(
                "SELECT body, counts FROM (SELECT l.path, l.body, c.counts, coalesce(length(c.counts), 0) * 3 / 4 AS len, \
                 sum(coalesce(length(c.counts), 0) * 3 / 4) OVER (ORDER BY l.path ROWS UNBOUNDED PRECEDING) AS run \
                 FROM leftovers l LEFT JOIN span_counts c ON c.sha = l.sha \
                 WHERE l.side = ?1 AND l.path > ?2 AND {WEIGHED} ORDER BY l.path LIMIT ?3) \
                 WHERE run - len < ?4 ORDER BY path"
            ),
            vec![text(side_name(side)), text(after.unwrap_or("")), int(limit), int(max_bytes.max(1))],
        )?;
        rows.into_iter().map(|r| Ok((serde_json::from_str(&r.body).map_err(sql_err)?, decode_counts(r.counts)?))).collect()
    }

    fn put_kept(&self, kept: &[Kept]) -> Result<(), StoreError> {
        let rows: Vec<(u32, u8, &str, u8, &str)> = kept
            .iter()
            .map(|k| (MAX_SCORE - k.score.min(MAX_SCORE), u8::from(!k.same_name), k.dst.as_str(), k.slot, k.src.as_str()))
            .collect();
        self.bulk(
            "INSERT OR REPLACE INTO kept (loss, other, dst, slot, src) SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 \
             FROM json_each(?1)",
            &[],
            &rows,
        )
    }

    fn kept_after(&self, after: Option<&Kept>, limit: u64) -> Result<Vec<Kept>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            loss: i64,
            other: i64,
            dst: String,
            slot: i64,
            src: String,
        }
        let key = |k: &Kept| (i64::from(MAX_SCORE - k.score.min(MAX_SCORE)), i64::from(!k.same_name), k.dst.clone(), i64::from(k.slot));
        let (loss, other, dst, slot) = after.map(key).unwrap_or((-1, 0, String::new(), 0));
        let rows: Vec<Row> = self.rows(
            "SELECT loss, other, dst, slot, src FROM kept WHERE (loss, other, dst, slot) > (?1, ?2, ?3, ?4) \
             ORDER BY loss, other, dst, slot LIMIT ?5",
            vec![SqlStorageValue::Integer(loss), SqlStorageValue::Integer(other), text(dst), SqlStorageValue::Integer(slot), int(limit)],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| Kept {
                score: MAX_SCORE.saturating_sub(r.loss.clamp(0, i64::from(MAX_SCORE)) as u32),
                same_name: r.other == 0,
                dst: r.dst,
                slot: r.slot.clamp(0, 255) as u8,
                src: r.src,
            })
            .collect())
    }
}
