-- Smaller defects of issue 19 (defect 10): installation events in GitHub's order, one token
-- mint at a time per installation, and an outbox for sync endings announced off the object.

-- GitHub's time (epoch ms) of the installation event last applied: an older one arriving
-- later (a redelivery) is ignored. NULL until an event with a readable time is applied.
ALTER TABLE installations ADD COLUMN state_at_ms INTEGER;

-- A short lease on minting the installation's token (epoch ms it ends): the isolate that
-- claims it mints, the others wait for the cached token it stores. NULL when nobody mints.
ALTER TABLE installations ADD COLUMN mint_lease_until_ms INTEGER;

-- Endings of syncs to announce on the hooks queue (the reaper's, a cancel's, a lost
-- start's): written before the send, deleted once the queue took it; the cron tick sends
-- again what is left. The hooks consumer dedupes, so a second announcement is harmless.
CREATE TABLE hook_announcements (
  sync_id     TEXT PRIMARY KEY REFERENCES syncs(id) ON DELETE CASCADE,
  project_id  TEXT NOT NULL,
  created_at  TEXT NOT NULL
);
