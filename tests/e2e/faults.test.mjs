// GitHub misbehaving: transient 503s, a dropped connection, a secondary rate limit with
// Retry-After, and an exhausted primary limit. Each ends in a correct sync, or in a clean
// failure that leaves the visible state exactly as it was.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, worldTest, createRepo, assertError, expectedFiles, fileShape } from '../support/harness.mjs';

let world;
let repo;
let alice;
let project;
let lastGood; // { syncId, commit }

const test = worldTest(() => world);

before(async () => {
  world = await startWorld();
  repo = createRepo(world.root, 'acme', 'faulty');
  repo.write('README.md', '# faulty\n');
  repo.write('src/lib.rs', 'pub fn one() {}\n');
  const c1 = repo.commit('c1');
  alice = await world.createUser('alice');
  project = await alice.createProject({ name: 'Faulty', repository: 'acme/faulty' });
  const first = await alice.syncAndWait(project.id);
  lastGood = { syncId: first.sync.id, commit: c1 };
});

after(async () => {
  await world?.stop();
});

/** A new commit, then a sync under the given faults; returns the finished sync and commit. */
async function syncUnder(faults, change) {
  repo.write(`src/${change}.rs`, `// ${change}\npub fn ${change}() {}\n`);
  const commit = repo.commit(change);
  world.emulator.clearFaults();
  for (const f of faults) world.emulator.injectFault(f);
  try {
    const { sync } = await alice.startSync(project.id);
    const done = await alice.waitSync(sync.id, { timeoutMs: 90_000 });
    return { done, commit };
  } finally {
    world.emulator.clearFaults();
  }
}

async function assertState(commit, currentSyncId) {
  const files = await alice.files(project.id);
  assert.deepEqual(fileShape(files), expectedFiles(repo, commit));
  const p = await alice.getJson(`/api/v1/projects/${project.id}`);
  assert.equal(p.currentSyncId, currentSyncId);
  assert.equal(p.currentCommitSha, commit);
}

async function assertCompleted(done, commit) {
  assert.equal(done.status, 'COMPLETE', JSON.stringify(done));
  assert.equal(done.previousSyncId, lastGood.syncId);
  await assertState(commit, done.id);
  lastGood = { syncId: done.id, commit };
}

test('transient 503s on the tree and blob routes are retried: the sync completes', async () => {
  const before = world.emulator.stats().total;
  const { done, commit } = await syncUnder(
    [
      { route: 'tree', kind: 'status', status: 503, times: 2 },
      { route: 'blob', kind: 'status', status: 502, times: 1 },
    ],
    'after503',
  );
  await assertCompleted(done, commit);
  assert.ok(world.emulator.stats().total - before >= 5, 'the failed attempts were made and retried');
});

test('a dropped connection is retried: the sync completes', async () => {
  const { done, commit } = await syncUnder([{ route: 'ref', kind: 'drop', times: 1 }], 'afterdrop');
  await assertCompleted(done, commit);
});

test('a secondary rate limit with Retry-After is waited out: the sync completes', async () => {
  const t0 = Date.now();
  const { done, commit } = await syncUnder([{ route: 'tree', kind: 'secondaryRateLimit', retryAfter: 2, times: 1 }], 'aftersecondary');
  await assertCompleted(done, commit);
  assert.ok(Date.now() - t0 >= 2000, 'the worker waited for Retry-After');
});

test('an exhausted primary limit that resets in an hour fails the sync cleanly, state unchanged', async () => {
  const before = lastGood;
  const { done } = await syncUnder([{ route: '*', kind: 'primaryRateLimit', resetIn: 3600, times: -1 }], 'afterprimary');
  assert.equal(done.status, 'FAILED', JSON.stringify(done));
  assert.match(done.error, /rate limit/i);
  assert.equal(done.previousSyncId, null);
  await assertState(before.commit, before.syncId);

  // The API says 429 with retryAfter while the limit holds.
  world.emulator.injectFault({ route: '*', kind: 'primaryRateLimit', resetIn: 3600, times: -1 });
  try {
    const res = await alice.get(`/api/v1/projects/${project.id}/branches`);
    assertError(res, 429, 'rate_limited');
    assert.ok(res.json.error.retryAfter > 3000, JSON.stringify(res.json));
    assert.ok(Number(res.headers.get('retry-after')) > 3000);
  } finally {
    world.emulator.clearFaults();
  }

  // Once GitHub answers again, the next sync picks up from the last good state.
  const next = await alice.syncAndWait(project.id);
  assert.equal(next.done.previousSyncId, before.syncId);
  await assertState(repo.headSha('main'), next.done.id);
  lastGood = { syncId: next.done.id, commit: repo.headSha('main') };
});

test('GitHub failing for good (503 on every request) fails the sync cleanly, state unchanged', async () => {
  const before = lastGood;
  const { done } = await syncUnder([{ route: '*', kind: 'status', status: 503, times: -1 }], 'afterdown');
  assert.equal(done.status, 'FAILED', JSON.stringify(done));
  assert.match(done.error, /unavailable|503/i);
  await assertState(before.commit, before.syncId);
});
