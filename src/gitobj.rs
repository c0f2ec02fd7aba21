//! Git object ids computed from content, so what GitHub hands over can be checked against
//! the ids it listed: bytes that claim to be a blob (tarballs apply `.gitattributes`:
//! `export-subst`, `eol`, filters; only bytes that hash to the listed id are the blob), and
//! the part of a truncated tree listing that provably holds whole directories.

use crate::auth::hex;
use sha1::{Digest, Sha1};

mod built;
mod whole;
pub use built::TreeIds;
pub use whole::WholeDirs;

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

/// One entry of a tree, as a listing gives it: its name in its directory, git mode (as
/// listed: `040000` or `40000` for trees) and object id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry<'a> {
    pub name: &'a str,
    pub mode: &'a str,
    pub sha: &'a str,
    pub is_tree: bool,
}

/// git's object id of a tree holding exactly `entries`: SHA-1 over `tree <len>\0` and the
/// entries in git's order (a tree's name compared as if it ended in `/`). `None` when an id
/// is not 40 hex digits.
pub fn tree_id(entries: &[TreeEntry]) -> Option<String> {
    let mut sorted: Vec<&TreeEntry> = entries.iter().collect();
    let sort_key = |e: &TreeEntry| {
        let mut k = e.name.as_bytes().to_vec();
        if e.is_tree {
            k.push(b'/');
        }
        k
    };
    sorted.sort_by_key(|e| sort_key(e));
    let mut body = Vec::new();
    for e in sorted {
        tree_record(&mut body, e.mode, e.name, e.sha)?;
    }
    Some(tree_id_of_body(&body))
}

/// Appends one entry as git writes it in a tree object: `<mode> <name>\0<20-byte id>`
/// (trees as `40000`, whatever the listing's leading zero). `None` for a malformed id.
pub fn tree_record(body: &mut Vec<u8>, mode: &str, name: &str, sha: &str) -> Option<()> {
    let id = unhex20(sha)?;
    body.extend_from_slice(mode.trim_start_matches('0').as_bytes());
    body.push(b' ');
    body.extend_from_slice(name.as_bytes());
    body.push(0);
    body.extend_from_slice(&id);
    Some(())
}

/// git's object id of a tree whose records (`tree_record`, in git's order) are `body`.
pub fn tree_id_of_body(body: &[u8]) -> String {
    let mut hasher = Sha1::new();
    hasher.update(format!("tree {}\0", body.len()).as_bytes());
    hasher.update(body);
    hex(&hasher.finalize())
}

