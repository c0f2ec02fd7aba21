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
  world.emulator.resetStats();
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
  repo.write('later.txt', 'later\n');
  const commit = repo.commit('c2');
  world.emulator.resetStats();
  // The first check meets an exhausted limit that resets in 25 s: longer than a request
  // waits by itself, so the check fails and its message is retried then.
  world.emulator.injectFault({ route: 'ref', kind: 'primaryRateLimit', resetIn: 25, times: 1 });
  const t0 = Date.now();
  await world.triggerScheduled();
  const until = Date.now() + 120_000;
  let synced;
  for (;;) {
    synced = await Promise.all(projects.map(async (q) => (await cronSyncs(q)).find((s) => s.commitSha === commit)));
    if (synced.every(Boolean)) break;
    if (Date.now() > until) throw new Error(`${synced.filter((s) => !s).length} projects never synced the new commit`);
    await sleep(1_000);
  }
  const limited = world.emulator.stats().log.filter((e) => e.route === 'ref' && e.fault === 'primaryRateLimit');
  assert.equal(limited.length, 1, 'one check met the limit');
  const done = await Promise.all(synced.map((s) => alice.waitSync(s.id, { timeoutMs: 60_000 })));
  assert.ok(done.every((s) => s.status === 'COMPLETE'), JSON.stringify(done.map((s) => s.status)));
  // Every project but one synced at its first check; that one only after GitHub's wait.
  const startedAfter = done.map((s) => Date.parse(s.startedAt) - t0).sort((a, b) => a - b);
  const late = startedAfter.filter((ms) => ms >= 20_000);
  assert.equal(late.length, 1, `one sync started after the wait: ${startedAfter.join(', ')} ms`);
  const retried = projects[done.findIndex((s) => Date.parse(s.startedAt) - t0 >= 20_000)];
  assert.deepEqual(fileShape(await alice.files(retried.id)), expectedFiles(repo, commit));
  process.stderr.write(`[queue] rate-limited check retried; its sync started ${late[0]} ms after the tick (others by ${startedAfter.at(-2)} ms)\n`);
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
