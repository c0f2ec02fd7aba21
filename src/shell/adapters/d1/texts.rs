//! Texts read back for renames with edits (a sync's, a compare's): the blob rows of a
//! batch of shas in one query, then as few ranged gets of their packs as
//! `pack::plan_reads` allows (a batch of texts stored together is usually one get).

use super::{s, Db, DbError};
use crate::pack::{plan_reads, Located};
use crate::shell::adapters::content::ContentBucket;
use serde::Deserialize;

/// Bytes between two texts of a pack that one get may read past to serve both.
const MAX_GAP: u64 = 64 * 1024;
/// The largest ranged get.
const MAX_READ: u64 = 4 * 1024 * 1024;

#[derive(Deserialize)]
struct BlobRow {
    sha: String,
    status: String,
    size: u64,
    pack: Option<String>,
    pack_offset: Option<u64>,
}

/// A blob id and its text (`None`: not text, or its bytes are missing).
type Text = (String, Option<Vec<u8>>);

/// The kept texts of those of `shas` (repository `scope`) that are analysed: `None` for a
/// blob that is not text, or whose pack lacks its bytes (said in the log).
pub async fn read_texts(db: &Db, content: &ContentBucket, scope: &str, shas: &[String]) -> Result<Vec<Text>, DbError> {
    let list = serde_json::to_string(shas).map_err(|e| DbError::Other(e.to_string()))?;
    let rows: Vec<BlobRow> = db
        .all(
            "SELECT b.sha, b.status, b.size, p.key AS pack, b.pack_offset FROM blob_contents b \
             LEFT JOIN packs p ON p.id = b.pack_id WHERE b.repository = ?1 AND b.sha IN (SELECT value FROM json_each(?2))",
            &[s(scope), s(&list)],
        )
        .await?;
    let (mut texts, located, located_shas) = locate(rows);
    for read in plan_reads(&located, MAX_GAP, MAX_READ) {
        db.count_subrequests(1);
        let bytes = content.read_exact(&read.pack, read.offset, read.len).await.map_err(|e| DbError::Other(e.to_string()))?;
        if bytes.is_none() {
            worker::console_warn!("renames: pack {} lacks bytes {}+{}; those texts pair only exactly", read.pack, read.offset, read.len);
        }
        for i in read.texts {
            let at = (located[i].offset - read.offset) as usize;
            let text = bytes.as_ref().and_then(|b| b.get(at..at + located[i].len as usize)).map(<[u8]>::to_vec);
            texts.push((located_shas[i].clone(), text));
        }
    }
    Ok(texts)
}

/// The answers known without reading (no text; the empty text), and where the others are.
fn locate(rows: Vec<BlobRow>) -> (Vec<Text>, Vec<Located>, Vec<String>) {
    let mut known = Vec::new();
    let (mut located, mut shas) = (Vec::new(), Vec::new());
    for row in rows {
        match (row.status.as_str(), row.pack, row.pack_offset) {
            ("text", Some(pack), Some(offset)) => {
                located.push(Located { pack, offset, len: row.size });
                shas.push(row.sha);
            }
            // The empty text is in no pack.
            ("text", _, _) if row.size == 0 => known.push((row.sha, Some(Vec::new()))),
            _ => known.push((row.sha, None)),
        }
    }
    (known, located, shas)
}
