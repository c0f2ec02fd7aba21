// Retention (CONTRACT.md, additions of 2026-12-07): the changes of a project's 20 newest dry
// runs are kept, an older dry run's /changes is a 404 while its sync row stays; a hook's
// deliveries are kept for 30 days, the 1,000 newest per hook at most. The delivery limits are
// lowered for the test (HOOK_DELIVERIES_KEPT=3, HOOK_DELIVERIES_KEPT_MS=12000) the way
// HOOK_RETRY_BASE_MS is; the dry-run limit is the contract's own 20.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, worldTest, createRepo, assertError, sleep } from '../support/harness.mjs';
import { startHookReceiver } from '../support/hook-receiver.mjs';

const KEPT = 3;
const KEPT_MS = 12_000;
let world;
let repo;
let alice;
let receiver;
const test = worldTest(() => world);

before(async () => {
  world = await startWorld({ vars: { HOOK_DELIVERIES_KEPT: String(KEPT), HOOK_DELIVERIES_KEPT_MS: String(KEPT_MS) } });
  receiver = await startHookReceiver();
  repo = createRepo(world.root, 'acme', 'kept');
  repo.write('README.md', '# kept\n');
  repo.write('docs/a.md', 'alpha\n');
  repo.commit('c1');
  alice = await world.createUser('alice');
});

after(async () => {
  await receiver?.close();
  await world?.stop();
});

test("a 21st dry run makes the 1st one's changes a 404 while its sync row stays; the tick deletes its rows", async () => {
  const project = await alice.createProject({ name: 'previews', repository: 'acme/kept' });
  await alice.syncAndWait(project.id);
  const dryRuns = [];
  for (let i = 0; i < 21; i++) {
    // Each previews a different filter, so each has changes of its own to keep.
    const { done } = await alice.syncAndWait(project.id, { dryRun: true, exclude: [`file-${i}`, 'docs/'] });
    assert.equal(done.dryRun, true);
    dryRuns.push(done);
    if (i === 19) {
      const first = await alice.getJson(`/api/v1/syncs/${dryRuns[0].id}/changes`);
      assert.deepEqual(first.items.map((c) => [c.path, c.change]), [['docs/a.md', 'removed']], 'the 20th keeps the 1st');
    }
  }
  const res = await alice.get(`/api/v1/syncs/${dryRuns[0].id}/changes`);
  assert.equal(res.status, 404, res.text);
  assertError(res, 404, 'not_found');
  const row = await alice.getJson(`/api/v1/syncs/${dryRuns[0].id}`);
  assert.equal(row.status, 'COMPLETE', 'the sync row stays');
  const history = await alice.listAll(`/api/v1/projects/${project.id}/syncs`);
  assert.ok(history.some((s) => s.id === dryRuns[0].id), 'and is listed');
  for (const kept of dryRuns.slice(1)) {
    const page = await alice.getJson(`/api/v1/syncs/${kept.id}/changes`);
    assert.equal(page.items.length, 1, `dry run ${kept.id} keeps its changes`);
  }
  const mark = world.logSize();
  assert.ok((await world.triggerScheduled()).status < 300);
  await world.waitForLog(/cron upkeep: (announced \d+ sync endings; )?deleted 1 dry-run changes/, mark, 20_000);
  assert.equal((await alice.get(`/api/v1/syncs/${dryRuns[0].id}/changes`)).status, 404, 'still a 404 once its rows are gone');
  assert.equal((await alice.get(`/api/v1/syncs/${dryRuns[1].id}/changes`)).status, 200);
});

test('a hook keeps its newest deliveries, and none older than the retention', async () => {
  const project = await alice.createProject({ name: 'hooked', repository: 'acme/kept' });
  const hookRes = await alice.post(`/api/v1/projects/${project.id}/hooks`, { url: receiver.url('/kept') });
  assert.equal(hookRes.status, 201, hookRes.text);
  const deliveries = () => alice.listAll(`/api/v1/projects/${project.id}/hooks/${hookRes.json.id}/deliveries`);
  const syncs = [];
  for (let i = 0; i < KEPT + 2; i++) {
    syncs.push((await alice.syncAndWait(project.id)).done);
    // Each sync's delivery exists before the next ends (a newer one trims the older).
    const until = Date.now() + 30_000;
    while (!(await deliveries()).some((d) => d.syncId === syncs[i].id)) {
      assert.ok(Date.now() < until, `no delivery for sync ${i}`);
      await sleep(200);
    }
  }
  const kept = await deliveries();
  assert.deepEqual(kept.map((d) => d.syncId), syncs.slice(-KEPT).reverse().map((s) => s.id), `the ${KEPT} newest, newest first`);

  // Past the retention, a tick deletes them all but what is younger.
  await sleep(KEPT_MS + 500);
  const newest = (await alice.syncAndWait(project.id)).done;
  const until = Date.now() + 30_000;
  while (!(await deliveries()).some((d) => d.syncId === newest.id)) {
    assert.ok(Date.now() < until, 'no delivery for the newest sync');
    await sleep(200);
  }
  assert.equal((await deliveries()).length, KEPT, 'before the tick');
  const mark = world.logSize();
  assert.ok((await world.triggerScheduled()).status < 300);
  await world.waitForLog(/cron upkeep: (announced \d+ sync endings; )?deleted \d+ dry-run changes, 2 deliveries/, mark, 20_000);
  assert.deepEqual((await deliveries()).map((d) => d.syncId), [newest.id], 'only the young one stays');
});
