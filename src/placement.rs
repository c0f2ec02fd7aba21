//! Which D1 database holds a project: one pure function from project id to a binding, so
//! spreading projects over several bound databases is a configuration change
//! (`PROJECT_DATABASES`, a comma-separated list of D1 bindings; the first is the home
//! database, which also holds users, webhook deliveries and dead letters).
//!
//! The function is a jump consistent hash (Lamping and Veach, 2014) of the id's SHA-256:
//! every database gets an equal share, and appending a database to the list moves only the
//! projects the new one takes (about 1/N of them), never one between the old ones. Moving
//! those projects' rows is an operator's job that this service does not do (ARCHITECTURE.md).

use crate::domain::Invalid;
use sha2::{Digest, Sha256};

/// The binding of the only database when `PROJECT_DATABASES` is not set.
pub const DEFAULT_BINDING: &str = "DB";
/// More databases than this is a typo, not a deployment (Workers bind at most a few thousand).
const MAX_DATABASES: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    bindings: Vec<String>,
}

impl Default for Placement {
    fn default() -> Self {
        Placement { bindings: vec![DEFAULT_BINDING.to_string()] }
    }
}

impl Placement {
    /// Parses `PROJECT_DATABASES` (unset or empty: the one default database).
    pub fn parse(raw: Option<&str>) -> Result<Placement, Invalid> {
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
            return Ok(Placement::default());
        };
        let bindings: Vec<String> = raw.split(',').map(|b| b.trim().to_string()).collect();
        if bindings.len() > MAX_DATABASES {
            return Err(Invalid(format!("PROJECT_DATABASES names {} databases; at most {MAX_DATABASES}", bindings.len())));
        }
        for (i, b) in bindings.iter().enumerate() {
            let valid =
                !b.is_empty() && b.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !b.starts_with(|c: char| c.is_ascii_digit());
            if !valid {
                return Err(Invalid(format!("PROJECT_DATABASES: {b:?} is not a binding name")));
            }
            if bindings[..i].contains(b) {
                return Err(Invalid(format!("PROJECT_DATABASES names {b} twice")));
            }
        }
        Ok(Placement { bindings })
    }

    /// The database of users, webhook deliveries and dead letters (and of projects too).
    pub fn home(&self) -> &str {
        &self.bindings[0]
    }

    pub fn all(&self) -> &[String] {
        &self.bindings
    }

    /// The binding of the database that holds `project_id` and everything under it.
    pub fn database_for(&self, project_id: &str) -> &str {
        let digest = Sha256::digest(project_id.as_bytes());
        let mut key = [0u8; 8];
        key.copy_from_slice(&digest[..8]);
        &self.bindings[jump_hash(u64::from_be_bytes(key), self.bindings.len())]
    }
}

/// The bucket in `0..buckets` of `key` (Lamping and Veach, "A Fast, Minimal Memory,
/// Consistent Hash Algorithm", 2014).
fn jump_hash(mut key: u64, buckets: usize) -> usize {
    let (mut b, mut j) = (-1i64, 0i64);
    while j < buckets as i64 {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b.max(0) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{i:08x}-0000-4000-8000-{i:012x}")).collect()
    }

    #[test]
    fn parsing() {
        type Case<'a> = (Option<&'a str>, Result<Vec<&'a str>, &'a str>);
        let cases: [Case; 7] = [
            (None, Ok(vec!["DB"])),
            (Some("  "), Ok(vec!["DB"])),
            (Some("DB"), Ok(vec!["DB"])),
            (Some("DB, DB2 ,DB_3"), Ok(vec!["DB", "DB2", "DB_3"])),
            (Some("DB,,DB2"), Err("is not a binding name")),
            (Some("DB,DB"), Err("twice")),
            (Some("DB,2DB"), Err("is not a binding name")),
        ];
        for (raw, want) in cases {
            match (Placement::parse(raw), want) {
                (Ok(p), Ok(names)) => assert_eq!(p.all(), names.iter().map(|s| s.to_string()).collect::<Vec<_>>().as_slice(), "{raw:?}"),
                (Err(e), Err(why)) => assert!(e.0.contains(why), "{raw:?}: {}", e.0),
                (got, _) => panic!("{raw:?}: {got:?}"),
            }
        }
        assert_eq!(Placement::parse(Some("A,B")).unwrap().home(), "A");
    }

    #[test]
    fn one_database_holds_everything() {
        let p = Placement::default();
        assert!(ids(100).iter().all(|id| p.database_for(id) == "DB"));
    }

    // Checked against an independent implementation of the published algorithm.
    const PINNED: [&str; 8] = ["DB", "DB", "DB3", "DB4", "DB3", "DB", "DB3", "DB2"];

    #[test]
    fn projects_spread_evenly_and_stay_put() {
        let two = Placement::parse(Some("DB,DB2")).unwrap();
        let four = Placement::parse(Some("DB,DB2,DB3,DB4")).unwrap();
        let all = ids(20_000);
        for p in [&two, &four] {
            let share = all.len() / p.all().len();
            for b in p.all() {
                let n = all.iter().filter(|id| p.database_for(id) == b).count();
                assert!(n.abs_diff(share) < share / 10, "{b}: {n} of {} (share {share})", all.len());
            }
        }
        // Pinned: a project's database must never change between builds of this service.
        let first: Vec<&str> = all[..8].iter().map(|id| four.database_for(id)).collect();
        assert_eq!(first, PINNED, "placement of existing projects changed");
        // Appending databases moves projects only onto the new ones.
        let three = Placement::parse(Some("DB,DB2,DB3")).unwrap();
        let moved = all.iter().filter(|id| two.database_for(id) != three.database_for(id)).count();
        assert!(all.iter().all(|id| two.database_for(id) == three.database_for(id) || three.database_for(id) == "DB3"));
        assert!(moved.abs_diff(all.len() / 3) < all.len() / 30, "{moved} moved");
    }
}
