// Sync lifecycle: 409 while running, cancel (running and finished), GitHub failing, the
// chain skipping failed/cancelled syncs, restore without GitHub, files?at=, files/history,
// and a force push of unrelated history. The tests run in order and build on each other.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startWorld,
  worldTest,
  createRepo,
  assertError,
  assertEventStream,
  assertSyncShape,
  expectedFiles,
  expectedCounts,
  fileShape,
  sleep,
  TERMINAL,
} from '../support/harness.mjs';

let world;
let repo;
let alice;
let project;
const s = {};
const c = {}; // commits

const test = worldTest(() => world);

before(async () => {
  world = await startWorld();
  repo = createRepo(world.root, 'acme', 'life');
  repo.write('README.md', '# life\n');
  repo.write('a.txt', 'alpha version one\n');
  repo.write('b.txt', 'bravo version one\n');
  repo.write('c.txt', 'charlie, removed later\n');
  repo.write('dir/nested/deep.txt', 'deep inside\n');
  repo.write('tools/run.sh', '#!/bin/sh\necho run\n', { mode: 0o755 });
  repo.symlink('readme-link', 'README.md');
  c.c1 = repo.commit('c1');
  alice = await world.createUser('alice');
  project = await alice.createProject({ name: 'Life', repository: 'acme/life' });
  const first = await alice.syncAndWait(project.id);
  s.s1 = first.sync.id;
  assert.equal(first.done.commitSha, c.c1);
});

after(async () => {
  await world?.stop();
});

const projectNow = () => alice.getJson(`/api/v1/projects/${project.id}`);

test('a second start while a sync runs is 409 conflict naming the running sync', async () => {
  repo.write('a.txt', 'alpha version two\n');
  repo.write('d.txt', 'delta, new in c2\n');
  c.c2 = repo.commit('c2');
  world.emulator.injectFault({ kind: 'delay', route: 'tree', ms: 4000, times: 1 });
  try {
    const { sync } = await alice.startSync(project.id);
    s.s2 = sync.id;
    const again = await alice.post(`/api/v1/projects/${project.id}/syncs`, {});
    assertError(again, 409, 'conflict', 'second start');
    assert.ok(again.json.sync, `the body carries the running sync: ${again.text}`);
    assertSyncShape(again.json.sync);
    assert.equal(again.json.sync.id, sync.id);
    assert.ok(!TERMINAL.includes(again.json.sync.status));
    const restore = await alice.post(`/api/v1/projects/${project.id}/restore`, { syncId: s.s1 });
    assertError(restore, 409, 'conflict', 'restore while a sync runs');
    assert.equal(restore.json.sync?.id, sync.id);
    const done = await alice.waitSync(sync.id);
    assert.equal(done.status, 'COMPLETE');
    assert.equal(done.previousSyncId, s.s1);
    assert.equal(done.commitSha, c.c2);
    assert.deepEqual(fileShape(await alice.files(project.id)), expectedFiles(repo, c.c2));
    // Only one sync was recorded for the two starts.
    const hist = await alice.listAll(`/api/v1/projects/${project.id}/syncs`);
    assert.deepEqual(hist.map((h) => h.id), [s.s2, s.s1]);
  } finally {
    world.emulator.clearFaults();
  }
});

