// Syncs that start themselves: the scheduled (cron) handler for tracked projects whose branch
// moved (one conditional request, answered 304, when it did not), and signed GitHub push
// webhooks (bad signatures, repeated deliveries, ping). The tests run in order.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  startWorld,
  worldTest,
  createRepo,
  assertError,
  expectedFiles,
  expectedCounts,
  fileShape,
  signWebhook,
  sleep,
} from '../support/harness.mjs';

const SECRET = 'e2e-webhook-secret-' + crypto.randomBytes(6).toString('hex');

let world;
let repo;
let alice;
let tracked; // tracked project on acme/widgets main
let untracked; // same repository and branch, not tracked
const s = {};
const c = {};

const test = worldTest(() => world);

before(async () => {
  world = await startWorld({ webhookSecret: SECRET });
  repo = createRepo(world.root, 'acme', 'widgets');
  repo.write('README.md', '# widgets\n');
  repo.write('src/main.rs', 'fn main() {}\n');
  repo.write('scripts/go.sh', '#!/bin/sh\n', { mode: 0o755 });
  c.c1 = repo.commit('c1');
  alice = await world.createUser('alice');
  tracked = await alice.createProject({ name: 'Tracked', repository: 'acme/widgets', tracked: true });
  untracked = await alice.createProject({ name: 'Untracked', repository: 'acme/widgets' });
  assert.equal(tracked.tracked, true);
  assert.equal(untracked.tracked, false);
  const first = await alice.syncAndWait(tracked.id);
  s.first = first.sync.id;
});

after(async () => {
  await world?.stop();
});

const history = (p) => alice.listAll(`/api/v1/projects/${p.id}/syncs`);

/** Poll the history of `p` until `pred(sync)` holds for one of its syncs. */
async function waitForSyncIn(p, pred, what, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const hit = (await history(p)).find(pred);
    if (hit) return hit;
    await sleep(200);
  }
  throw new Error(`no sync ${what} appeared in the history of ${p.name} within ${timeoutMs} ms: ${JSON.stringify(await history(p))}`);
}

/** POST a webhook: `sign` true signs with SECRET; a string signs with that secret. */
function postWebhook(event, payload, { delivery = crypto.randomUUID(), sign = true, signature } = {}) {
  const raw = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/e2e',
    'x-github-event': event,
    'x-github-delivery': delivery,
  };
  if (signature !== undefined) headers['x-hub-signature-256'] = signature;
  else if (sign) headers['x-hub-signature-256'] = signWebhook(sign === true ? SECRET : sign, raw);
  return world.api('POST', '/api/v1/webhooks/github', { body: raw, headers });
}

const pushPayload = (after, ref = 'refs/heads/main', fullName = 'acme/widgets') => ({
  ref,
  before: '0'.repeat(40),
  after,
  repository: { full_name: fullName, name: fullName.split('/')[1], owner: { login: fullName.split('/')[0] } },
  pusher: { name: 'e2e' },
  commits: [],
});

test('the scheduled handler re-syncs a tracked project whose branch moved (trigger cron)', async () => {
  repo.write('src/main.rs', 'fn main() { println!("c2"); }\n');
  repo.write('src/lib.rs', 'pub fn c2() {}\n');
  c.c2 = repo.commit('c2');
  const res = await world.triggerScheduled();
  assert.ok(res.status >= 200 && res.status < 300, `scheduled trigger: ${res.status} ${res.text}`);
  const cron = await waitForSyncIn(tracked, (x) => x.trigger === 'cron', 'with trigger cron');
  const done = await alice.waitSync(cron.id);
  assert.equal(done.status, 'COMPLETE', JSON.stringify(done));
  assert.equal(done.trigger, 'cron');
  assert.equal(done.kind, 'sync');
  assert.equal(done.branch, 'main');
  assert.equal(done.commitSha, c.c2);
  assert.equal(done.previousSyncId, s.first);
  assert.deepEqual(done.counts, expectedCounts(repo, c.c1, c.c2).counts);
  assert.deepEqual(fileShape(await alice.files(tracked.id)), expectedFiles(repo, c.c2));
  const p = await alice.getJson(`/api/v1/projects/${tracked.id}`);
  assert.equal(p.currentSyncId, cron.id);
  assert.equal(p.currentCommitSha, c.c2);
  const h = await history(tracked);
  assert.deepEqual(h.map((x) => x.id), [cron.id, s.first]);
  assert.deepEqual(await history(untracked), [], 'an untracked project is never synced by cron');
  s.cron = cron.id;
});

