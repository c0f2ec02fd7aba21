-- Lifecycle (issue 19): where each project lives, bounded retention, and the text of deleted
-- projects swept away.

-- Where each project lives: project id -> the D1 binding that holds it. Read and written in
-- the home database only (the first of PROJECT_DATABASES; the table exists in every database
-- because they share this migrations folder). A project created before this table has no
-- row: it is looked for in every database and its row written when found
-- (`placement::Lookup::Probe`).
CREATE TABLE project_directory (
  project_id  TEXT PRIMARY KEY,
  binding     TEXT NOT NULL,
  created_at  TEXT NOT NULL
) WITHOUT ROWID;

-- Dry runs keep the changes of a project's 20 newest only. 'kept': readable; 'expired': an
-- older dry run's (its /changes answers 404), rows not yet deleted; 'deleted': none left.
-- Expired when a newer dry run is queued; the cron tick deletes the rows in bounded batches.
ALTER TABLE syncs ADD COLUMN changes_retention TEXT NOT NULL DEFAULT 'kept'
  CHECK (changes_retention IN ('kept', 'expired', 'deleted'));
CREATE INDEX syncs_dry_runs ON syncs (project_id, started_at, id) WHERE dry_run = 1;
CREATE INDEX syncs_dry_runs_kept ON syncs (project_id) WHERE dry_run = 1 AND changes_retention = 'kept';
CREATE INDEX syncs_dry_runs_expired ON syncs (id) WHERE changes_retention = 'expired';
-- The dry runs already past their project's 20 newest expire now.
UPDATE syncs SET changes_retention = 'expired'
WHERE dry_run = 1 AND id NOT IN (
  SELECT n.id FROM syncs n WHERE n.project_id = syncs.project_id AND n.dry_run = 1
  ORDER BY n.started_at DESC, n.id DESC LIMIT 20);

-- Hook deliveries past their age are deleted by the cron tick, oldest first.
CREATE INDEX hook_deliveries_by_age ON hook_deliveries (created_at);

-- Repositories whose content rows must be checked for rows no project references any more
-- (a project of theirs was deleted). The cron tick walks each in sha order from `after_sha`,
-- a bounded page at a time; a new deletion on the same repository starts the walk again.
CREATE TABLE content_sweeps (
  repository    TEXT PRIMARY KEY,            -- lower-cased owner/repo, as blob_contents has it
  after_sha     TEXT NOT NULL DEFAULT '',
  requested_at  TEXT NOT NULL
) WITHOUT ROWID;
-- Which projects are on a repository (is a blob still referenced?); which rows point into a
-- pack (may the pack go?).
CREATE INDEX projects_by_repository ON projects (repository COLLATE NOCASE);
CREATE INDEX blob_contents_by_pack ON blob_contents (pack) WHERE pack IS NOT NULL;
