//! Content packs: the texts of one stored batch of blobs, concatenated into one object of
//! the content bucket (R2), each blob located by its offset. A repository of 100,000 small
//! files is then a few hundred writes, not 100,000 (R2 bills and limits per operation, and
//! a put costs the same for 100 bytes as for 1 MB); a blob is read back with one ranged
//! get. Packs are content-addressed (the key is the SHA-256 of the blob ids it holds), so a
//! replay of the same batch writes the same object under the same key.

use crate::content::{BlobContent, ContentStatus};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// One pack: its key, its bytes, and where each text blob in it starts.
#[derive(Debug, PartialEq, Eq)]
pub struct Pack {
    pub key: String,
    pub bytes: Vec<u8>,
    /// Where each text blob's text starts, in bytes, by blob sha.
    pub offsets: BTreeMap<String, u64>,
}

/// Blobs of a pack, in blob id order, that one row of the pack ledger (`pack_blobs`)
/// covers: it lists their rows' ids (~7 KB of JSON).
pub const LEDGER_PART: usize = 1_000;

impl Pack {
    /// Where `sha`'s text starts in this pack, if it holds it.
    pub fn offset_of(&self, sha: &str) -> Option<u64> {
        self.offsets.get(sha).copied()
    }

    /// The ledger's parts of this pack: its blob ids in sha order, `LEDGER_PART` a part,
    /// each with its part number (the store lists the ids of the rows that point into the
    /// pack). Whether a pack is still in use is asked of these few rows (and the blob rows
    /// they name) instead of an index on every blob row's pack.
    pub fn ledger_parts(&self) -> Vec<(u32, Vec<&str>)> {
        let shas: Vec<&str> = self.offsets.keys().map(String::as_str).collect();
        shas.chunks(LEDGER_PART).zip(0..).map(|(part, i)| (i, part.to_vec())).collect()
    }
}

/// The pack of the text blobs among `blobs` (repository `scope`), or `None` when there is
/// no text to store. A blob listed twice is stored once.
pub fn pack_texts(scope: &str, blobs: &[BlobContent]) -> Option<Pack> {
    let mut bytes = Vec::new();
    let mut offsets = BTreeMap::new();
    let mut ids = Sha256::new();
    for blob in blobs.iter().filter(|b| b.status == ContentStatus::Text && !b.chunks.is_empty()) {
        if offsets.contains_key(&blob.sha) {
            continue;
        }
        offsets.insert(blob.sha.clone(), bytes.len() as u64);
        ids.update(blob.sha.as_bytes());
        ids.update(b"\n");
        for chunk in &blob.chunks {
            bytes.extend_from_slice(chunk.text.as_bytes());
        }
    }
    if offsets.is_empty() {
        return None;
    }
    let key = format!("{}{}", pack_prefix(scope), crate::auth::hex(&ids.finalize()));
    Some(Pack { key, bytes, offsets })
}

/// Every pack of a repository starts with this (its content's usage is one listing).
pub fn pack_prefix(scope: &str) -> String {
    format!("packs/{scope}/")
}

/// The byte range, within its pack, of chunk `[start, end)` of a blob stored at `base`.
pub fn chunk_range_in_pack(base: u64, start: u64, end: u64) -> Option<(u64, u64)> {
    (start <= end).then(|| (base + start, end - start))
}

/// A text to read back: its pack, where it starts, and its length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub pack: String,
    pub offset: u64,
    pub len: u64,
}

/// One ranged read of a pack that covers several texts (indices into the list planned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeRead {
    pub pack: String,
    pub offset: u64,
    pub len: u64,
    pub texts: Vec<usize>,
}

