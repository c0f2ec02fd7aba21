// Outgoing notifications (CONTRACT.md, "Outgoing notifications") against a loopback
// receiver: hooks are validated and private to their project's user; a sync's end reaches
// the hooks subscribed to its event, signed with HMAC-SHA256 over the raw body; a receiver
// answering 500 is retried with growing waits until it answers 2xx, one that never does is
// given up after the last attempt, and the delivery log says so; the sync never waits for
// any of it.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startWorld, worldTest, createRepo, assertError, sleep } from '../support/harness.mjs';
import { startHookReceiver, closedPort } from '../support/hook-receiver.mjs';

const MAX_ATTEMPTS = 8;
let world;
let repo;
let alice;
let bob;
let project;
let receiver;
const test = worldTest(() => world);

before(async () => {
  world = await startWorld();
  receiver = await startHookReceiver();
  repo = createRepo(world.root, 'acme', 'hooked');
  repo.write('README.md', '# hooked\n');
  repo.commit('c1');
  alice = await world.createUser('alice');
  bob = await world.createUser('bob');
  project = await alice.createProject({ name: 'hooked', repository: 'acme/hooked' });
});

after(async () => {
  await receiver?.close();
  await world?.stop();
});

const hooksUrl = () => `/api/v1/projects/${project.id}/hooks`;
const addHook = async (body) => {
  const res = await alice.post(hooksUrl(), body);
  assert.equal(res.status, 201, `create hook ${JSON.stringify(body)}: ${res.status} ${res.text}`);
  return res.json;
};
const deliveries = (hook) => alice.listAll(`${hooksUrl()}/${hook.id}/deliveries`);

/** Polls the delivery log until `pred` holds for the newest delivery. */
async function waitDelivery(hook, pred, { timeoutMs = 60_000 } = {}) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    [last] = await deliveries(hook);
    if (last && pred(last)) return last;
    await sleep(250);
  }
  throw new Error(`delivery of hook ${hook.id} never got there; last: ${JSON.stringify(last)}`);
}

const commit = (text) => {
  repo.write('README.md', `# hooked\n${text}\n`);
  return repo.commit(text);
};

