// Expectations from git: what the API must answer for a repository's commits (files,
// counts, changes, branches), and the shapes of the contract's objects.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { STATUS_ORDER, TERMINAL } from './client.mjs';

export function byteCompare(a, b) {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function kindOfMode(mode) {
  if (mode === '120000') return 'symlink';
  if (mode === '160000') return 'submodule';
  return 'file';
}

/** The files a sync of `ref` must hold: [{path, mode, kind, sha, size}] sorted by path bytes. */
export function expectedFiles(repo, ref) {
  return repo
    .lsTree(ref)
    .map((e) => ({ path: e.path, mode: e.mode, kind: kindOfMode(e.mode), sha: e.sha, size: e.mode === '160000' ? null : e.size }))
    .sort((a, b) => byteCompare(a.path, b.path));
}

/** API file rows reduced to the fields git can check. */
export function fileShape(files) {
  return files.map((f) => ({ path: f.path, mode: f.mode, kind: f.kind, sha: f.sha, size: f.size }));
}

/** Counts a sync from commit a to commit b must report, from `git diff --name-status -M`. */
export function expectedCounts(repo, a, b) {
  const counts = { added: 0, modified: 0, removed: 0, unchanged: 0, renamed: 0 };
  const diff = repo.diffNameStatus(a, b);
  for (const d of diff) {
    if (d.status === 'A') counts.added++;
    else if (d.status === 'M' || d.status === 'T') counts.modified++;
    else if (d.status === 'D') counts.removed++;
    else if (d.status === 'R') counts.renamed++;
    else throw new Error(`unexpected diff status ${d.status} for ${d.path}`);
  }
  const before = new Map(repo.lsTree(a).map((e) => [e.path, e]));
  for (const e of repo.lsTree(b)) {
    const o = before.get(e.path);
    if (o && o.sha === e.sha && o.mode === e.mode) counts.unchanged++;
  }
  return { counts, diff };
}

/** The change list a sync from a to b must report: [{path, change, previousPath?, sha, previousSha?}]. */
export function expectedChanges(repo, a, b) {
  const before = new Map(repo.lsTree(a).map((e) => [e.path, e]));
  const after = new Map(repo.lsTree(b).map((e) => [e.path, e]));
  const names = { A: 'added', M: 'modified', T: 'modified', D: 'removed', R: 'renamed' };
  return repo
    .diffNameStatus(a, b)
    .map((d) => {
      const change = names[d.status];
      if (d.status === 'D') return { path: d.path, change, sha: before.get(d.path).sha, previousSha: before.get(d.path).sha };
      if (d.status === 'A') return { path: d.path, change, sha: after.get(d.path).sha };
      if (d.status === 'R') {
        // git's score of the pair (`R087`: 87), as the API must give it.
        return { path: d.path, change, previousPath: d.previousPath, sha: after.get(d.path).sha, previousSha: before.get(d.previousPath).sha, similarity: d.score };
      }
      return { path: d.path, change, sha: after.get(d.path).sha, previousSha: before.get(d.path).sha };
    })
    .sort((x, y) => byteCompare(x.path, y.path));
}

/** `git for-each-ref refs/heads` -> [{name, commitSha}] sorted by name bytes. */
export function gitBranches(repo) {
  const out = repo.git(['for-each-ref', '--format=%(refname:strip=2)%00%(objectname)', 'refs/heads']);
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [name, commitSha] = l.split('\0');
      return { name, commitSha };
    })
    .sort((a, b) => byteCompare(a.name, b.name));
}

/** GitHub's push webhook signature header value for `raw` (a string or Buffer). */
export function signWebhook(secret, raw) {
  return `sha256=${crypto.createHmac('sha256', secret).update(raw).digest('hex')}`;
}