test('cancelling a running sync: 202, the stream ends cancelled, files exactly as before', async () => {
  const before = await alice.files(project.id);
  repo.write('b.txt', 'bravo version two\n');
  repo.remove('c.txt');
  repo.write('e.txt', 'echo, new in c3\n');
  c.c3 = repo.commit('c3');
  world.emulator.injectFault({ kind: 'delay', route: 'tree', ms: 4000, times: 1 });
  try {
    const { sync, eventsUrl } = await alice.startSync(project.id);
    s.s3 = sync.id;
    // Cancel once the sync is fetching (the slowed tree request is then in flight).
    let fetching;
    const seen = new Promise((r) => (fetching = r));
    const reading = world.readEvents(eventsUrl, { onEvent: (e) => e.data?.status === 'FETCHING' && fetching() });
    await Promise.race([seen, reading]);
    await sleep(500);
    const mid = await alice.getJson(`/api/v1/syncs/${sync.id}`);
    assert.ok(!TERMINAL.includes(mid.status), `still running before the cancel: ${mid.status}`);
    const res = await alice.post(`/api/v1/syncs/${sync.id}/cancel`, {});
    assert.equal(res.status, 202, res.text);
    const stream = await reading;
    const last = assertEventStream(stream, { syncId: sync.id, terminal: 'cancelled' });
    assert.equal(last.data.status, 'CANCELLED');
    const done = await alice.getJson(`/api/v1/syncs/${sync.id}`);
    assertSyncShape(done);
    assert.equal(done.status, 'CANCELLED');
    assert.notEqual(done.completedAt, null);
    assert.deepEqual(await alice.files(project.id), before, 'files unchanged, syncIds included');
    const p = await projectNow();
    assert.equal(p.currentSyncId, s.s2);
    assert.equal(p.currentCommitSha, c.c2);
    assert.deepEqual(await alice.listAll(`/api/v1/syncs/${sync.id}/changes`), [], 'a cancelled sync changed nothing');
  } finally {
    world.emulator.clearFaults();
  }
});

test('cancelling a finished sync is 409 conflict', async () => {
  assertError(await alice.post(`/api/v1/syncs/${s.s2}/cancel`, {}), 409, 'conflict', 'cancel COMPLETE');
  assertError(await alice.post(`/api/v1/syncs/${s.s3}/cancel`, {}), 409, 'conflict', 'cancel CANCELLED');
  assertError(await alice.post('/api/v1/syncs/00000000-0000-0000-0000-000000000000/cancel', {}), 404, 'not_found', 'cancel unknown');
});

test('GitHub failing (503 on every tree request) ends the sync failed and changes nothing', async () => {
  const before = await alice.files(project.id);
  world.emulator.injectFault({ kind: 'status', status: 503, route: 'tree', times: -1 });
  try {
    const { sync, eventsUrl } = await alice.startSync(project.id);
    s.s4 = sync.id;
    const stream = await world.readEvents(eventsUrl);
    const last = assertEventStream(stream, { syncId: sync.id, terminal: 'failed' });
    assert.equal(last.data.status, 'FAILED');
    const done = await alice.getJson(`/api/v1/syncs/${sync.id}`);
    assertSyncShape(done);
    assert.equal(done.status, 'FAILED');
    assert.equal(typeof done.error, 'string');
    assert.ok(done.error.length > 0, 'error says why');
    assert.ok(done.stats.githubRequests >= 2, `the failing requests are counted: ${done.stats.githubRequests}`);
    assert.ok(world.emulator.stats().log.some((e) => e.route === 'tree' && e.status === 503), 'the emulator answered 503');
    assert.deepEqual(await alice.files(project.id), before);
    const p = await projectNow();
    assert.equal(p.currentSyncId, s.s2);
    assert.equal(p.currentCommitSha, c.c2);
  } finally {
    world.emulator.clearFaults();
  }
  // With GitHub healthy again the next sync succeeds and links to the last COMPLETE one.
  const { sync, done } = await alice.syncAndWait(project.id);
  s.s5 = sync.id;
  assert.equal(done.previousSyncId, s.s2, 'previousSyncId skips the cancelled and failed syncs');
  assert.equal(done.commitSha, c.c3);
  assert.deepEqual(done.counts, expectedCounts(repo, c.c2, c.c3).counts);
  assert.deepEqual(fileShape(await alice.files(project.id)), expectedFiles(repo, c.c3));
  const p = await projectNow();
  assert.equal(p.currentSyncId, s.s5);
  assert.equal(p.currentCommitSha, c.c3);
  const hist = await alice.listAll(`/api/v1/projects/${project.id}/syncs`);
  assert.deepEqual(hist.map((h) => [h.id, h.status]), [
    [s.s5, 'COMPLETE'],
    [s.s4, 'FAILED'],
    [s.s3, 'CANCELLED'],
    [s.s2, 'COMPLETE'],
    [s.s1, 'COMPLETE'],
  ]);
});

