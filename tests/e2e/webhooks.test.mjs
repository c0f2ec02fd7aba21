// Push webhooks as GitHub sends them: GitHub's own example payloads (npm
// @octokit/webhooks-examples) grown to 300 KB and 2 MB, signed by @octokit/webhooks-methods;
// a delivery that failed is handled when GitHub redelivers it; repositories match whatever
// their case; and the answer comes at once however many projects track the branch (the
// fan-out runs on the real local Cloudflare Queue).

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startWorld, worldTest, createRepo, expectedFiles, fileShape, sleep } from '../support/harness.mjs';
import { pushPayload as examplePush, deliverPush } from '../support/push.mjs';

const SECRET = 'webhook-secret-' + crypto.randomBytes(6).toString('hex');

let world;
let repo;
let alice;
let tracked;
const test = worldTest(() => world);

before(async () => {
  world = await startWorld({ webhookSecret: SECRET });
  repo = createRepo(world.root, 'acme', 'hooked');
  repo.write('README.md', '# hooked\n');
  repo.commit('c1');
  alice = await world.createUser('alice');
  tracked = await alice.createProject({ name: 'Tracked', repository: 'acme/hooked', tracked: true });
  await alice.syncAndWait(tracked.id);
});

after(async () => {
  await world?.stop();
});

const pushPayload = ({ after, fullName = 'acme/hooked', bytes = 0 }) => examplePush({ after, fullName, bytes });
const deliver = (raw, opts) => deliverPush(world, SECRET, raw, opts);

async function waitForWebhookSync(project, commit, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const syncs = await alice.listAll(`/api/v1/projects/${project.id}/syncs`);
    const hit = syncs.find((s) => s.trigger === 'webhook' && s.status === 'COMPLETE' && s.commitSha === commit);
    if (hit) return hit;
    await sleep(200);
  }
  throw new Error(`no completed webhook sync of ${commit} for ${project.name}`);
}

for (const [label, bytes] of [['300 KB', 300 * 1024], ['2 MB', 2 * 1024 * 1024]]) {
  test(`a ${label} push payload (GitHub's example) is accepted and syncs the branch`, async () => {
    repo.write(`notes/${label.replace(' ', '')}.md`, `${label}\n`);
    const commit = repo.commit(`push of ${label}`);
    const raw = pushPayload({ after: commit, bytes });
    assert.ok(raw.length >= bytes, `${raw.length} bytes`);
    const { res, ms } = await deliver(raw);
    assert.equal(res.status, 202, res.text);
    assert.ok(ms < 2_000, `answered in ${ms} ms`);
    await waitForWebhookSync(tracked, commit);
    assert.deepEqual(fileShape(await alice.files(tracked.id)), expectedFiles(repo, commit));
  });
}

test('a delivery that failed is handled when GitHub redelivers it, and a repeat after that is ignored', async () => {
  repo.write('notes/redelivered.md', 'again\n');
  const commit = repo.commit('redelivered');
  const raw = pushPayload({ after: commit });
  await world.armFault('webhook.enqueue', 1);
  const failed = await deliver(raw);
  assert.equal(failed.res.status, 500, failed.res.text);
  assert.equal(failed.res.json?.error?.code, 'internal');
  const again = await deliver(raw, { delivery: failed.delivery });
  assert.equal(again.res.status, 202, again.res.text);
  await waitForWebhookSync(tracked, commit);
  // Recorded once its syncs were queued: now a repeat is ignored.
  const until = Date.now() + 10_000;
  let repeat;
  do {
    repeat = await deliver(raw, { delivery: failed.delivery });
    if (repeat.res.json?.ignored) break;
    await sleep(200);
  } while (Date.now() < until);
  assert.equal(repeat.res.status, 200, repeat.res.text);
  assert.equal(repeat.res.json.ignored, 'repeated delivery');
});

test('repositories match whatever their case', async () => {
  repo.write('notes/case.md', 'case\n');
  const commit = repo.commit('case');
  const { res } = await deliver(pushPayload({ after: commit, fullName: 'ACME/Hooked' }));
  assert.equal(res.status, 202, res.text);
  await waitForWebhookSync(tracked, commit);
});

test('a push tracked by 40 projects is answered at once and every project syncs', async () => {
  const many = [];
  for (let i = 0; i < 40; i++) many.push(await alice.createProject({ name: `fan-${i}`, repository: 'acme/hooked', tracked: true }));
  repo.write('notes/fan-out.md', 'fan out\n');
  const commit = repo.commit('fan out');
  const { res, ms } = await deliver(pushPayload({ after: commit }));
  assert.equal(res.status, 202, res.text);
  assert.ok(ms < 1_000, `answered in ${ms} ms`);
  for (const p of many) await waitForWebhookSync(p, commit, 120_000);
  for (const p of many.slice(0, 3)) assert.deepEqual(fileShape(await alice.files(p.id)), expectedFiles(repo, commit));
});