export const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Check a project object's fields and types; never a stored token. */
export function assertProjectShape(p) {
  const ctx = JSON.stringify(p);
  for (const k of ['id', 'name', 'repository', 'branch', 'createdAt']) assert.equal(typeof p[k], 'string', `project.${k}: ${ctx}`);
  assert.equal(typeof p.tracked, 'boolean', `project.tracked: ${ctx}`);
  for (const k of ['currentSyncId', 'currentCommitSha']) {
    assert.ok(p[k] === null || typeof p[k] === 'string', `project.${k}: ${ctx}`);
  }
  assert.match(p.createdAt, RFC3339_UTC, `project.createdAt: ${ctx}`);
  assert.ok(!('githubToken' in p), `project never returns githubToken: ${ctx}`);
  assertFilterShape(p, 'project', ctx);
}

/** `include` and `exclude`: arrays of pattern strings. */
function assertFilterShape(o, what, ctx) {
  for (const k of ['include', 'exclude']) {
    assert.ok(Array.isArray(o[k]) && o[k].every((x) => typeof x === 'string'), `${what}.${k}: ${ctx}`);
  }
}

/** Check a sync object's fields and types. */
export function assertSyncShape(s) {
  const ctx = JSON.stringify(s);
  for (const k of ['id', 'projectId', 'branch', 'status', 'message', 'startedAt']) assert.equal(typeof s[k], 'string', `sync.${k}: ${ctx}`);
  assert.ok(['sync', 'restore'].includes(s.kind), `sync.kind: ${ctx}`);
  assert.ok(['api', 'cron', 'webhook'].includes(s.trigger), `sync.trigger: ${ctx}`);
  assert.ok(STATUS_ORDER.includes(s.status), `sync.status: ${ctx}`);
  assert.ok(Number.isInteger(s.progress) && s.progress >= 0 && s.progress <= 100, `sync.progress: ${ctx}`);
  for (const k of ['commitSha', 'previousSyncId', 'restoredFromSyncId', 'error', 'completedAt']) {
    assert.ok(k in s && (s[k] === null || typeof s[k] === 'string'), `sync.${k}: ${ctx}`);
  }
  for (const k of ['added', 'modified', 'removed', 'unchanged', 'renamed']) assert.ok(Number.isInteger(s.counts?.[k]), `sync.counts.${k}: ${ctx}`);
  for (const k of ['githubRequests', 'githubNotModified', 'd1RowsWritten', 'bytesDownloaded', 'durationMs']) {
    assert.ok(Number.isInteger(s.stats?.[k]), `sync.stats.${k}: ${ctx}`);
  }
  assertFilterShape(s, 'sync', ctx);
  assert.equal(typeof s.dryRun, 'boolean', `sync.dryRun: ${ctx}`);
  assert.equal(typeof s.renameLimitExceeded, 'boolean', `sync.renameLimitExceeded: ${ctx}`);
  assert.match(s.startedAt, RFC3339_UTC, `sync.startedAt: ${ctx}`);
  if (s.completedAt !== null) assert.match(s.completedAt, RFC3339_UTC, `sync.completedAt: ${ctx}`);
  if (TERMINAL.includes(s.status)) assert.notEqual(s.completedAt, null, `a finished sync has completedAt: ${ctx}`);
}

export const ZERO_COUNTS = Object.freeze({ added: 0, modified: 0, removed: 0, unchanged: 0, renamed: 0 });

/**
 * Compare GET /syncs/{id}/changes rows with expectedChanges: same paths in path order, same
 * change kinds, previousPath and git's similarity on renames (and no similarity on anything
 * else), `sha` = the new version (the removed version for a removal), and previousSha, when
 * given, = the version before.
 */
export function assertChanges(rows, expected) {
  const key = (r) => [r.path, r.change, r.change === 'renamed' ? r.previousPath : null, r.similarity ?? null];
  assert.deepEqual(rows.map(key), expected.map(key), `changes: paths, kinds and previous paths; got ${JSON.stringify(rows)}`);
  rows.forEach((r, i) => {
    const e = expected[i];
    assert.equal(r.sha, e.sha, `changes: sha of ${r.path} (${r.change})`);
    if (r.previousSha !== undefined && r.previousSha !== null) assert.equal(r.previousSha, e.previousSha, `changes: previousSha of ${r.path}`);
    if (r.change === 'modified' || r.change === 'renamed') {
      assert.ok(r.previousSha === undefined || r.previousSha === null || typeof r.previousSha === 'string');
    }
  });
}
