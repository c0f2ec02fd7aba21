// The kill test: the runtime (wrangler and workerd, the whole process group) is SIGKILLed at
// random moments in FETCHING, DIFFING, PROCESSING and PERSISTING of a first sync, an
// incremental sync, a restore and a force-push sync, and started again on the same state.
// Every sync must end by itself (the test only reads), the visible files must always equal
// `git ls-tree` of the commit of the project's current (completed) sync, no path may have
// two versions from one sync, the chain must stay linear, and the event streams must
// still follow the contract. It prints the kills per phase and the seconds to resume.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  startWorld,
  worldTest,
  createRepo,
  expectedFiles,
  fileShape,
  assertEventStream,
  sleep,
  TERMINAL,
  STATUS_ORDER,
} from '../support/harness.mjs';

const FILES = 12_000;
const PHASES = ['FETCHING', 'DIFFING', 'PROCESSING', 'PERSISTING'];

let world;
let alice;
let repo;
let project;
const kills = []; // { sync, wanted, at, resumeMs }
const test = worldTest(() => world);

before(async () => {
  world = await startWorld();
  alice = await world.createUser('killer');
  // Every D1 statement of a sync waits 100 ms, as over a slow link, so that DIFFING and
  // PERSISTING last long enough here to be hit.
  await world.armFault('d1.slow', 100);
  repo = createRepo(world.root, 'acme', 'killed');
});

after(async () => {
  const perPhase = Object.fromEntries(PHASES.map((p) => [p, kills.filter((k) => k.at === p).length]));
  const resumes = kills.map((k) => k.resumeMs).filter((ms) => ms !== null);
  process.stderr.write(
    `[kill] ${kills.length} kills; per phase ${JSON.stringify(perPhase)}; seconds to resume: ` +
      `median ${(median(resumes) / 1000).toFixed(1)}, max ${(Math.max(0, ...resumes) / 1000).toFixed(1)}\n` +
      kills.map((k) => `[kill]   ${k.sync}: aimed at ${k.wanted}, killed in ${k.at}, resumed after ${((k.resumeMs ?? 0) / 1000).toFixed(1)} s`).join('\n') +
      '\n',
  );
  await world?.stop();
});

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : 0;
}

/** Writes `files` (path -> content) into the work tree and stages everything. */
function writeAll(files) {
  for (const [p, content] of files) {
    const abs = path.join(repo.dir, p);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, content);
  }
  repo.git(['add', '-A']);
}

const fileName = (i, salt = '') => `d${String(i % 30).padStart(2, '0')}${salt}/f${String(i).padStart(5, '0')}.txt`;

const getSync = (id) => alice.getJson(`/api/v1/syncs/${id}`);

/** The visible state is the tree of the current sync's commit, with no path twice. */
async function assertVisibleStateIsACompletedOne(label) {
  const p = await alice.getJson(`/api/v1/projects/${project.id}`);
  const files = await alice.files(project.id, { limit: 500 });
  const paths = files.map((f) => f.path);
  assert.equal(new Set(paths).size, paths.length, `${label}: no path twice`);
  if (p.currentCommitSha === null) {
    assert.deepEqual(files, [], `${label}: nothing visible before the first completed sync`);
    return;
  }
  assert.deepEqual(fileShape(files), expectedFiles(repo, p.currentCommitSha), `${label}: files = ls-tree of ${p.currentCommitSha}`);
}

/**
 * Follows sync `id` and kills the runtime once in each of `phases`: when the sync is seen
 * in (or past) the phase, after a random pause shorter than the phase lasts here. The kill
 * lands where the sync is then, which is what is recorded. After every restart the
 * visible state is checked; the time until the sync moves again is its resume time.
 */
async function killThrough(label, id, phases, windows) {
  let pending = null; // the last kill, until the sync is seen moving again
  const watch = async () => {
    const now = await getSync(id);
    if (pending && (now.message !== pending.before.message || now.progress !== pending.before.progress || now.status !== pending.before.status)) {
      pending.kill.resumeMs = Date.now() - pending.restartedAt;
      pending = null;
    }
    return now;
  };
  for (const wanted of phases) {
    let seen = await watch();
    // After a kill, first see the sync move again by itself (that is its resume time).
    const resumeBy = Date.now() + 60_000;
    while (pending && !TERMINAL.includes(seen.status)) {
      if (Date.now() > resumeBy) throw new Error(`${label}: no progress within 60 s of a restart: ${JSON.stringify(seen)}`);
      await sleep(15);
      seen = await watch();
    }
    while (!TERMINAL.includes(seen.status) && STATUS_ORDER.indexOf(seen.status) < STATUS_ORDER.indexOf(wanted)) {
      await sleep(15);
      seen = await watch();
    }
    if (TERMINAL.includes(seen.status)) break;
    await sleep(Math.floor(Math.random() * (windows[wanted] ?? 50)));
    const before = await watch();
    if (TERMINAL.includes(before.status)) break;
    await world.killAndRestart();
    const kill = { sync: label, wanted, at: before.status, resumeMs: null };
    kills.push(kill);
    pending = { kill, before, restartedAt: Date.now() };
    await assertVisibleStateIsACompletedOne(`${label}, after a kill in ${before.status}`);
  }
  const until = Date.now() + 120_000;
  let done = await watch();
  while (!TERMINAL.includes(done.status)) {
    if (Date.now() > until) throw new Error(`${label}: the sync did not end by itself: ${JSON.stringify(done)}`);
    await sleep(100);
    done = await watch();
  }
  process.stderr.write(`[kill] ${label}: ${done.status} in ${(done.stats.durationMs / 1000).toFixed(1)} s (${done.message})\n`);
  const stream = await world.readEvents(`/api/v1/events/project-sync/${id}`, { token: alice.token, timeoutMs: 30_000 });
  assertEventStream(stream, { syncId: id, terminal: done.status.toLowerCase() });
  await assertVisibleStateIsACompletedOne(`${label}, ended ${done.status}`);
  return done;
}

