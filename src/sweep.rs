//! The content sweep without I/O: what deleting a project's unreferenced blob rows must also
//! delete. Content is keyed by (repository, blob sha) and shared by the repository's projects
//! (ARCHITECTURE.md), so a deleted project's text cannot go with its rows: its repository is
//! queued for a sweep, and the cron tick walks the repository's blob rows a page at a time,
//! deleting those no remaining project's version references (and only while no sync of the
//! repository runs: one that found a row present and skipped storing it will reference it).
//!
//! The full-text index is contentless: an entry is removed by giving FTS5 the very text it
//! indexed ('delete' with the document's values), so each swept text blob's chunks are read
//! back from its pack first. A pack is deleted from R2 only once no blob row, in any
//! database, points into it.

use std::collections::BTreeSet;

/// Blob rows the sweep looks at per page (a select with a reference check each).
pub const PAGE: u32 = 250;
/// Pages per database per tick, and ranged reads of swept texts per tick: what one cron
/// invocation spends (under D1's 1,000 queries and the subrequest limit).
pub const PAGES_PER_TICK: u32 = 8;
pub const READS_PER_TICK: u32 = 1_500;
/// Text read back and held per deleting transaction (memory bounded by this, not by a page
/// of 1 MB texts), and JSON per full-text delete statement (D1 takes values up to 2 MB).
pub const TEXT_BYTES_PER_BATCH: u64 = 4 << 20;
pub const JSON_BYTES_PER_STATEMENT: usize = 256 * 1024;

/// One full-text entry to remove: document id, the text it indexed, the blob's sha.
pub type Entry = (u64, String, String);

/// The entries as JSON arrays of `[doc, text, sha]`, each at most `JSON_BYTES_PER_STATEMENT`
/// (an entry is one chunk of at most a few KB, so none is alone over it).
pub fn entry_statements(entries: &[Entry]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<serde_json::Value> = Vec::new();
    let mut size = 0;
    for (doc, text, sha) in entries {
        let item = serde_json::json!([doc, text, sha]);
        let len = item.to_string().len() + 1;
        if size + len > JSON_BYTES_PER_STATEMENT && !current.is_empty() {
            out.push(serde_json::Value::from(std::mem::take(&mut current)).to_string());
            size = 0;
        }
        size += len;
        current.push(item);
    }
    if !current.is_empty() {
        out.push(serde_json::Value::from(current).to_string());
    }
    out
}

/// The full-text document id of chunk `chunk` of blob row `blob_id` (as the content write
/// indexes it).
pub fn doc_id(blob_id: u64, chunk: usize) -> u64 {
    blob_id * 65_536 + chunk as u64
}

/// A blob row the sweep found unreferenced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Swept {
    pub id: u64,
    pub sha: String,
    pub size: u64,
    /// Where each chunk starts within the text (`blob_contents.chunks`).
    pub chunk_starts: Vec<u64>,
    /// The pack and offset of its text (text blobs only).
    pub pack: Option<(String, u64)>,
}

impl Swept {
    /// The range of its pack to read back for its index entries, if it has any.
    pub fn text_range(&self) -> Option<(&str, u64, u64)> {
        match &self.pack {
            Some((key, offset)) if !self.chunk_starts.is_empty() => Some((key.as_str(), *offset, self.size)),
            _ => None,
        }
    }

    /// Its index entries, (document id, text), from its text as read back; `None` when the
    /// bytes do not split into its chunks as they were indexed (then the row must stay: its
    /// entries cannot be removed exactly, and its id must not be reused under them).
    pub fn index_entries(&self, text: &[u8]) -> Option<Vec<(u64, String)>> {
        if text.len() as u64 != self.size {
            return None;
        }
        let mut entries = Vec::with_capacity(self.chunk_starts.len());
        for (i, start) in self.chunk_starts.iter().enumerate() {
            let end = self.chunk_starts.get(i + 1).copied().unwrap_or(self.size);
            let bytes = text.get(*start as usize..end as usize)?;
            entries.push((doc_id(self.id, i), String::from_utf8(bytes.to_vec()).ok()?));
        }
        Some(entries)
    }
}

/// The packs the swept rows pointed into: each is deleted once no row points into it.
pub fn packs_of(swept: &[Swept]) -> BTreeSet<String> {
    swept.iter().filter_map(|s| s.pack.as_ref().map(|(k, _)| k.clone())).collect()
}

/// Whether the walk of a repository is over: its page came back short.
pub fn walk_done(page_len: usize) -> bool {
    page_len < PAGE as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::analyse;
    use crate::pack::pack_texts;

    fn swept(id: u64, blob: &crate::content::BlobContent, pack: Option<(String, u64)>) -> Swept {
        Swept { id, sha: blob.sha.clone(), size: blob.size, chunk_starts: blob.chunk_starts(), pack }
    }

    #[test]
    fn index_entries_are_the_chunks_as_indexed() {
        let text = "line of text ü\n".repeat(3_000);
        let blob = analyse(&"a".repeat(40), text.as_bytes());
        assert!(blob.chunks.len() > 1, "a text of several chunks");
        let pack = pack_texts("acme/w", std::slice::from_ref(&blob)).unwrap();
        let s = swept(7, &blob, Some((pack.key.clone(), pack.offset_of(&blob.sha).unwrap())));
        let (key, offset, len) = s.text_range().unwrap();
        assert_eq!(key, pack.key);
        let bytes = &pack.bytes[offset as usize..(offset + len) as usize];
        let entries = s.index_entries(bytes).unwrap();
        let want: Vec<(u64, String)> = blob.chunks.iter().enumerate().map(|(i, c)| (7 * 65_536 + i as u64, c.text.clone())).collect();
        assert_eq!(entries, want, "the documents and texts the content write indexed");
        assert_eq!(s.index_entries(&bytes[1..]), None, "a short read removes nothing");
    }

    #[test]
    fn rows_without_text_have_no_entries_and_packs_are_collected() {
        let bin = analyse(&"b".repeat(40), b"\0\x01\x02");
        let s = swept(3, &bin, None);
        assert_eq!(s.text_range(), None);
        let t = analyse(&"c".repeat(40), b"hello\n");
        let rows = [s, swept(4, &t, Some(("p1".into(), 0))), swept(5, &t, Some(("p1".into(), 6))), swept(6, &t, Some(("p2".into(), 0)))];
        assert_eq!(packs_of(&rows).into_iter().collect::<Vec<_>>(), vec!["p1", "p2"]);
        assert!(walk_done(0) && walk_done(PAGE as usize - 1) && !walk_done(PAGE as usize));
    }

    #[test]
    fn entries_split_into_statements_under_the_bound() {
        let entries: Vec<Entry> = (0..600).map(|i| (i, "\"quoted\" text ".repeat(200), "a".repeat(40))).collect();
        let statements = entry_statements(&entries);
        assert!(statements.len() > 1);
        let mut back = Vec::new();
        for s in &statements {
            assert!(s.len() <= JSON_BYTES_PER_STATEMENT, "{}", s.len());
            let items: Vec<(u64, String, String)> = serde_json::from_str(s).unwrap();
            back.extend(items);
        }
        assert_eq!(back, entries, "every entry once, in order");
        assert!(entry_statements(&[]).is_empty());
    }
}
