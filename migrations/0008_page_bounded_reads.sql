-- Pages that read in proportion to the page (issue 19): a path's history newest first, and
-- whether a superseded path is the source of one of its sync's renames, each through an
-- index instead of every version of the path or every row of the sync.

-- A path's superseded versions by chain position (its head is `file_versions_one_head`).
-- Partial: a path that never changed costs nothing here.
CREATE INDEX file_versions_history ON file_versions (project_id, path, introduced_seq) WHERE superseded_seq IS NOT NULL;

-- The paths a sync renamed away from (`/syncs/{id}/changes` leaves them out of its removals).
CREATE INDEX file_versions_renamed_from ON file_versions (introduced_sync_id, previous_path) WHERE previous_path IS NOT NULL;
