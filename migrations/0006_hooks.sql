-- Outgoing notifications (issue 10). Hooks and their deliveries live in the project's
-- database, next to the syncs they report.

CREATE TABLE hooks (
  id          TEXT PRIMARY KEY,
  project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  url         TEXT NOT NULL,
  -- AES-GCM ciphertext of the signing secret (never returned); NULL: unsigned deliveries.
  secret_enc  TEXT,
  -- JSON array of event names, e.g. ["sync.completed", "sync.failed"].
  events      TEXT NOT NULL,
  created_at  TEXT NOT NULL
);
CREATE INDEX hooks_by_project ON hooks (project_id, created_at, id);

-- One delivery per hook and ended sync (a replayed end creates none). The body is made
-- once, so every attempt sends and signs the same bytes.
CREATE TABLE hook_deliveries (
  id                TEXT PRIMARY KEY,
  hook_id           TEXT NOT NULL REFERENCES hooks(id) ON DELETE CASCADE,
  sync_id           TEXT NOT NULL REFERENCES syncs(id) ON DELETE CASCADE,
  event             TEXT NOT NULL CHECK (event IN ('sync.completed', 'sync.failed', 'sync.cancelled')),
  status            TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts          INTEGER NOT NULL DEFAULT 0,
  last_status_code  INTEGER,
  last_error        TEXT,
  body              TEXT NOT NULL,
  created_at        TEXT NOT NULL,
  delivered_at      TEXT,
  -- The queue message that attempts it: a duplicate message (a replayed announcement) finds
  -- it claimed and stops, so one chain of attempts keeps the retry schedule.
  owner             TEXT,
  UNIQUE (hook_id, sync_id)
);
CREATE INDEX hook_deliveries_by_hook ON hook_deliveries (hook_id, created_at DESC, id DESC);
