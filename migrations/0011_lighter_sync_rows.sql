-- Fewer D1 rows for a sync's own record (issue 23). Every step of a running sync writes its
-- row (progress, and `updated_at` for the reaper), and `syncs_running`, keyed by
-- `updated_at`, made each of those writes an index write as well. The reaper's scan of the
-- running rows goes through `syncs_one_running_per_project` instead: it holds exactly the
-- running rows (at most one a project), and none of its keys change while a sync runs.
DROP INDEX syncs_running;
