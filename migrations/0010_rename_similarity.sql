-- Renames with edits (issue 22): a rename carries git's similarity score, and a sync says
-- whether git's rename limit stopped the search for renames with edits.

-- A renamed version's similarity to the path it came from, 0 to 100 (100: the same blob);
-- NULL for every version that is no rename. Every rename before this was exact.
ALTER TABLE file_versions ADD COLUMN similarity INTEGER CHECK (similarity BETWEEN 0 AND 100);
UPDATE file_versions SET similarity = 100 WHERE previous_path IS NOT NULL;

-- The same for what a dry run found.
ALTER TABLE dry_run_changes ADD COLUMN similarity INTEGER CHECK (similarity BETWEEN 0 AND 100);
UPDATE dry_run_changes SET similarity = 100 WHERE change = 'renamed';

-- The rename limit stopped the similarity matrix (too many added × removed candidates, as
-- git's diff.renameLimit): renames with edits beyond exact ones and unique basenames were
-- not looked for. 0 for every sync before this (they looked for exact renames only).
ALTER TABLE syncs ADD COLUMN renames_limited INTEGER NOT NULL DEFAULT 0 CHECK (renames_limited IN (0, 1));