test('files/history?path= lists every version newest first with supersededBySyncId', async () => {
  const sha = (ref, p) => repo.lsTree(ref).find((e) => e.path === p).sha;
  const hist = (p) => alice.listAll(`/api/v1/projects/${project.id}/files/history?path=${encodeURIComponent(p)}`, { limit: 1 });
  const pick = (rows) => rows.map((r) => ({ path: r.path, sha: r.sha, syncId: r.syncId, supersededBySyncId: r.supersededBySyncId }));

  assert.deepEqual(pick(await hist('a.txt')), [
    { path: 'a.txt', sha: sha(c.c2, 'a.txt'), syncId: s.s2, supersededBySyncId: null },
    { path: 'a.txt', sha: sha(c.c1, 'a.txt'), syncId: s.s1, supersededBySyncId: s.s2 },
  ]);
  assert.deepEqual(pick(await hist('b.txt')), [
    { path: 'b.txt', sha: sha(c.c3, 'b.txt'), syncId: s.s5, supersededBySyncId: null },
    { path: 'b.txt', sha: sha(c.c1, 'b.txt'), syncId: s.s1, supersededBySyncId: s.s5 },
  ]);
  assert.deepEqual(pick(await hist('c.txt')), [
    { path: 'c.txt', sha: sha(c.c1, 'c.txt'), syncId: s.s1, supersededBySyncId: s.s5 },
  ], 'a removed path keeps its history, superseded by the sync that removed it');
  assert.deepEqual(pick(await hist('README.md')), [
    { path: 'README.md', sha: sha(c.c1, 'README.md'), syncId: s.s1, supersededBySyncId: null },
  ]);
  assert.deepEqual(await hist('never/existed.txt'), []);
  for (const r of await hist('a.txt')) {
    assert.equal(r.mode, '100644');
    assert.equal(r.kind, 'file');
    assert.ok(Number.isInteger(r.size));
  }
  assertError(await alice.get(`/api/v1/projects/${project.id}/files/history`), 400, 'invalid_request', 'history without path');
});

test('restore of the first sync: 202, kind restore, files = first commit, zero GitHub requests', async () => {
  assertError(await alice.post(`/api/v1/projects/${project.id}/restore`, {}), 400, 'invalid_request', 'restore without syncId');
  assertError(await alice.post(`/api/v1/projects/${project.id}/restore`, { syncId: '00000000-0000-0000-0000-000000000000' }), 404, 'not_found', 'restore of an unknown sync');

  const before = world.emulator.stats().total;
  const res = await alice.post(`/api/v1/projects/${project.id}/restore`, { syncId: s.s1 });
  assert.equal(res.status, 202, res.text);
  const { sync, eventsUrl } = res.json;
  assertSyncShape(sync);
  assert.equal(sync.kind, 'restore');
  assert.equal(sync.restoredFromSyncId, s.s1);
  assert.ok(eventsUrl.startsWith(`/api/v1/events/project-sync/${sync.id}?access_token=`));
  s.r = sync.id;
  const stream = await world.readEvents(eventsUrl);
  const last = assertEventStream(stream, { syncId: sync.id, terminal: 'complete' });
  const done = await alice.getJson(`/api/v1/syncs/${sync.id}`);
  assertSyncShape(done);
  assert.equal(done.status, 'COMPLETE');
  assert.equal(done.kind, 'restore');
  assert.equal(done.restoredFromSyncId, s.s1);
  assert.equal(done.previousSyncId, s.s5);
  assert.deepEqual(done.counts, last.data.counts);
  assert.deepEqual(done.counts, expectedCounts(repo, c.c3, c.c1).counts);
  assert.equal(world.emulator.stats().total - before, 0, 'a restore makes no GitHub request');
  assert.equal(done.stats.githubRequests, 0);

  assert.deepEqual(fileShape(await alice.files(project.id)), expectedFiles(repo, c.c1));
  const p = await projectNow();
  assert.equal(p.currentSyncId, s.r);
  // The restored version of a.txt is active again and the c2 version is superseded by the restore.
  const aHist = await alice.listAll(`/api/v1/projects/${project.id}/files/history?path=a.txt`);
  const a1 = repo.lsTree(c.c1).find((e) => e.path === 'a.txt').sha;
  const a2 = repo.lsTree(c.c2).find((e) => e.path === 'a.txt').sha;
  assert.equal(aHist[0].sha, a1, 'newest version of a.txt is the restored one');
  assert.equal(aHist[0].supersededBySyncId, null);
  assert.equal(aHist.find((v) => v.sha === a2)?.supersededBySyncId, s.r);
  const cHist = await alice.listAll(`/api/v1/projects/${project.id}/files/history?path=c.txt`);
  assert.equal(cHist[0].supersededBySyncId, null, 'c.txt is active again after the restore');
});