/// Texts stored in one batch sit side by side in its pack: one ranged get reads a run of
/// them when the bytes between them are few (at most `max_gap`) and the run stays within
/// `max_len`. Each text is in exactly one read, which holds all of its bytes.
pub fn plan_reads(texts: &[Located], max_gap: u64, max_len: u64) -> Vec<RangeRead> {
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by(|&a, &b| (&texts[a].pack, texts[a].offset).cmp(&(&texts[b].pack, texts[b].offset)));
    let mut reads: Vec<RangeRead> = Vec::new();
    for i in order {
        let t = &texts[i];
        let joins = reads.last().is_some_and(|r| {
            let end = r.offset + r.len;
            r.pack == t.pack && t.offset <= end + max_gap && (t.offset + t.len).max(end) - r.offset <= max_len
        });
        match reads.last_mut() {
            Some(r) if joins => {
                r.len = (t.offset + t.len).max(r.offset + r.len) - r.offset;
                r.texts.push(i);
            }
            _ => reads.push(RangeRead { pack: t.pack.clone(), offset: t.offset, len: t.len, texts: vec![i] }),
        }
    }
    reads
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::analyse;

    #[test]
    fn neighbouring_texts_are_read_together_within_the_bounds() {
        let at = |pack: &str, offset, len| Located { pack: pack.into(), offset, len };
        let texts = [at("p", 100, 50), at("p", 0, 100), at("q", 0, 10), at("p", 160, 10), at("p", 5_000, 10), at("p", 170, 1_000)];
        let reads = plan_reads(&texts, 16, 1_000);
        let spans: Vec<(&str, u64, u64, Vec<usize>)> = reads.iter().map(|r| (r.pack.as_str(), r.offset, r.len, r.texts.clone())).collect();
        assert_eq!(spans, vec![("p", 0, 170, vec![1, 0, 3]), ("p", 170, 1_000, vec![5]), ("p", 5_000, 10, vec![4]), ("q", 0, 10, vec![2])]);
        for r in &reads {
            for &i in &r.texts {
                assert!(texts[i].offset >= r.offset && texts[i].offset + texts[i].len <= r.offset + r.len);
            }
        }
    }

    #[test]
    fn texts_are_concatenated_and_located() {
        let a = analyse("a".repeat(40).as_str(), b"alpha\n");
        let bin = analyse("b".repeat(40).as_str(), b"\0\x01binary");
        let c = analyse("c".repeat(40).as_str(), "gamma ü\n".repeat(2000).as_bytes());
        let pack = pack_texts("acme/widgets", &[a.clone(), bin, c.clone(), a.clone()]).unwrap();
        assert!(pack.key.starts_with("packs/acme/widgets/") && pack.key.len() == "packs/acme/widgets/".len() + 64);
        assert_eq!(pack.offsets.len(), 2, "binary blobs and repeats are not packed");
        for blob in [&a, &c] {
            let at = pack.offset_of(&blob.sha).unwrap() as usize;
            assert_eq!(&pack.bytes[at..at + blob.size as usize], blob.text().as_bytes());
            for (chunk, start) in blob.chunks.iter().zip(blob.chunk_starts()) {
                let end = start + chunk.text.len() as u64;
                let (from, len) = chunk_range_in_pack(at as u64, start, end).unwrap();
                assert_eq!(&pack.bytes[from as usize..(from + len) as usize], chunk.text.as_bytes());
            }
        }
    }

    #[test]
    fn the_ledger_lists_every_text_blob_once_in_parts() {
        let blobs: Vec<BlobContent> = (0..2_345).map(|i| analyse(&format!("{i:040x}"), format!("text {i}").as_bytes())).collect();
        let pack = pack_texts("acme/widgets", &blobs).unwrap();
        let parts = pack.ledger_parts();
        assert_eq!(parts.iter().map(|(i, _)| *i).collect::<Vec<_>>(), vec![0, 1, 2]);
        assert_eq!(parts.iter().map(|(_, p)| p.len()).collect::<Vec<_>>(), vec![1_000, 1_000, 345]);
        let listed: Vec<&str> = parts.iter().flat_map(|(_, p)| p.iter().copied()).collect();
        let mut all: Vec<String> = blobs.iter().map(|b| b.sha.clone()).collect();
        all.sort();
        assert_eq!(listed, all);
    }

    #[test]
    fn the_key_is_the_batch_not_the_moment() {
        let a = analyse("a".repeat(40).as_str(), b"alpha\n");
        let b = analyse("b".repeat(40).as_str(), b"beta\n");
        let once = pack_texts("r", &[a.clone(), b.clone()]).unwrap();
        assert_eq!(pack_texts("r", &[a.clone(), b.clone()]).unwrap(), once, "a replay writes the same object");
        assert_ne!(pack_texts("r", &[b.clone(), a.clone()]).unwrap().key, once.key);
        assert_ne!(pack_texts("other", &[a.clone(), b.clone()]).unwrap().key, once.key);
        assert_eq!(pack_texts("r", &[analyse("e", b"\0")]), None, "nothing to store");
        assert_eq!(chunk_range_in_pack(10, 5, 4), None);
    }
}
