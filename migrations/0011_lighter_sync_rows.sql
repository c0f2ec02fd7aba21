-- Fewer D1 rows for what a sync writes (issue 23): its own record, and its texts.
--
-- A running sync writes its row (progress, and `updated_at` for the reaper) on each status
-- change and at most every 2 s besides (`engine::RECORD_EVERY_MS`); `syncs_running`, keyed
-- by `updated_at`, made each of those writes an index write as well. The reaper's scan of the
-- running rows goes through `syncs_one_running_per_project` instead: it holds exactly the
-- running rows (at most one a project), and none of its keys change while a sync runs.
DROP INDEX syncs_running;

-- The pack ledger: each pack's text blobs, 1,000 blob ids a row (`crate::pack::LEDGER_PART`),
-- written with the blob rows that point into it. A sweep asks whether a pack is still in
-- use of these rows and the blob rows they name (by their key), so no index on every blob
-- row's pack is needed: `blob_contents_by_pack` cost a D1 row and ~110 bytes a text blob.
CREATE TABLE pack_blobs (
  pack        TEXT NOT NULL,                 -- the pack's key in the content bucket
  part        INTEGER NOT NULL CHECK (part >= 0),
  repository  TEXT NOT NULL,                 -- lower-cased owner/repo, as blob_contents has it
  shas        TEXT NOT NULL,                 -- JSON array of blob ids, in sha order
  PRIMARY KEY (pack, part)
) WITHOUT ROWID;
INSERT INTO pack_blobs (pack, part, repository, shas)
SELECT pack, part, repository, json_group_array(sha) FROM (
  SELECT pack, repository, sha, (row_number() OVER (PARTITION BY pack ORDER BY sha) - 1) / 1000 AS part
  FROM blob_contents WHERE pack IS NOT NULL ORDER BY pack, sha)
GROUP BY pack, part;
DROP INDEX blob_contents_by_pack;

-- A first sync's versions are its whole state: they are read by chain position through the
-- primary key (its changes, a compare from the empty state, the discard of a first sync
-- that ended without completing), so the indexes by introducing sync leave them out. For
-- files it cost a D1 row and ~105 bytes a file of every first sync; directories follow the
-- same rule, so both tables are discarded alike.
DROP INDEX file_versions_introduced;
CREATE INDEX file_versions_introduced ON file_versions (introduced_sync_id) WHERE introduced_seq > 1;
DROP INDEX dir_versions_introduced;
CREATE INDEX dir_versions_introduced ON dir_versions (introduced_sync_id) WHERE introduced_seq > 1;