test('a tick with no new commit writes no sync row and costs one GitHub request answered 304', async () => {
  const before = await history(tracked);
  world.emulator.resetStats();
  const res = await world.triggerScheduled();
  assert.ok(res.status >= 200 && res.status < 300, `scheduled trigger: ${res.status} ${res.text}`);
  // Wait for the conditional request to show up, then give the handler a moment to do more.
  const until = Date.now() + 30_000;
  while (world.emulator.stats().total === 0 && Date.now() < until) await sleep(100);
  await sleep(1500);
  const st = world.emulator.stats();
  const summary = JSON.stringify(st.log.map((e) => [e.method, e.path, e.route, e.status, e.headers['if-none-match']]));
  assert.equal(st.total, 1, `exactly one GitHub request: ${summary}`);
  assert.equal(st.log[0].route, 'ref', summary);
  assert.equal(st.log[0].status, 304, summary);
  assert.match(st.log[0].path, /\/repos\/acme\/widgets\/git\/ref\/heads\/main/, summary);
  assert.ok(st.log[0].headers['if-none-match'], 'a conditional request (If-None-Match)');
  assert.equal(st.notModified, 1);
  assert.deepEqual(await history(tracked), before, 'no new sync row');
  assert.deepEqual(await history(untracked), []);
});

test('a signed push webhook starts a sync with trigger webhook (202)', async () => {
  repo.write('README.md', '# widgets\n\nc3\n');
  repo.remove('scripts/go.sh');
  c.c3 = repo.commit('c3');
  s.delivery = crypto.randomUUID();
  const res = await postWebhook('push', pushPayload(c.c3), { delivery: s.delivery });
  assert.equal(res.status, 202, res.text);
  const hook = await waitForSyncIn(tracked, (x) => x.trigger === 'webhook', 'with trigger webhook', 10_000);
  const done = await alice.waitSync(hook.id);
  assert.equal(done.status, 'COMPLETE', JSON.stringify(done));
  assert.equal(done.trigger, 'webhook');
  assert.equal(done.commitSha, c.c3);
  assert.equal(done.previousSyncId, s.cron);
  assert.deepEqual(fileShape(await alice.files(tracked.id)), expectedFiles(repo, c.c3));
  assert.deepEqual(await history(untracked), [], 'an untracked project is never synced by a webhook');
  s.hook = hook.id;
  assert.equal((await history(tracked)).length, 3);
});

test('a badly signed webhook is 401 and starts nothing', async () => {
  const before = await history(tracked);
  const payload = pushPayload(c.c3);
  assertError(await postWebhook('push', payload, { sign: 'not-the-secret' }), 401, 'unauthorized', 'wrong secret');
  assertError(await postWebhook('push', payload, { sign: false }), 401, 'unauthorized', 'no signature');
  assertError(await postWebhook('push', payload, { signature: 'sha256=' + '0'.repeat(64) }), 401, 'unauthorized', 'zero signature');
  assertError(await postWebhook('push', payload, { signature: 'sha1=' + crypto.createHmac('sha1', SECRET).update(JSON.stringify(payload)).digest('hex') }), 401, 'unauthorized', 'sha1 signature');
  // A signature over a different body.
  const other = JSON.stringify(pushPayload(c.c2));
  assertError(await postWebhook('push', payload, { signature: signWebhook(SECRET, other) }), 401, 'unauthorized', 'signature of another body');
  assert.deepEqual(await history(tracked), before);
});

test('a repeated X-GitHub-Delivery is ignored', async () => {
  const before = await history(tracked);
  const res = await postWebhook('push', pushPayload(c.c3), { delivery: s.delivery });
  assert.ok(res.status >= 200 && res.status < 300, `repeated delivery: ${res.status} ${res.text}`);
  await sleep(300);
  assert.deepEqual(await history(tracked), before, 'no new sync for a repeated delivery');
});

test('pushes to another branch or repository start nothing; ping answers 200', async () => {
  const before = await history(tracked);
  for (const payload of [pushPayload(c.c3, 'refs/heads/other'), pushPayload(c.c3, 'refs/heads/main', 'acme/elsewhere'), pushPayload(c.c3, 'refs/tags/v1')]) {
    const res = await postWebhook('push', payload);
    assert.ok(res.status >= 200 && res.status < 300, `${payload.ref} of ${payload.repository.full_name}: ${res.status} ${res.text}`);
  }
  const ping = await postWebhook('ping', { zen: 'Keep it logically awesome.', hook_id: 1, hook: { type: 'Repository' } });
  assert.equal(ping.status, 200, ping.text);
  await sleep(300);
  assert.deepEqual(await history(tracked), before);
});