fn unhex20(sha: &str) -> Option<[u8; 20]> {
    let mut out = [0u8; 20];
    if sha.len() != 40 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(sha.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
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

    /// An entry as listed, owned: (path, mode, sha).
    type Owned = (String, &'static str, String);

    fn entry(path: &str, mode: &'static str, sha: &str) -> Owned {
        (path.to_string(), mode, sha.to_string())
    }

    fn is_tree(mode: &str) -> bool {
        mode.ends_with("40000")
    }

    /// What `WholeDirs` proves of `entries` streamed in the order given.
    fn whole(root: &str, entries: &[Owned]) -> Vec<String> {
        let mut proof = WholeDirs::default();
        for (path, mode, sha) in entries {
            proof.add(path, mode, sha, is_tree(mode));
        }
        proof.finish(root)
    }

    /// A repository made with git (`git ls-tree -r -t` of it; ids computed by git):
    /// a.txt "a", b/c.txt "c", b/d/e.txt "e", b-x "x" (sorting around the tree `b`).
    fn listing() -> (String, Vec<Owned>) {
        let (a, c, e, x) = (blob_id(b"a"), blob_id(b"c"), blob_id(b"e"), blob_id(b"x"));
        let d = tree_id(&[TreeEntry { name: "e.txt", mode: "100644", sha: &e, is_tree: false }]).unwrap();
        let b = tree_id(&[
            TreeEntry { name: "c.txt", mode: "100644", sha: &c, is_tree: false },
            TreeEntry { name: "d", mode: "040000", sha: &d, is_tree: true },
        ])
        .unwrap();
        let root = tree_id(&[
            TreeEntry { name: "a.txt", mode: "100644", sha: &a, is_tree: false },
            TreeEntry { name: "b", mode: "040000", sha: &b, is_tree: true },
            TreeEntry { name: "b-x", mode: "100755", sha: &x, is_tree: false },
        ])
        .unwrap();
        // In git's pre-order: the tree `b` sorts as `b/`, after `b-x`.
        let entries = vec![
            entry("a.txt", "100644", &a),
            entry("b-x", "100755", &x),
            entry("b", "040000", &b),
            entry("b/c.txt", "100644", &c),
            entry("b/d", "040000", &d),
            entry("b/d/e.txt", "100644", &e),
        ];
        (root, entries)
    }

    #[test]
    fn tree_ids_match_git() {
        // `printf a > a.txt; git add a.txt; git write-tree`.
        let a = blob_id(b"a");
        assert_eq!(a, "2e65efe2a145dda7ee51d1741299f848e5bf752e");
        let tree = tree_id(&[TreeEntry { name: "a.txt", mode: "100644", sha: &a, is_tree: false }]).unwrap();
        assert_eq!(tree, "1a602d9bd07ce5272ddaa64e21da12dbca2b8c9f");
        // git sorts a tree named "b" as "b/": after the file "b-x" ('-' < '/').
        let (root, owned) = listing();
        let names: Vec<TreeEntry> = owned
            .iter()
            .filter(|(path, ..)| !path.contains('/'))
            .map(|(path, mode, sha)| TreeEntry { name: path, mode, sha, is_tree: is_tree(mode) })
            .collect();
        assert_eq!(tree_id(&names).as_deref(), Some(root.as_str()));
        // The ids `git write-tree` and `git ls-tree -r -t` give for that repository.
        assert_eq!(root, "044adc4aeb0f4e5c0e2fe01bf394b5d8ee7b5fe2");
        let listed: Vec<(&str, &str)> = owned.iter().map(|(path, _, sha)| (path.as_str(), sha.as_str())).collect();
        assert!(listed.contains(&("b", "e0122beacd3cdd80c7454d709be0892f9717bddf")));
        assert!(listed.contains(&("b/d", "ba2e2f63fadf88cd14aff44d418bb9ba2be6fde5")));
        assert_eq!(tree_id(&[TreeEntry { name: "x", mode: "100644", sha: "zz", is_tree: false }]), None);
    }

    #[test]
    fn only_provably_whole_directories_are_complete() {
        let (root, owned) = listing();
        // Whole: each directory as it ends (b/d, then b), the listed tree last.
        assert_eq!(whole(&root, &owned), vec!["b/d", "b", ""]);
        // Truncated after b/d: b/d lists nothing under it, so neither it, b nor the root is
        // provably whole; nothing is (a.txt and b-x are files of the root).
        assert!(whole(&root, &owned[..5]).is_empty());
        // Without b-x: b and b/d are whole, the root is not.
        let without: Vec<Owned> = owned.iter().filter(|(p, ..)| p != "b-x").cloned().collect();
        assert_eq!(whole(&root, &without), vec!["b/d", "b"]);
        // A listed id that does not match its entries is never trusted, nor its parents.
        let mut lying = owned.clone();
        lying[4].2 = blob_id(b"not a tree");
        assert!(whole(&root, &lying).is_empty());
        // A malformed id proves nothing of its directory, nor of its parents.
        let mut malformed = owned.clone();
        malformed[3].2 = "zz".into();
        assert_eq!(whole(&root, &malformed), vec!["b/d"]);
        // A root entry out of git's order: the root is not proven, its ended directories are.
        let mut late = owned.clone();
        let a = late.remove(0);
        late.push(a);
        assert_eq!(whole(&root, &late), vec!["b/d", "b"]);
        // An entry before its directory's (not pre-order): nothing is proven.
        let mut shuffled = owned.clone();
        let e = shuffled.remove(5);
        shuffled.insert(0, e);
        assert!(whole(&root, &shuffled).is_empty());
        // A listing of one level (no subdirectory contents) proves nothing below the root.
        let flat: Vec<Owned> = owned.iter().filter(|(p, ..)| !p.contains('/')).cloned().collect();
        assert!(!whole(&root, &flat).contains(&"b".to_string()));
    }

    /// What `TreeIds` builds from the files of `entries`, in byte order of their paths.
    fn built(entries: &[Owned]) -> Vec<(String, String)> {
        let mut files: Vec<&Owned> = entries.iter().filter(|(_, mode, _)| !is_tree(mode)).collect();
        files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let mut ids = TreeIds::default();
        for (path, mode, sha) in files {
            ids.add(path, mode, sha);
        }
        ids.finish()
    }

    #[test]
    fn tree_ids_built_from_files_in_path_order_are_gits() {
        let (root, owned) = listing();
        let listed = |p: &str| owned.iter().find(|(path, ..)| path == p).map(|(_, _, sha)| sha.clone()).unwrap();
        let want = vec![("b/d".to_string(), listed("b/d")), ("b".to_string(), listed("b")), (String::new(), root.clone())];
        assert_eq!(built(&owned), want);
        // A file the archive left out, or altered, changes every id above it.
        let fewer: Vec<Owned> = owned.iter().filter(|(p, ..)| p != "b/c.txt").cloned().collect();
        let got = built(&fewer);
        assert_eq!(got[0], ("b/d".to_string(), listed("b/d")));
        assert_ne!(got[1].1, listed("b"));
        assert_ne!(got[2].1, root);
        let mut altered = owned.clone();
        altered[3].2 = blob_id(b"c, substituted");
        assert_ne!(built(&altered).last().map(|(_, id)| id.clone()), Some(root.clone()));
        // A malformed id leaves its directory (and those above) out.
        let mut malformed = owned.clone();
        malformed[5].2 = "zz".into();
        assert_eq!(built(&malformed).iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(), Vec::<&str>::new());
    }
}