test('hooks are validated, listed, private to their user and deleted', async () => {
  const h = await addHook({ url: receiver.url('/first'), secret: 'not shown again' });
  assert.deepEqual(Object.keys(h).sort(), ['createdAt', 'events', 'hasSecret', 'id', 'url']);
  assert.deepEqual(h.events, ['sync.completed', 'sync.failed', 'sync.cancelled']);
  assert.equal(h.hasSecret, true);
  assert.ok(!JSON.stringify(h).includes('not shown again'), 'the secret is never returned');
  for (const [body, field] of [
    [{ url: 'ftp://127.0.0.1/x' }, 'url'],
    [{ url: 'not a url' }, 'url'],
    [{ url: 'http://user:pw@127.0.0.1:9/x' }, 'url'],
    [{ url: `${world.base}/api/v1/webhooks/github` }, 'url'],
    // Issue 19, defect 6: hosts that point inward (loopback stays allowed here, where
    // ALLOW_HTTP_HOOKS is set for the local receiver).
    [{ url: 'https://10.0.0.1/x' }, 'url'],
    [{ url: 'https://169.254.169.254/latest/meta-data/' }, 'url'],
    [{ url: 'https://[fd00::1]/x' }, 'url'],
    [{ url: 'https://100.64.0.1/x' }, 'url'],
    [{ url: 'https://0.0.0.0/x' }, 'url'],
    [{ url: `${world.base.replace('127.0.0.1', '127.0.0.1.')}/api/v1/projects` }, 'url'],
    [{ url: receiver.url('/x'), events: ['push'] }, 'events'],
    [{ url: receiver.url('/x'), events: [] }, 'events'],
    [{ url: receiver.url('/x'), secret: '' }, 'secret'],
    [{ url: receiver.url('/x'), unknown: 1 }, 'unknown'],
  ]) {
    const err = assertError(await alice.post(hooksUrl(), body), 400, 'invalid_request', JSON.stringify(body));
    assert.equal(err.field, field, JSON.stringify(err));
    if (/\/\/(10\.|169\.254|\[fd|100\.64|0\.0)/.test(body.url)) assert.match(err.message, /points inward: an? (private|link-local|unique-local|carrier-grade NAT|unspecified)/, err.message);
  }
  const listed = await alice.listAll(hooksUrl(), { limit: 1 });
  assert.deepEqual(listed.map((x) => x.id), [h.id]);
  assertError(await bob.get(hooksUrl()), 404, 'not_found', "another user's project");
  assertError(await bob.post(hooksUrl(), { url: receiver.url('/bob') }), 404, 'not_found');
  assertError(await bob.get(`${hooksUrl()}/${h.id}/deliveries`), 404, 'not_found');
  assertError(await bob.api('DELETE', `${hooksUrl()}/${h.id}`), 404, 'not_found');
  assert.equal((await alice.api('DELETE', `${hooksUrl()}/${h.id}`)).status, 204);
  assertError(await alice.api('DELETE', `${hooksUrl()}/${h.id}`), 404, 'not_found', 'deleted already');
  assert.deepEqual(await alice.listAll(hooksUrl()), []);
});

test('a sync end reaches the hooks of its event, signed over the raw body', async () => {
  const secret = crypto.randomBytes(16).toString('hex');
  const signed = await addHook({ url: receiver.url('/signed'), secret });
  const failuresOnly = await addHook({ url: receiver.url('/failures'), events: ['sync.failed'] });
  commit('two');
  const { done } = await alice.syncAndWait(project.id);
  const d = await waitDelivery(signed, (x) => x.status === 'delivered');
  assert.equal(d.syncId, done.id);
  assert.equal(d.event, 'sync.completed');
  assert.equal(d.attempts, 1);
  assert.equal(d.lastStatusCode, 204);
  assert.equal(d.lastError, null);
  assert.ok(d.deliveredAt);
  const [got] = receiver.received('/signed');
  assert.equal(got.method, 'POST');
  assert.match(got.headers['content-type'], /application\/json/);
  assert.equal(got.headers['x-project-sync-event'], 'sync.completed');
  assert.equal(got.headers['x-project-sync-delivery'], d.id);
  const mac = `sha256=${crypto.createHmac('sha256', secret).update(got.raw).digest('hex')}`;
  assert.equal(got.headers['x-project-sync-signature-256'], mac, 'HMAC-SHA256 of the raw body');
  const body = JSON.parse(got.raw.toString('utf8'));
  assert.equal(body.event, 'sync.completed');
  assert.equal(body.deliveryId, d.id);
  assert.equal(body.project.id, project.id);
  assert.equal(body.sync.id, done.id);
  assert.equal(body.sync.status, 'COMPLETE');
  assert.equal(body.changesUrl, `/api/v1/syncs/${done.id}/changes`);
  assert.deepEqual(await deliveries(failuresOnly), [], 'a hook not subscribed to sync.completed gets nothing');

  // A failed sync reaches both; the unsigned one carries no signature.
  world.emulator.injectFault({ kind: 'status', status: 503, route: 'tree', times: -1 });
  commit('three');
  try {
    const failed = (await alice.syncAndWait(project.id, {}, { expect: 'FAILED' })).done;
    const f = await waitDelivery(failuresOnly, (x) => x.status === 'delivered');
    assert.equal(f.syncId, failed.id);
    assert.equal(f.event, 'sync.failed');
    const [plain] = receiver.received('/failures');
    assert.equal(plain.headers['x-project-sync-signature-256'], undefined);
    assert.equal(JSON.parse(plain.raw).sync.status, 'FAILED');
    await waitDelivery(signed, (x) => x.syncId === failed.id && x.status === 'delivered');
  } finally {
    world.emulator.clearFaults();
  }
  // A dry run changes nothing, so it is not announced.
  const before = (await deliveries(signed)).length;
  await alice.syncAndWait(project.id, { dryRun: true });
  await sleep(4000);
  assert.equal((await deliveries(signed)).length, before, 'no delivery for a dry run');
  for (const h of [signed, failuresOnly]) await alice.api('DELETE', `${hooksUrl()}/${h.id}`);
});

test('500s are retried with growing waits; a receiver that never answers 2xx is given up', async () => {
  receiver.script('/flaky', [500, 500, 204]);
  receiver.script('/down', [500]);
  const flaky = await addHook({ url: receiver.url('/flaky'), secret: 'flaky' });
  const down = await addHook({ url: receiver.url('/down') });
  const unreachable = await addHook({ url: `http://127.0.0.1:${await closedPort()}/nobody` });
  commit('four');
  const { done } = await alice.syncAndWait(project.id);
  const early = await deliveries(down);
  assert.ok(early.length === 0 || early[0].status === 'pending', 'the sync completed without waiting for any receiver');

  const ok = await waitDelivery(flaky, (x) => x.status === 'delivered');
  assert.equal(ok.attempts, 3);
  assert.equal(ok.syncId, done.id);
  const tries = receiver.received('/flaky');
  assert.equal(tries.length, 3);
  assert.ok(tries.every((t) => t.headers['x-project-sync-delivery'] === ok.id), 'one delivery id across attempts');
  assert.ok(tries.every((t) => t.raw.equals(tries[0].raw)), 'the same bytes every attempt');

  const gaveUp = await waitDelivery(down, (x) => x.status !== 'pending', { timeoutMs: 120_000 });
  assert.equal(gaveUp.status, 'failed');
  assert.equal(gaveUp.attempts, MAX_ATTEMPTS);
  assert.equal(gaveUp.lastStatusCode, 500);
  assert.match(gaveUp.lastError, /500/);
  const all = receiver.received('/down');
  assert.equal(all.length, MAX_ATTEMPTS, 'no attempt after the last');
  const gaps = all.slice(1).map((t, i) => t.at - all[i].at);
  assert.ok(gaps[gaps.length - 1] > gaps[0], `the waits grow: ${gaps.join(', ')} ms`);
  console.log(`# retry gaps (ms, HOOK_RETRY_BASE_MS=100, whole-second queue delays): ${gaps.join(', ')}`);

  const lost = await waitDelivery(unreachable, (x) => x.status !== 'pending', { timeoutMs: 120_000 });
  assert.equal(lost.status, 'failed');
  assert.equal(lost.attempts, MAX_ATTEMPTS);
  assert.equal(lost.lastStatusCode, null);
  assert.ok(lost.lastError?.length > 0, 'why it failed');
  await sleep(3000);
  assert.equal(receiver.received('/down').length, MAX_ATTEMPTS, 'still no attempt after the last');
});

test('a cancelled sync whose end the hooks queue refused is announced by the next cron tick (the outbox)', async () => {
  const hook = await addHook({ url: receiver.url('/outbox'), events: ['sync.cancelled'] });
  // A start that never reached its object: the cancel ends the row itself and announces it.
  await world.armFault('object.start', 1);
  const { sync } = await alice.startSync(project.id);
  await world.armFault('hooks.announce', 1);
  const cancelled = await alice.post(`/api/v1/syncs/${sync.id}/cancel`, {});
  assert.equal(cancelled.status, 202, cancelled.text);
  assert.equal((await alice.getJson(`/api/v1/syncs/${sync.id}`)).status, 'CANCELLED');
  await sleep(3_000);
  assert.deepEqual(await deliveries(hook), [], 'the one send failed: nothing was delivered yet');
  assert.equal(receiver.received('/outbox').length, 0);

  const tick = await world.triggerScheduled();
  assert.equal(tick.status, 200, tick.text);
  const d = await waitDelivery(hook, (x) => x.status === 'delivered');
  assert.equal(d.syncId, sync.id);
  assert.equal(d.event, 'sync.cancelled');
  const [got] = receiver.received('/outbox');
  assert.equal(JSON.parse(got.raw.toString('utf8')).sync.id, sync.id);
  // The outbox row is gone once sent: another tick announces nothing again.
  await world.triggerScheduled();
  await sleep(2_000);
  assert.equal((await deliveries(hook)).length, 1);
  assert.equal(receiver.received('/outbox').length, 1, 'one delivery, whatever the ticks');
});
