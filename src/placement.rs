//! Which D1 database holds a project: one pure function from project id to a binding, so
//! spreading projects over several bound databases is a configuration change
//! (`PROJECT_DATABASES`, a comma-separated list of D1 bindings; the first is the home
//! database, which also holds users, webhook deliveries and dead letters).
//!
//! A new project is placed by a jump consistent hash (Lamping and Veach, 2014) of its id's
//! SHA-256 over the bindings configured when it is created, so every database gets an equal
//! share of new projects. Where it was placed is then recorded in the home database's
//! directory (`project_directory`) and read from there ever after (`lookup`): appending a
//! database moves no existing project. A project created before the directory existed has
//! no row; it is looked for in every database (the hash's choice first) and its row is
//! written when found, so its placement never depends on the bindings staying as they were.

use crate::domain::Invalid;
use crate::domain::ProjectId;
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

    /// Where a new project goes: the hash of its id over today's bindings. An existing
    /// project's database is what the directory recorded (`lookup`), never this.
    pub fn database_for(&self, project_id: &ProjectId) -> &str {
        &self.bindings[self.index_for(project_id)]
    }
}

/// Where to find a project, given what the directory says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The directory names this binding (its index in the list).
    Recorded(usize),
    /// The directory names a binding the list no longer has: removing a database is not
    /// supported, and guessing another one would answer 404 for a project that exists.
    Removed(String),
    /// No directory row (a project created before the directory, or none at all): look in
    /// these databases, in this order (the hash's choice first), and record where it is.
    Probe(Vec<usize>),
}

impl Placement {
    pub fn lookup(&self, project_id: &ProjectId, recorded: Option<&str>) -> Lookup {
        match recorded {
            Some(binding) => match self.bindings.iter().position(|b| b == binding) {
                Some(i) => Lookup::Recorded(i),
                None => Lookup::Removed(binding.to_string()),
            },
            None => {
                let first = self.index_for(project_id);
                Lookup::Probe(std::iter::once(first).chain((0..self.bindings.len()).filter(|i| *i != first)).collect())
            }
        }
    }

    fn index_for(&self, project_id: &ProjectId) -> usize {
        let digest = Sha256::digest(project_id.as_str().as_bytes());
        let mut key = [0u8; 8];
        key.copy_from_slice(&digest[..8]);
        jump_hash(u64::from_be_bytes(key), self.bindings.len())
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

    fn ids(n: usize) -> Vec<ProjectId> {
        (0..n).map(|i| ProjectId::parse(&format!("{i:08x}-0000-4000-8000-{i:012x}")).unwrap()).collect()
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

    #[test]
    fn the_directory_decides_and_a_project_without_a_row_is_probed_hash_first() {
        let three = Placement::parse(Some("DB,DB2,DB3")).unwrap();
        let all = ids(300);
        // Whatever the hash over three says, a recorded binding wins.
        for id in &all {
            assert_eq!(three.lookup(id, Some("DB2")), Lookup::Recorded(1));
        }
        assert_eq!(three.lookup(&all[0], Some("DB9")), Lookup::Removed("DB9".into()));
        for id in &all {
            let Lookup::Probe(order) = three.lookup(id, None) else { panic!("{id}") };
            assert_eq!(three.all()[order[0]], three.database_for(id), "the hash's choice first");
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(sorted, vec![0, 1, 2], "every database once: {order:?}");
        }
        // The defect this prevents: with one more binding, some projects hash elsewhere.
        let two = Placement::parse(Some("DB,DB2")).unwrap();
        assert!(all.iter().any(|id| two.database_for(id) != three.database_for(id)));
    }
}
