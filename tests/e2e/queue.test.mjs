// The fan-out queue (a real local Cloudflare Queue): the cron's head checks run as its
// messages — a no-op tick costs one 304 per project and writes no sync row, a check that
// GitHub rate-limits is retried after the wait GitHub names — and a message that is not
// ours ends in the dead-letter queue, whose consumer records it.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, worldTest, createRepo, expectedFiles, fileShape, sleep } from '../support/harness.mjs';

let world;
let repo;
let alice;
const projects = [];
const test = worldTest(() => world);

before(async () => {
  world = await startWorld();
  repo = createRepo(world.root, 'acme', 'queued');
  repo.write('README.md', '# queued\n');
  repo.commit('c1');
  alice = await world.createUser('alice');
  for (let i = 0; i < 30; i++) projects.push(await alice.createProject({ name: `q${i}`, repository: 'acme/queued', tracked: true }));
  for (const p of projects) await alice.syncAndWait(p.id);
  // One tick records every project's head ETag (each check answered 200 the first time).
  await world.triggerScheduled();
  await waitForRequests('ref', projects.length, 60_000);
});

after(async () => {
  await world?.stop();
});

async function waitForRequests(route, n, timeoutMs) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const log = world.emulator.stats().log.filter((e) => e.route === route);
    if (log.length >= n) return log;
    if (Date.now() > until) throw new Error(`only ${log.length} of ${n} ${route} requests within ${timeoutMs} ms`);
    await sleep(100);
  }
}

const cronSyncs = async (p) => (await alice.listAll(`/api/v1/projects/${p.id}/syncs`)).filter((s) => s.trigger === 'cron');

test('a no-op tick over 30 tracked projects: 30 conditional requests, all 304, no sync row', async () => {
  const before = await Promise.all(projects.map(cronSyncs));
  world.emulator.resetStats();
  const t0 = Date.now();
  await world.triggerScheduled();
  const log = await waitForRequests('ref', projects.length, 60_000);
  const ms = Date.now() - t0;
  await sleep(1_000);
  const checks = world.emulator.stats().log.filter((e) => e.route === 'ref');
  assert.equal(checks.length, projects.length, 'one check per project, no more');
  assert.ok(checks.every((e) => e.status === 304), JSON.stringify(checks.map((e) => e.status)));
  assert.deepEqual(await Promise.all(projects.map(cronSyncs)), before, 'no sync row');
  process.stderr.write(`[queue] ${log.length} head checks, all 304, in ${ms} ms\n`);
});

test('a head check GitHub rate-limits is retried after the wait it names, then syncs', async () => {
  const p = projects[0];
  repo.write('later.txt', 'later\n');
  const commit = repo.commit('c2');
  world.emulator.resetStats();
  // The first check meets an exhausted limit that resets in 25 s: longer than a request
  // waits by itself, so the check fails and its message is retried then.
  world.emulator.injectFault({ route: 'ref', kind: 'primaryRateLimit', resetIn: 25, times: 1 });
  const t0 = Date.now();
  await world.triggerScheduled();
  await waitForRequests('ref', projects.length + 1, 60_000);
  const until = Date.now() + 90_000;
  let sync;
  while (!sync) {
    if (Date.now() > until) throw new Error('the rate-limited check was never retried');
    sync = (await cronSyncs(p)).find((s) => s.commitSha === commit || s.status !== 'COMPLETE');
    if (!sync) await sleep(500);
  }
  const limited = world.emulator.stats().log.filter((e) => e.route === 'ref' && e.fault === 'primaryRateLimit');
  assert.equal(limited.length, 1);
  const done = await alice.waitSync(sync.id, { timeoutMs: 60_000 });
  assert.equal(done.status, 'COMPLETE');
  // Every other project synced at its first check; the limited one only after the wait.
  const startedAfter = Date.parse(done.startedAt) - t0;
  const others = await Promise.all(projects.slice(1).map(async (q) => (await cronSyncs(q)).find((s) => s.commitSha === commit)));
  assert.ok(others.every(Boolean), 'the other projects synced the new commit');
  const firstOther = Math.min(...others.map((s) => Date.parse(s.startedAt) - t0));
  assert.ok(startedAfter >= 20_000 && startedAfter > firstOther, `the retry waited: ${startedAfter} ms (others from ${firstOther} ms)`);
  assert.deepEqual(fileShape(await alice.files(p.id)), expectedFiles(repo, commit));
});

test('a message that is not ours is dead-lettered and recorded', async () => {
  const res = await world.api('POST', '/api/v1/_test/enqueue', { token: world.adminToken, body: { kind: 'nonsense', reason: 'poisoned' } });
  assert.equal(res.status, 202, res.text);
  const until = Date.now() + 90_000;
  for (;;) {
    const d = await world.api('GET', '/api/v1/_diagnostics', { token: world.adminToken });
    assert.equal(d.status, 200, d.text);
    const hit = d.json.deadLetters.find((l) => l.body.includes('poisoned'));
    if (hit) {
      assert.match(hit.queue, /dlq$/);
      break;
    }
    if (Date.now() > until) throw new Error(`not dead-lettered: ${d.text}`);
    await sleep(500);
  }
});
