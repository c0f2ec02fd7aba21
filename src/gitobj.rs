//! Git object ids computed from content, so bytes that claim to be a blob can be checked
//! against the id GitHub's tree listing gave for it (tarballs apply `.gitattributes`:
//! `export-subst`, `eol`, filters; only bytes that hash to the listed id are the blob).

use crate::auth::hex;
use sha1::{Digest, Sha1};

/// git's object id of a blob: SHA-1 over `blob <len>\0` and the bytes.
pub fn blob_id(bytes: &[u8]) -> String {
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    hex(&hasher.finalize())
}

/// Whether `bytes` are exactly the blob `sha` (a 40-digit lower-case hex id).
pub fn is_blob(bytes: &[u8], sha: &str) -> bool {
    blob_id(bytes).eq_ignore_ascii_case(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_match_git() {
        // `git hash-object` of these contents.
        let cases: &[(&[u8], &str)] = &[
            (b"", "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"),
            (b"hello\n", "ce013625030ba8dba906f756967f9e9ca394464a"),
            (b"hello\r\n", "ef0493b275aa2080237f676d2ef6559246f56636"),
        ];
        for (bytes, want) in cases {
            assert_eq!(blob_id(bytes), *want, "{:?}", String::from_utf8_lossy(bytes));
            assert!(is_blob(bytes, &want.to_ascii_uppercase()));
        }
        assert!(!is_blob(b"hello\n", "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"));
    }
}
