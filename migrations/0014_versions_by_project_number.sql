-- Versions keyed by a project's number (issue 23, storage).
--
-- Every version row and every entry of its indexes began with the project's 36-byte id:
-- ~100 bytes a held file in the row, the one-head and the blob-id index. A project now has
-- a number, local to its database (`projects.no`, given by the trigger below whatever
-- inserts the row), and versions are keyed by it. Statements still name the project by
-- id and look its number up by it (`shell::adapters::d1::PROJECT_NO`).
--
-- A number freed by a deleted project may be given again; nothing of the deleted project
-- keeps it (its versions go with it, `ON DELETE CASCADE`).
PRAGMA defer_foreign_keys = true;

ALTER TABLE projects ADD COLUMN no INTEGER;
UPDATE projects SET no = rowid;
CREATE UNIQUE INDEX projects_by_no ON projects (no);
CREATE TRIGGER projects_number AFTER INSERT ON projects WHEN NEW.no IS NULL BEGIN
  UPDATE projects SET no = (SELECT coalesce(max(no), 0) + 1 FROM projects) WHERE id = NEW.id;
END;

CREATE TABLE file_versions_v14 (
  project_no             INTEGER NOT NULL REFERENCES projects(no) ON DELETE CASCADE,
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
  PRIMARY KEY (project_no, path, introduced_seq),
  CHECK (superseded_seq IS NULL OR superseded_seq > introduced_seq)
) WITHOUT ROWID;
INSERT INTO file_versions_v14 (project_no, path, introduced_seq, mode, kind, sha, size, introduced_sync_id, superseded_seq,
  superseded_by_sync_id, previous_path, content_skipped, similarity)
SELECT p.no, f.path, f.introduced_seq, f.mode, f.kind, f.sha, f.size, f.introduced_sync_id, f.superseded_seq,
  f.superseded_by_sync_id, f.previous_path, f.content_skipped, f.similarity
FROM file_versions f JOIN projects p ON p.id = f.project_id;
DROP TABLE file_versions;
ALTER TABLE file_versions_v14 RENAME TO file_versions;
CREATE UNIQUE INDEX file_versions_one_head ON file_versions (project_no, path) WHERE superseded_seq IS NULL;
CREATE INDEX file_versions_introduced ON file_versions (project_no, introduced_seq) WHERE introduced_seq > 1;
CREATE INDEX file_versions_superseded ON file_versions (project_no, superseded_seq) WHERE superseded_seq IS NOT NULL;
CREATE INDEX file_versions_by_sha ON file_versions (project_no, sha);
CREATE INDEX file_versions_renamed_from ON file_versions (project_no, introduced_seq, previous_path)
  WHERE previous_path IS NOT NULL;

CREATE TABLE dir_versions_v14 (
  project_no             INTEGER NOT NULL REFERENCES projects(no) ON DELETE CASCADE,
  path                   TEXT NOT NULL,       -- '' is the root
  introduced_seq         INTEGER NOT NULL,
  sha                    TEXT NOT NULL,
  superseded_seq         INTEGER,
  PRIMARY KEY (project_no, path, introduced_seq),
  CHECK (superseded_seq IS NULL OR superseded_seq > introduced_seq)
) WITHOUT ROWID;
INSERT INTO dir_versions_v14 (project_no, path, introduced_seq, sha, superseded_seq)
SELECT p.no, d.path, d.introduced_seq, d.sha, d.superseded_seq FROM dir_versions d JOIN projects p ON p.id = d.project_id;
DROP TABLE dir_versions;
ALTER TABLE dir_versions_v14 RENAME TO dir_versions;
CREATE UNIQUE INDEX dir_versions_one_head ON dir_versions (project_no, path) WHERE superseded_seq IS NULL;
