//! File contents without I/O: what is text and what keeps metadata only (binary, LFS pointer,
//! not UTF-8, too large), chunking text into memory entries, choosing the cheaper GitHub path
//! for downloading blobs, and full-text queries.

use serde::{Deserialize, Serialize};

/// Default largest text file whose content is kept.
pub const DEFAULT_MAX_TEXT_BYTES: u64 = 1024 * 1024;
/// Target size of one memory entry, in bytes; a chunk ends at a line break when it can.
pub const CHUNK_BYTES: usize = 4 * 1024;
/// git-lfs pointer files are tiny; anything larger is not one.
const LFS_POINTER_MAX_BYTES: usize = 1024;

/// What we learned from a blob's bytes. Stored once per repository and blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContentStatus {
    Text,
    Binary,
    LfsPointer,
    NotText,
}

impl ContentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ContentStatus::Text => "text",
            ContentStatus::Binary => "binary",
            ContentStatus::LfsPointer => "lfs-pointer",
            ContentStatus::NotText => "not-text",
        }
    }
}

/// Why a file version keeps no text, as the API says it (`contentSkipped`), from what is
/// stored with the version: `None` when its text is kept, and for symlinks and submodules
/// (stored as `not-a-file`; their bytes are not text of a file).
pub fn skipped_for_api(stored: Option<&str>) -> Option<String> {
    let reason = match stored? {
        "too-large" => "too-large",
        "binary" => "binary",
        "lfs-pointer" => "lfs-pointer",
        "not-a-file" => return None,
        // `not-text`, and a blob that was never read (`unread`): no text to serve.
        _ => "not-text",
    };
    Some(reason.to_string())
}

/// One memory entry: a chunk of a text blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    pub index: u32,
    pub text: String,
}

/// A blob, analysed: its status and, for text, its chunks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobContent {
    pub sha: String,
    pub size: u64,
    pub status: ContentStatus,
    pub chunks: Vec<Chunk>,
}

impl BlobContent {
    /// The text (a text blob's bytes), rebuilt from its chunks.
    pub fn text(&self) -> String {
        self.chunks.iter().map(|c| c.text.as_str()).collect()
    }

    /// The byte offset at which each chunk starts.
    pub fn chunk_starts(&self) -> Vec<u64> {
        let mut at = 0u64;
        self.chunks
            .iter()
            .map(|c| {
                let start = at;
                at += c.text.len() as u64;
                start
            })
            .collect()
    }
}

pub fn is_lfs_pointer(bytes: &[u8]) -> bool {
    bytes.len() <= LFS_POINTER_MAX_BYTES
        && bytes.starts_with(b"version https://git-lfs.github.com/spec/")
        && bytes.windows(12).any(|w| w == b"\noid sha256:")
        && bytes.windows(6).any(|w| w == b"\nsize ")
}

/// What a blob's bytes are, without chunking them.
pub fn status_of(bytes: &[u8]) -> ContentStatus {
    if bytes.contains(&0) {
        ContentStatus::Binary
    } else if is_lfs_pointer(bytes) {
        ContentStatus::LfsPointer
    } else if std::str::from_utf8(bytes).is_err() {
        ContentStatus::NotText
    } else {
        ContentStatus::Text
    }
}

pub fn analyse(sha: &str, bytes: &[u8]) -> BlobContent {
    let status = status_of(bytes);
    let chunks = match (status, std::str::from_utf8(bytes)) {
        (ContentStatus::Text, Ok(text)) => chunk_text(text, CHUNK_BYTES),
        _ => Vec::new(),
    };
    BlobContent { sha: sha.to_string(), size: bytes.len() as u64, status, chunks }
}

/// Splits text into chunks of about `target` bytes, preferring to end at a line break, never
/// inside a UTF-8 character. Concatenating the chunks gives the text back.
pub fn chunk_text(text: &str, target: usize) -> Vec<Chunk> {
    let target = target.max(1);
    let mut chunks = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = if rest.len() <= target {
            rest.len()
        } else {
            let mut cut = target;
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            // Prefer the last line break in the second half of the window.
            match rest[..cut].rfind('\n') {
                Some(nl) if nl + 1 >= target / 2 => nl + 1,
                _ => cut,
            }
        };
        if end == 0 {
            end = rest.char_indices().nth(1).map(|(i, _)| i).unwrap_or(rest.len());
        }
        let (piece, tail) = rest.split_at(end);
        chunks.push(Chunk { index: chunks.len() as u32, text: piece.to_string() });
        rest = tail;
    }
    chunks
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FetchMethod {
    /// One `git/blobs/{sha}` request per blob.
    Blobs,
    /// One tarball of the whole commit, streamed and decompressed.
    Tarball,
}