/** Pauses (ms) before a kill, by phase: GitHub is slowed to hold FETCHING and PROCESSING. */
const SLOWED = { FETCHING: 1_500, DIFFING: 200, PROCESSING: 1_500, PERSISTING: 1_000 };
const UNSLOWED = { FETCHING: 200, DIFFING: 200, PROCESSING: 20, PERSISTING: 1_000 };

/** Slows the routes that hold FETCHING and PROCESSING long enough to be hit. */
function slowGitHub() {
  world.emulator.clearFaults();
  world.emulator.injectFault({ route: 'tree', kind: 'delay', ms: 2_500, times: 1 });
  world.emulator.injectFault({ route: 'tarball', kind: 'delay', ms: 2_500, times: 1 });
}

test('a first sync killed in every phase ends by itself with exactly the tree', { timeout: 240_000 }, async () => {
  writeAll(Array.from({ length: FILES }, (_, i) => [fileName(i), `first ${i}\n`]));
  const commit = repo.commit('first');
  project = await alice.createProject({ name: 'killed', repository: 'acme/killed' });
  slowGitHub();
  const { sync } = await alice.startSync(project.id);
  const done = await killThrough('first', sync.id, PHASES, SLOWED);
  assert.equal(done.status, 'COMPLETE', JSON.stringify(done));
  assert.equal(done.commitSha, commit);
});

test('an incremental sync killed in every phase ends by itself', { timeout: 240_000 }, async () => {
  writeAll(Array.from({ length: 6_000 }, (_, i) => [fileName(i * 3), `second ${i}\n`]));
  repo.commit('second');
  slowGitHub();
  const { sync } = await alice.startSync(project.id);
  const done = await killThrough('incremental', sync.id, PHASES, SLOWED);
  assert.ok(['COMPLETE', 'FAILED'].includes(done.status), JSON.stringify(done));
});

test('a restore killed in every phase it has ends by itself', { timeout: 240_000 }, async () => {
  const history = await alice.listAll(`/api/v1/projects/${project.id}/syncs`);
  const first = history.filter((s) => s.status === 'COMPLETE').at(-1);
  const res = await alice.post(`/api/v1/projects/${project.id}/restore`, { syncId: first.id });
  assert.equal(res.status, 202, res.text);
  // A restore reads no contents: its PROCESSING lasts one short step, so it is rarely hit.
  const done = await killThrough('restore', res.json.sync.id, PHASES, UNSLOWED);
  assert.ok(['COMPLETE', 'FAILED'].includes(done.status), JSON.stringify(done));
});

test('a force-push sync killed in every phase ends by itself', { timeout: 240_000 }, async () => {
  repo.git(['checkout', '-q', '--orphan', 'rewrite']);
  repo.git(['rm', '-rq', '--cached', '.']);
  for (const entry of fs.readdirSync(repo.dir)) if (entry !== '.git') fs.rmSync(path.join(repo.dir, entry), { recursive: true, force: true });
  writeAll(Array.from({ length: FILES }, (_, i) => [fileName(i, 'x'), `rewritten ${i}\n`]));
  const commit = repo.commit('unrelated history');
  repo.git(['update-ref', 'refs/heads/main', commit]);
  repo.git(['checkout', '-q', 'main']);
  repo.git(['branch', '-q', '-D', 'rewrite']);
  slowGitHub();
  const { sync } = await alice.startSync(project.id);
  const done = await killThrough('force-push', sync.id, PHASES, SLOWED);
  assert.ok(['COMPLETE', 'FAILED'].includes(done.status), JSON.stringify(done));
});

test('after every kill: at least 12 kills, every sync ended, the chain is linear, no duplicate versions', async () => {
  assert.ok(kills.length >= 12, `kills: ${kills.length}`);
  for (const phase of PHASES.filter((p) => p !== 'PROCESSING')) {
    assert.ok(kills.some((k) => k.at === phase), `at least one kill in ${phase}: ${JSON.stringify(kills)}`);
  }
  const history = await alice.listAll(`/api/v1/projects/${project.id}/syncs`);
  assert.ok(history.every((s) => TERMINAL.includes(s.status)), 'every sync ended by itself');
  const complete = history.filter((s) => s.status === 'COMPLETE').reverse();
  complete.forEach((s, i) => assert.equal(s.previousSyncId, i === 0 ? null : complete[i - 1].id, 'the chain is linear'));
  const p = await alice.getJson(`/api/v1/projects/${project.id}`);
  assert.equal(p.currentSyncId, complete.at(-1).id);
  // One version per completed sync that touched a path.
  for (const sample of [fileName(0), fileName(3), fileName(7, 'x')]) {
    const versions = await alice.listAll(`/api/v1/projects/${project.id}/files/history?path=${encodeURIComponent(sample)}`);
    const bySync = versions.map((v) => v.syncId);
    assert.equal(new Set(bySync).size, bySync.length, `${sample}: one version per sync: ${JSON.stringify(versions)}`);
  }
});
