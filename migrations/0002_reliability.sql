-- Trust under failure (issue 8).

-- Every write of a running sync's row refreshes updated_at: the reaper ends syncs that
-- stopped advancing. Rows of syncs that ended without completing are discarded once
-- (their staged versions removed, their supersede marks undone); `discarded` says it is done.
ALTER TABLE syncs ADD COLUMN updated_at TEXT;
UPDATE syncs SET updated_at = COALESCE(completed_at, started_at);
ALTER TABLE syncs ADD COLUMN discarded INTEGER NOT NULL DEFAULT 0 CHECK (discarded IN (0, 1));
CREATE INDEX syncs_to_discard ON syncs (project_id) WHERE discarded = 0 AND status IN ('FAILED', 'CANCELLED');
CREATE INDEX syncs_running ON syncs (updated_at)
  WHERE status IN ('QUEUED', 'FETCHING', 'DIFFING', 'PROCESSING', 'PERSISTING');

-- The head ETag is stored with the commit it named, so a 304 still tells the cron which
-- commit the branch is at (and a failed cron sync is retried).
ALTER TABLE projects ADD COLUMN head_sha TEXT;
UPDATE projects SET head_etag = NULL;
CREATE INDEX projects_current_sync ON projects (current_sync_id);

-- The full-text index, contentless and keyed by repository: a search matches and ranks
-- only the repository's own chunks ('r' || hex of the lower-cased owner/repo, one token).
DROP TRIGGER blob_chunks_ai;
DROP TRIGGER blob_chunks_ad;
DROP TABLE blob_chunks_fts;
CREATE VIRTUAL TABLE memory_fts USING fts5 (scope, text, content = '');
INSERT INTO memory_fts (rowid, scope, text) SELECT id, 'r' || lower(hex(repository)), text FROM blob_chunks;
CREATE TRIGGER blob_chunks_index AFTER INSERT ON blob_chunks BEGIN
  INSERT INTO memory_fts (rowid, scope, text) VALUES (new.id, 'r' || lower(hex(new.repository)), new.text);
END;

-- A webhook delivery is recorded once its projects' starts are queued.
ALTER TABLE webhook_deliveries ADD COLUMN projects INTEGER NOT NULL DEFAULT 0;

-- Fan-out messages that ran out of retries (the dead-letter queue's consumer keeps them).
CREATE TABLE dead_letters (
  id           TEXT PRIMARY KEY,
  queue        TEXT NOT NULL,
  body         TEXT NOT NULL,
  received_at  TEXT NOT NULL
);

-- Faults armed by the end-to-end tests (honoured only with FAULT_INJECTION = "true").
CREATE TABLE test_faults (
  point      TEXT PRIMARY KEY,
  remaining  INTEGER NOT NULL CHECK (remaining >= 0)
);
