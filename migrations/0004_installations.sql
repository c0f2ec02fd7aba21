-- GitHub App installations (issue 12). These tables live in the home database; a project
-- (in whichever database holds it) names its installation by id.

-- What we know of an installation, and its one cached installation token (AES-GCM
-- ciphertext, like project tokens; shared by every project of the installation).
CREATE TABLE installations (
  installation_id       INTEGER PRIMARY KEY CHECK (installation_id > 0),
  account               TEXT NOT NULL,
  repository_selection  TEXT NOT NULL CHECK (repository_selection IN ('all', 'selected')),
  -- 'suspended' and 'deleted' come from GitHub's `installation` webhook; either stops syncs.
  state                 TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'suspended', 'deleted')),
  token_enc             TEXT,
  token_expires_ms      INTEGER,
  updated_at            TEXT NOT NULL
);

-- Which users may connect projects through an installation (an admin grants it).
CREATE TABLE installation_grants (
  installation_id  INTEGER NOT NULL REFERENCES installations(installation_id) ON DELETE CASCADE,
  user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at       TEXT NOT NULL,
  PRIMARY KEY (user_id, installation_id)
);

ALTER TABLE projects ADD COLUMN installation_id INTEGER;
CREATE INDEX projects_installation ON projects (installation_id) WHERE installation_id IS NOT NULL;
