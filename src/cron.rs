//! Planning the cron tick without I/O: which shard (Durable Object) checks which tracked
//! project, stably, so a project is queued in one place however often ticks overlap; and
//! what a head check concludes.

use crate::auth::sha256_hex;
use crate::domain::CommitSha;
use std::collections::BTreeMap;

/// Durable Objects the checks are spread over. Each works through its queue in alarm
/// slices with its own subrequest budget, so a tick is a few dozen calls however many
/// projects are tracked.
pub const SHARDS: u32 = 32;
/// Tracked projects queued per tick, least recently checked first.
pub const MAX_QUEUED_PER_TICK: u64 = 20_000;
/// Head checks one shard makes per alarm invocation (a GitHub request and a D1 write each).
pub const CHECKS_PER_SLICE: usize = 25;

pub fn shard_of(project_id: &str, shards: u32) -> u32 {
    let digest = sha256_hex(project_id.as_bytes());
    u32::from_str_radix(&digest[..8], 16).unwrap_or(0) % shards.max(1)
}

/// Groups project ids by shard, keeping their order within each shard.
pub fn plan(project_ids: Vec<String>, shards: u32) -> BTreeMap<u32, Vec<String>> {
    let mut plan: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for id in project_ids {
        plan.entry(shard_of(&id, shards)).or_default().push(id);
    }
    plan
}

/// Whether a project whose branch head is `head` needs a sync: exactly when it does not
/// hold that commit. Compared with the held commit (not with an ETag alone), so a cron sync
/// that failed or was refused is tried again by every later tick until one completes.
pub fn needs_sync(head: &CommitSha, held: Option<&CommitSha>) -> bool {
    held != Some(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_not_held_needs_a_sync() {
        let a = CommitSha::parse(&"a".repeat(40)).unwrap();
        let b = CommitSha::parse(&"b".repeat(40)).unwrap();
        assert!(needs_sync(&a, None), "a project that holds nothing yet");
        assert!(needs_sync(&a, Some(&b)), "the head moved, or the last sync of it failed");
        assert!(!needs_sync(&a, Some(&a)), "unchanged: no sync row");
    }

    #[test]
    fn shards_are_stable_and_spread() {
        let ids: Vec<String> = (0..10_000).map(|i| format!("project-{i}")).collect();
        let a = plan(ids.clone(), SHARDS);
        let b = plan(ids.iter().rev().cloned().collect(), SHARDS);
        assert_eq!(a.len(), SHARDS as usize);
        for (shard, members) in &a {
            let mut x = members.clone();
            let mut y = b[shard].clone();
            x.sort();
            y.sort();
            assert_eq!(x, y, "same projects in shard {shard} whatever the order");
            // 10,000 over 32 shards: about 312 each; none wildly off.
            assert!((200..450).contains(&members.len()), "shard {shard} has {}", members.len());
        }
        assert_eq!(a.values().map(Vec::len).sum::<usize>(), 10_000);
        assert_eq!(shard_of("p", 1), 0);
    }
}