/// Blob requests up to which per-blob fetching is always chosen.
pub const BLOBS_ALWAYS_UP_TO: usize = 30;

/// The cheaper way to get `needed` blobs (`needed_bytes` in all) of a commit whose files
/// total `tree_bytes`: requests cost rate limit and latency, a tarball costs bandwidth.
/// A tarball is one request (plus a redirect) however many files it carries, so it wins once
/// the blobs needed are many, unless they are a small part of a large tree.
pub fn choose_fetch(needed: usize, needed_bytes: u64, tree_bytes: u64) -> FetchMethod {
    if needed <= BLOBS_ALWAYS_UP_TO {
        return FetchMethod::Blobs;
    }
    // Each blob request is worth ~64 KB of download (latency and rate-limit budget).
    let blob_cost = needed as u64 * 64 * 1024 + needed_bytes * 4 / 3; // base64 inflates blobs
    let tarball_cost = 2 * 64 * 1024 + tree_bytes / 3; // gzip shrinks text roughly 3x
    if tarball_cost < blob_cost {
        FetchMethod::Tarball
    } else {
        FetchMethod::Blobs
    }
}

/// The full-text index's key for a repository's chunks: one token (`r` and the hex of the
/// canonical name), the same that the schema's trigger computes with `'r' || lower(hex(..))`.
pub fn fts_scope(canonical_repository: &str) -> String {
    format!("r{}", crate::auth::hex(canonical_repository.as_bytes()))
}

/// Turns free text into an FTS5 query over one repository's chunks that matches those
/// containing every word, FTS5's own syntax neutralised (each word a quoted string, in the
/// `text` column). The scope comes first, so only the repository's rows are matched and
/// ranked. `None` when no word is left.
pub fn fts_query(q: &str, scope: &str) -> Option<String> {
    let terms: Vec<String> = q
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|t| !t.is_empty())
        .take(32)
        .map(|t| format!("text : \"{t}\""))
        .collect();
    (!terms.is_empty()).then(|| format!("scope : \"{scope}\" AND {}", terms.join(" AND ")))
}

/// Bytes of chunk text one page of memory entries carries at most: a page whose next
/// entry would pass it ends early (its cursor continues at that entry), so a page never
/// holds more text than this, whatever its `limit` (500 entries of 4 KiB chunks would be
/// 2 MB). A first entry is always taken, so every page moves on.
pub const MEMORY_PAGE_BYTES: u64 = 1024 * 1024;

