-- Fewer D1 rows per file (issue 13): blob text moves to R2 (packs of one stored batch each,
-- `packs/<owner/repo>/<sha256>`), D1 keeps what a blob is, where its chunks start, and a
-- contentless full-text index; versions lose the indexes no contract query needs.
--
-- Pre-release note: the text stored so far in D1 is not carried over (a migration cannot
-- write R2); blobs are read again as the syncs that need them run.
PRAGMA defer_foreign_keys = true;

-- Versions keyed by what the idempotent insert conflicts on, which also orders every
-- path-ordered read: no rowid, no separate path index.
CREATE TABLE file_versions_v3 (
  project_id             TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  path                   TEXT NOT NULL,
  introduced_sync_id     TEXT NOT NULL REFERENCES syncs(id) ON DELETE CASCADE,
  mode                   TEXT NOT NULL CHECK (mode IN ('100644', '100755', '120000', '160000')),
  kind                   TEXT NOT NULL CHECK (kind IN ('file', 'symlink', 'submodule', 'lfs-pointer')),
  sha                    TEXT NOT NULL CHECK (length(sha) = 40),
  size                   INTEGER,            -- NULL for submodules
  introduced_seq         INTEGER NOT NULL,
  superseded_by_sync_id  TEXT REFERENCES syncs(id) ON DELETE SET NULL,
  superseded_seq         INTEGER,
  previous_path          TEXT,
  content_skipped        TEXT,
  PRIMARY KEY (project_id, path, introduced_sync_id),
  CHECK (superseded_seq IS NULL OR superseded_seq > introduced_seq)
) WITHOUT ROWID;
INSERT INTO file_versions_v3 (project_id, path, introduced_sync_id, mode, kind, sha, size, introduced_seq,
  superseded_by_sync_id, superseded_seq, previous_path, content_skipped)
SELECT project_id, path, introduced_sync_id, mode, kind, sha, size, introduced_seq,
  superseded_by_sync_id, superseded_seq, previous_path, content_skipped FROM file_versions;
DROP TABLE file_versions;
ALTER TABLE file_versions_v3 RENAME TO file_versions;
-- One head version per path (and the supersede lookups).
CREATE UNIQUE INDEX file_versions_one_head ON file_versions (project_id, path) WHERE superseded_seq IS NULL;
-- What a sync introduced (its changes; discarding an ended sync's rows).
CREATE INDEX file_versions_introduced ON file_versions (introduced_sync_id);
-- What a sync superseded (written only when a version is superseded).
CREATE INDEX file_versions_superseded ON file_versions (superseded_by_sync_id) WHERE superseded_by_sync_id IS NOT NULL;
-- Memory search: the project's versions of a blob.
CREATE INDEX file_versions_by_sha ON file_versions (project_id, sha);

CREATE TABLE dir_versions_v3 (
  project_id             TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  path                   TEXT NOT NULL,       -- '' is the root
  introduced_sync_id     TEXT NOT NULL REFERENCES syncs(id) ON DELETE CASCADE,
  sha                    TEXT NOT NULL,
  introduced_seq         INTEGER NOT NULL,
  superseded_by_sync_id  TEXT REFERENCES syncs(id) ON DELETE SET NULL,
  superseded_seq         INTEGER,
  PRIMARY KEY (project_id, path, introduced_sync_id)
) WITHOUT ROWID;
INSERT INTO dir_versions_v3 (project_id, path, introduced_sync_id, sha, introduced_seq, superseded_by_sync_id, superseded_seq)
SELECT project_id, path, introduced_sync_id, sha, introduced_seq, superseded_by_sync_id, superseded_seq FROM dir_versions;
DROP TABLE dir_versions;
ALTER TABLE dir_versions_v3 RENAME TO dir_versions;
CREATE UNIQUE INDEX dir_versions_one_head ON dir_versions (project_id, path) WHERE superseded_seq IS NULL;
CREATE INDEX dir_versions_introduced ON dir_versions (introduced_sync_id);
CREATE INDEX dir_versions_superseded ON dir_versions (superseded_by_sync_id) WHERE superseded_by_sync_id IS NOT NULL;

-- Blobs: what each is, once per repository; for text, the pack (an object of the content
-- bucket holding the texts of one stored batch) and offset where its text is, and where its
-- memory entries (chunks) start within it, as a JSON array of byte offsets.
DROP TRIGGER blob_chunks_index;
DROP TABLE memory_fts;
DROP TABLE blob_chunks;
DROP TABLE blob_contents;
CREATE TABLE blob_contents (
  id          INTEGER PRIMARY KEY,
  repository  TEXT NOT NULL,                 -- lower-cased owner/repo
  sha         TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('text', 'binary', 'lfs-pointer', 'not-text')),
  size        INTEGER NOT NULL,
  chunks      TEXT NOT NULL DEFAULT '[]',
  pack        TEXT,                          -- NULL unless status = 'text'
  pack_offset INTEGER,
  -- The write that created the row (random per write): that write's own full-text insert
  -- indexes exactly the rows it created, so a replay never indexes a chunk twice.
  write_tag   TEXT NOT NULL,
  UNIQUE (repository, sha),
  CHECK (pack IS NULL OR (status = 'text' AND pack_offset IS NOT NULL))
);
UPDATE file_versions SET content_skipped = 'unread' WHERE content_skipped IS NULL AND kind = 'file';

-- The full-text index of the chunks, contentless (the text is in R2), one document per
-- chunk: docid = blob id * 65536 + chunk. `scope` ('r' || hex of the repository) keeps a
-- search to one repository's chunks before ranking.
CREATE VIRTUAL TABLE memory_fts USING fts5 (scope, text, content = '');
