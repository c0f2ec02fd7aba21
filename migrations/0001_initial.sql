-- Project Sync: the whole schema of the public contract.
--
-- Visibility: a file version is active at chain position N when
--   introduced_seq <= N AND (superseded_seq IS NULL OR superseded_seq > N).
-- A running sync stages its rows at projects.current_seq + 1; one UPDATE of
-- projects.current_seq makes them visible (see ARCHITECTURE.md, "Invariants").

CREATE TABLE users (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 800),
  -- SHA-256 (hex) of the API token; the token itself is shown once and never stored.
  token_hash  TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
  created_at  TEXT NOT NULL
);

CREATE TABLE projects (
  id                  TEXT PRIMARY KEY,
  user_id             TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name                TEXT NOT NULL,
  repository          TEXT NOT NULL,          -- owner/repo as GitHub spells it
  branch              TEXT NOT NULL,
  tracked             INTEGER NOT NULL DEFAULT 0 CHECK (tracked IN (0, 1)),
  -- AES-GCM ciphertext of the project's own GitHub token (never returned, never logged).
  github_token_enc    TEXT,
  -- The chain head: the last COMPLETE sync and its position (0 before the first).
  current_sync_id     TEXT REFERENCES syncs(id),
  current_seq         INTEGER NOT NULL DEFAULT 0 CHECK (current_seq >= 0),
  current_commit_sha  TEXT,
  -- Conditional head check for the cron (If-None-Match).
  head_etag           TEXT,
  head_checked_at     TEXT,
  created_at          TEXT NOT NULL,
  updated_at          TEXT NOT NULL
);
CREATE INDEX projects_by_user ON projects (user_id, created_at, id);
CREATE INDEX projects_tracked ON projects (repository COLLATE NOCASE, branch) WHERE tracked = 1;
CREATE INDEX projects_due ON projects (head_checked_at) WHERE tracked = 1;

CREATE TABLE syncs (
  id                     TEXT PRIMARY KEY,
  project_id             TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  kind                   TEXT NOT NULL CHECK (kind IN ('sync', 'restore')),
  trigger                TEXT NOT NULL CHECK (trigger IN ('api', 'cron', 'webhook')),
  branch                 TEXT NOT NULL,
  commit_sha             TEXT,
  status                 TEXT NOT NULL CHECK (status IN ('QUEUED', 'FETCHING', 'DIFFING', 'PROCESSING',
                                                         'PERSISTING', 'COMPLETE', 'FAILED', 'CANCELLED')),
  progress               INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  message                TEXT NOT NULL DEFAULT '',
  -- Position in the chain; set only when the sync completes.
  seq                    INTEGER,
  -- The chain: each completed sync names the one it followed, and no two name the same.
  previous_sync_id       TEXT UNIQUE REFERENCES syncs(id),
  restored_from_sync_id  TEXT REFERENCES syncs(id),
  added                  INTEGER NOT NULL DEFAULT 0,
  modified               INTEGER NOT NULL DEFAULT 0,
  removed                INTEGER NOT NULL DEFAULT 0,
  unchanged              INTEGER NOT NULL DEFAULT 0,
  renamed                INTEGER NOT NULL DEFAULT 0,
  github_requests        INTEGER NOT NULL DEFAULT 0,
  github_not_modified    INTEGER NOT NULL DEFAULT 0,
  d1_rows_written        INTEGER NOT NULL DEFAULT 0,
  bytes_downloaded       INTEGER NOT NULL DEFAULT 0,
  duration_ms            INTEGER NOT NULL DEFAULT 0,
  error                  TEXT,
  started_at             TEXT NOT NULL,
  completed_at           TEXT,
  UNIQUE (project_id, seq),
  CHECK ((status = 'COMPLETE') = (seq IS NOT NULL))
);
-- At most one queued-or-running sync (or restore) per project, enforced here, not in code.
CREATE UNIQUE INDEX syncs_one_running_per_project ON syncs (project_id)
  WHERE status IN ('QUEUED', 'FETCHING', 'DIFFING', 'PROCESSING', 'PERSISTING');
CREATE INDEX syncs_history ON syncs (project_id, started_at DESC, id DESC);
CREATE INDEX syncs_restored_from ON syncs (restored_from_sync_id) WHERE restored_from_sync_id IS NOT NULL;

