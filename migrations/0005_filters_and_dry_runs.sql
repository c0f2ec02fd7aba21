-- Path filters and dry runs (issue 11).

-- A project's filter, as JSON: {"include": [pattern], "exclude": [pattern]}; '{}' holds
-- every path.
ALTER TABLE projects ADD COLUMN path_filter TEXT NOT NULL DEFAULT '{}';

-- The filter that made a sync's state (a restore: the restored sync's; a dry run: the one it
-- previewed). Every sync before filters held every path: '{}'.
ALTER TABLE syncs ADD COLUMN path_filter TEXT NOT NULL DEFAULT '{}';

-- A dry run ends COMPLETE outside the chain. The first migration's CHECK ties COMPLETE to a
-- seq, so a dry run takes a negative one (the project's lowest, minus one): chain positions
-- are positive, every chain query asks for seq > 0 or one it read from a project, and rows
-- are read with a dry run's seq as NULL.
ALTER TABLE syncs ADD COLUMN dry_run INTEGER NOT NULL DEFAULT 0 CHECK (dry_run IN (0, 1));

-- What a dry run found: its /changes, and nothing else it ever writes. `reason` is
-- 'filtered' for what the previewed filter takes away or brings in.
CREATE TABLE dry_run_changes (
  sync_id        TEXT NOT NULL REFERENCES syncs(id) ON DELETE CASCADE,
  path           TEXT NOT NULL,
  change         TEXT NOT NULL CHECK (change IN ('added', 'modified', 'removed', 'renamed')),
  previous_path  TEXT,
  sha            TEXT NOT NULL CHECK (length(sha) = 40),
  previous_sha   TEXT,
  reason         TEXT CHECK (reason IS NULL OR reason = 'filtered'),
  PRIMARY KEY (sync_id, path)
) WITHOUT ROWID;
