-- Versions keyed by chain position, not by sync id (issue 23, storage).
--
-- The primary key named the introducing sync by id (a 36-byte UUID), so every index entry
-- carried it too: ~70 bytes a held file in the one-head and blob-id indexes. The chain
-- position says the same (a running sync stages at `current_seq + 1`, where only leftovers
-- of ended syncs can also lie, and those are discarded before it stages), so the key is
-- `(project_id, path, introduced_seq)`:
-- - a path's history is the primary key's own order (`file_versions_history` goes);
-- - what a sync introduced or superseded is found by `(project_id, position)`;
-- - the discard of what ended syncs left is by position (`current_seq + 1`);
-- - directories keep no index by position at all (only that discard, rare, looked them up
--   so, and it now reads every directory version of the project; each index cost a D1 row
--   a changed directory), and no sync ids.
-- A file version still names its syncs by id, for the views that show them (a join per row
-- would read a sync row per version listed), but no index or foreign key holds those ids.
PRAGMA defer_foreign_keys = true;

CREATE TABLE file_versions_v12 (
  project_id             TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  path                   TEXT NOT NULL,
  introduced_seq         INTEGER NOT NULL,
  mode                   TEXT NOT NULL CHECK (mode IN ('100644', '100755', '120000', '160000')),
  kind                   TEXT NOT NULL CHECK (kind IN ('file', 'symlink', 'submodule', 'lfs-pointer')),
  sha                    TEXT NOT NULL CHECK (length(sha) = 40),
  size                   INTEGER,            -- NULL for submodules
  introduced_sync_id     TEXT NOT NULL,      -- the sync at introduced_seq
  superseded_seq         INTEGER,
  superseded_by_sync_id  TEXT,               -- the sync at superseded_seq
  previous_path          TEXT,
  content_skipped        TEXT,
  similarity             INTEGER CHECK (similarity BETWEEN 0 AND 100),
  PRIMARY KEY (project_id, path, introduced_seq),
  CHECK (superseded_seq IS NULL OR superseded_seq > introduced_seq)
) WITHOUT ROWID;
INSERT INTO file_versions_v12 (project_id, path, introduced_seq, mode, kind, sha, size, introduced_sync_id, superseded_seq,
  superseded_by_sync_id, previous_path, content_skipped, similarity)
SELECT project_id, path, introduced_seq, mode, kind, sha, size, introduced_sync_id, superseded_seq, superseded_by_sync_id,
  previous_path, content_skipped, similarity
FROM file_versions;
DROP TABLE file_versions;
ALTER TABLE file_versions_v12 RENAME TO file_versions;
-- One head version per path (and the supersede lookups).
CREATE UNIQUE INDEX file_versions_one_head ON file_versions (project_id, path) WHERE superseded_seq IS NULL;
-- What a sync introduced, in path order (its changes, a compare, the discard). A first
-- sync's versions (position 1) are its whole state and are read through the primary key.
CREATE INDEX file_versions_introduced ON file_versions (project_id, introduced_seq) WHERE introduced_seq > 1;
-- What a sync superseded, in path order (written only when a version is superseded).
CREATE INDEX file_versions_superseded ON file_versions (project_id, superseded_seq) WHERE superseded_seq IS NOT NULL;
-- The project's versions of a blob (memory search, rename candidates, the content sweep).
CREATE INDEX file_versions_by_sha ON file_versions (project_id, sha);
-- The paths a sync renamed away from (`/syncs/{id}/changes` leaves them out of its removals).
CREATE INDEX file_versions_renamed_from ON file_versions (project_id, introduced_seq, previous_path)
  WHERE previous_path IS NOT NULL;

CREATE TABLE dir_versions_v12 (
  project_id             TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  path                   TEXT NOT NULL,       -- '' is the root
  introduced_seq         INTEGER NOT NULL,
  sha                    TEXT NOT NULL,
  superseded_seq         INTEGER,
  PRIMARY KEY (project_id, path, introduced_seq),
  CHECK (superseded_seq IS NULL OR superseded_seq > introduced_seq)
) WITHOUT ROWID;
INSERT INTO dir_versions_v12 (project_id, path, introduced_seq, sha, superseded_seq)
SELECT project_id, path, introduced_seq, sha, superseded_seq FROM dir_versions;
DROP TABLE dir_versions;
ALTER TABLE dir_versions_v12 RENAME TO dir_versions;
CREATE UNIQUE INDEX dir_versions_one_head ON dir_versions (project_id, path) WHERE superseded_seq IS NULL;