CREATE TABLE file_versions (
  id                     INTEGER PRIMARY KEY,
  project_id             TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  path                   TEXT NOT NULL,
  mode                   TEXT NOT NULL CHECK (mode IN ('100644', '100755', '120000', '160000')),
  kind                   TEXT NOT NULL CHECK (kind IN ('file', 'symlink', 'submodule', 'lfs-pointer')),
  sha                    TEXT NOT NULL CHECK (length(sha) = 40),
  size                   INTEGER,            -- NULL for submodules
  introduced_sync_id     TEXT NOT NULL REFERENCES syncs(id) ON DELETE CASCADE,
  introduced_seq         INTEGER NOT NULL,
  superseded_by_sync_id  TEXT REFERENCES syncs(id) ON DELETE SET NULL,
  superseded_seq         INTEGER,
  -- For renames: the path this version came from.
  previous_path          TEXT,
  -- Why no text is kept ('binary', 'too-large', 'lfs-pointer', 'not-text', 'not-a-file');
  -- NULL when it is.
  content_skipped        TEXT,
  UNIQUE (project_id, path, introduced_sync_id),
  CHECK (superseded_seq IS NULL OR superseded_seq > introduced_seq)
);
-- One head version per path: staged rows supersede first, then insert.
CREATE UNIQUE INDEX file_versions_one_head ON file_versions (project_id, path) WHERE superseded_seq IS NULL;
CREATE INDEX file_versions_by_path ON file_versions (project_id, path, introduced_seq);
CREATE INDEX file_versions_introduced ON file_versions (introduced_sync_id);
CREATE INDEX file_versions_superseded ON file_versions (superseded_by_sync_id) WHERE superseded_by_sync_id IS NOT NULL;
-- Memory search joins matching chunks to the project's versions of that blob.
CREATE INDEX file_versions_by_sha ON file_versions (project_id, sha);

-- Directory tree shas, versioned exactly like files (same visibility rule), so a sync can
-- skip every subtree whose sha did not change.
CREATE TABLE dir_versions (
  id                     INTEGER PRIMARY KEY,
  project_id             TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  path                   TEXT NOT NULL,       -- '' is the root
  sha                    TEXT NOT NULL,
  introduced_sync_id     TEXT NOT NULL REFERENCES syncs(id) ON DELETE CASCADE,
  introduced_seq         INTEGER NOT NULL,
  superseded_by_sync_id  TEXT REFERENCES syncs(id) ON DELETE SET NULL,
  superseded_seq         INTEGER,
  UNIQUE (project_id, path, introduced_sync_id)
);
CREATE UNIQUE INDEX dir_versions_one_head ON dir_versions (project_id, path) WHERE superseded_seq IS NULL;
CREATE INDEX dir_versions_by_path ON dir_versions (project_id, path, introduced_seq);
CREATE INDEX dir_versions_introduced ON dir_versions (introduced_sync_id);
CREATE INDEX dir_versions_superseded ON dir_versions (superseded_by_sync_id) WHERE superseded_by_sync_id IS NOT NULL;

-- What a blob's bytes are, analysed once per repository (shared by its projects and versions).
CREATE TABLE blob_contents (
  repository  TEXT NOT NULL,                 -- lower-cased owner/repo
  sha         TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('text', 'binary', 'lfs-pointer', 'not-text')),
  size        INTEGER NOT NULL,
  PRIMARY KEY (repository, sha)
) WITHOUT ROWID;

-- The text of text blobs, in chunks: the memory entries. An entry belongs to every file
-- version with that blob, and is active exactly when such a version is (see the memory query).
CREATE TABLE blob_chunks (
  id           INTEGER PRIMARY KEY,
  repository   TEXT NOT NULL,
  sha          TEXT NOT NULL,
  chunk        INTEGER NOT NULL CHECK (chunk >= 0),
  text         TEXT NOT NULL,
  text_sha256  TEXT NOT NULL CHECK (length(text_sha256) = 64),
  UNIQUE (repository, sha, chunk)
);

CREATE VIRTUAL TABLE blob_chunks_fts USING fts5 (text, content = 'blob_chunks', content_rowid = 'id');
CREATE TRIGGER blob_chunks_ai AFTER INSERT ON blob_chunks BEGIN
  INSERT INTO blob_chunks_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER blob_chunks_ad AFTER DELETE ON blob_chunks BEGIN
  INSERT INTO blob_chunks_fts (blob_chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;

-- GitHub answers by request (token scope + URL) with their ETag, so a repeated read is a
-- conditional request that GitHub answers 304, free against the rate limit.
CREATE TABLE github_cache (
  key        TEXT PRIMARY KEY,
  etag       TEXT NOT NULL,
  link       TEXT,
  body       TEXT NOT NULL,
  stored_at  TEXT NOT NULL
) WITHOUT ROWID;

-- Push webhook deliveries already handled (X-GitHub-Delivery), so repeats are ignored.
CREATE TABLE webhook_deliveries (
  id           TEXT PRIMARY KEY,
  event        TEXT NOT NULL,
  received_at  TEXT NOT NULL
);