/// How many of the leading entries of sizes `sizes` one page takes under `budget` bytes:
/// all whose running total stays within it, and never fewer than one.
pub fn within_budget(sizes: impl IntoIterator<Item = u64>, budget: u64) -> usize {
    let mut total = 0u64;
    let mut taken = 0;
    for size in sizes {
        total = total.saturating_add(size);
        if taken > 0 && total > budget {
            break;
        }
        taken += 1;
    }
    taken
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_memory_page_stops_at_its_byte_budget() {
        // (sizes, budget, entries taken)
        let cases: &[(&[u64], u64, usize)] = &[
            (&[], 10, 0),
            (&[4, 4, 4], 10, 2),
            (&[4, 4, 2], 10, 3),
            (&[4, 4, 2, 1], 10, 3),
            (&[20, 1], 10, 1),
            (&[1, 20], 10, 1),
            (&[10], 10, 1),
            (&[0, 0, 0], 0, 3),
        ];
        for (sizes, budget, want) in cases {
            assert_eq!(within_budget(sizes.iter().copied(), *budget), *want, "{sizes:?} within {budget}");
        }
    }

    #[test]
    fn why_no_text_is_kept() {
        for (stored, api) in [
            (None, None),
            (Some("not-a-file"), None),
            (Some("too-large"), Some("too-large")),
            (Some("binary"), Some("binary")),
            (Some("lfs-pointer"), Some("lfs-pointer")),
            (Some("not-text"), Some("not-text")),
            (Some("unread"), Some("not-text")),
        ] {
            assert_eq!(skipped_for_api(stored).as_deref(), api, "{stored:?}");
        }
    }

    use super::*;

    #[test]
    fn classification() {
        let lfs = b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n";
        let cases: Vec<(&[u8], ContentStatus)> = vec![
            (b"hello\nworld\n", ContentStatus::Text),
            (b"", ContentStatus::Text),
            ("ünïcödé 日本語".as_bytes(), ContentStatus::Text),
            (b"PNG\x00\x01\x02", ContentStatus::Binary),
            (&[0xff, 0xfe, 0x41], ContentStatus::NotText),
            (lfs, ContentStatus::LfsPointer),
            (b"version https://git-lfs.github.com/spec/v1\njust text", ContentStatus::Text),
        ];
        for (bytes, want) in cases {
            let got = analyse("s", bytes);
            assert_eq!(got.status, want, "{:?}", String::from_utf8_lossy(bytes));
            assert_eq!(got.size, bytes.len() as u64);
            assert_eq!(got.chunks.is_empty(), want != ContentStatus::Text || bytes.is_empty());
        }
    }

    #[test]
    fn chunks_reassemble_and_respect_boundaries() {
        let texts = [
            String::new(),
            "short".to_string(),
            "line\n".repeat(3000),
            "ü".repeat(5000),
            "x".repeat(10_000),
            format!("{}\n{}", "a".repeat(3000), "b".repeat(3000)),
        ];
        for text in &texts {
            let chunks = chunk_text(text, 4096);
            let joined: String = chunks.iter().map(|c| c.text.as_str()).collect();
            assert_eq!(&joined, text);
            for (i, c) in chunks.iter().enumerate() {
                assert_eq!(c.index as usize, i);
                assert!(c.text.len() <= 4096, "chunk of {} bytes", c.text.len());
                assert!(!c.text.is_empty());
            }
        }
        let lines = chunk_text(&"line\n".repeat(3000), 4096);
        assert!(lines[..lines.len() - 1].iter().all(|c| c.text.ends_with('\n')), "cuts at line breaks");
        assert!(chunk_text("abc", 1).iter().all(|c| c.text.len() == 1));
    }

    #[test]
    fn chunk_offsets_locate_each_chunk() {
        let text = format!("{}\n{}", "a".repeat(3000), "b".repeat(3000));
        let blob = analyse("s", text.as_bytes());
        assert_eq!(blob.text(), text);
        let starts = blob.chunk_starts();
        assert_eq!(starts.len(), blob.chunks.len());
        for (c, start) in blob.chunks.iter().zip(&starts) {
            assert_eq!(&text.as_bytes()[*start as usize..*start as usize + c.text.len()], c.text.as_bytes());
        }
    }

    #[test]
    fn fetch_choice() {
        let cases = [
            (1, 100, 1_000_000_000, FetchMethod::Blobs),
            (30, 3_000_000, 3_000_000, FetchMethod::Blobs),
            (500, 5_000_000, 6_000_000, FetchMethod::Tarball),
            (10_000, 100_000_000, 100_000_000, FetchMethod::Tarball),
            // 40 small files in a 2 GB repository: fetch them one by one.
            (40, 40_000, 2_000_000_000, FetchMethod::Blobs),
        ];
        for (needed, needed_bytes, tree_bytes, want) in cases {
            assert_eq!(choose_fetch(needed, needed_bytes, tree_bytes), want, "{needed} {needed_bytes} {tree_bytes}");
        }
    }

    #[test]
    fn fts_queries_are_scoped_quoted_words() {
        let scope = fts_scope("acme/widgets");
        assert_eq!(scope, "r61636d652f77696467657473");
        assert_eq!(fts_query("retry backoff", &scope).unwrap(), format!("scope : \"{scope}\" AND text : \"retry\" AND text : \"backoff\""));
        assert_eq!(
            fts_query("a\" OR b NEAR(c)*", "rs").unwrap(),
            "scope : \"rs\" AND text : \"a\" AND text : \"OR\" AND text : \"b\" AND text : \"NEAR\" AND text : \"c\""
        );
        assert_eq!(fts_query("  ---  ", "rs"), None);
        assert_eq!(fts_query("ünïcödé", "rs").unwrap(), "scope : \"rs\" AND text : \"ünïcödé\"");
    }
}