test('files?at=<sync> reproduces the state right after each earlier sync', async () => {
  const at = async (id) => fileShape(await alice.files(project.id, { at: id, limit: 3 }));
  assert.deepEqual(await at(s.s1), expectedFiles(repo, c.c1), 'at the first sync');
  assert.deepEqual(await at(s.s2), expectedFiles(repo, c.c2), 'at the second sync');
  assert.deepEqual(await at(s.s5), expectedFiles(repo, c.c3), 'at the sync after the failure');
  assert.deepEqual(await at(s.r), expectedFiles(repo, c.c1), 'at the restore');
  assertError(await alice.get(`/api/v1/projects/${project.id}/files?at=00000000-0000-0000-0000-000000000000`), 404, 'not_found', 'at an unknown sync');
});

test('a force push of unrelated history, then a sync: the active files equal the new tree', async () => {
  const readme = repo.git(['show', `${c.c1}:README.md`]);
  c.orphan = repo.forcePushOrphan('main', {
    'README.md': readme,
    'ORPHAN.md': 'unrelated history\n',
    'pkg/new.txt': { content: 'all new\n', mode: 0o755 },
  });
  assert.equal(repo.headSha('main'), c.orphan);
  const { sync, done } = await alice.syncAndWait(project.id);
  assert.equal(done.commitSha, c.orphan);
  assert.equal(done.previousSyncId, s.r);
  assert.deepEqual(done.counts, expectedCounts(repo, c.c1, c.orphan).counts);
  assert.deepEqual(fileShape(await alice.files(project.id)), expectedFiles(repo, c.orphan));
  const p = await projectNow();
  assert.equal(p.currentSyncId, sync.id);
  assert.equal(p.currentCommitSha, c.orphan);
  // Earlier states are still readable.
  assert.deepEqual(fileShape(await alice.files(project.id, { at: s.s5 })), expectedFiles(repo, c.c3));
});

test('the chain: every COMPLETE sync links to the one before it, and no two share a previousSyncId', async () => {
  const hist = await alice.listAll(`/api/v1/projects/${project.id}/syncs`, { limit: 3 });
  const complete = hist.filter((h) => h.status === 'COMPLETE');
  assert.equal(complete.length, 5, JSON.stringify(hist.map((h) => [h.id, h.status])));
  complete.forEach((h, i) => assert.equal(h.previousSyncId, complete[i + 1]?.id ?? null, `previousSyncId of ${h.id}`));
  const prevs = hist.map((h) => h.previousSyncId).filter((x) => x !== null);
  assert.equal(new Set(prevs).size, prevs.length, 'no two syncs share a previousSyncId');
  const p = await projectNow();
  assert.equal(p.currentSyncId, complete[0].id);
});
