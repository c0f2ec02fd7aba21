// Appending a database moves no project (CONTRACT.md, additions of 2026-12-07): projects are
// created over two D1 databases, a sync of one of them is left running (its start never
// reached its object), and the runtime is restarted with a third binding appended. Every
// project is still found, its syncs readable, the running sync is ended in the database
// that holds it, and tracked projects are still synced by a push webhook and a cron tick —
// including the projects a hash over three bindings would now put in the new, empty one.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startWorld, worldTest, createRepo, sleep } from '../support/harness.mjs';
import { databaseConfig } from '../support/world.mjs';
import { pushPayload, deliverPush } from '../support/push.mjs';

const SECRET = 'webhook-secret-' + crypto.randomBytes(6).toString('hex');

/** The service's placement of a new project (`src/placement.rs`): jump hash of SHA-256(id). */
function hashPlacement(id, bindings) {
  let key = crypto.createHash('sha256').update(id).digest().readBigUInt64BE(0);
  let b = -1n;
  let j = 0n;
  const n = BigInt(bindings.length);
  while (j < n) {
    b = j;
    key = (key * 2862933555777941757n + 1n) & 0xffffffffffffffffn;
    j = BigInt(Math.trunc(Number(b + 1n) * (Number(1n << 31n) / Number((key >> 33n) + 1n))));
  }
  return bindings[Number(b < 0n ? 0n : b)];
}

let world;
let repo;
let alice;
const projects = [];
let stalled;
const commits = {};
const test = worldTest(() => world);

async function diagnostics(query = '') {
  const res = await world.api('GET', `/api/v1/_diagnostics${query}`, { token: world.adminToken });
  assert.equal(res.status, 200, res.text);
  return res.json;
}

/** Projects the hash over three bindings would put elsewhere than where they are. */
const movers = () => projects.filter((p) => hashPlacement(p.id, ['DB', 'DB2', 'DB3']) !== p.database);

before(async () => {
  world = await startWorld({ webhookSecret: SECRET, databases: 2 });
  repo = createRepo(world.root, 'acme', 'stay');
  repo.write('README.md', '# stay: lanternquay\n');
  commits.c1 = repo.commit('c1');
  alice = await world.createUser('alice');
  for (let i = 0; i < 60 && (movers().length < 3 || projects.length < 6); i++) {
    const p = await alice.createProject({ name: `stay-${i}`, repository: 'acme/stay', tracked: true });
    p.database = (await diagnostics(`?project=${p.id}`)).projectDatabase;
    assert.equal(p.database, hashPlacement(p.id, ['DB', 'DB2']), 'a new project is placed by the hash over today\'s bindings');
    projects.push(p);
  }
  assert.ok(movers().length >= 3, `projects a third binding would move: ${movers().length} of ${projects.length}`);
});

after(async () => {
  await world?.stop();
});

async function waitFor(project, pred, what, timeoutMs = 90_000) {
  const until = Date.now() + timeoutMs;
  let seen = [];
  while (Date.now() < until) {
    seen = await alice.listAll(`/api/v1/projects/${project.id}/syncs`);
    const hit = seen.find(pred);
    if (hit && ['COMPLETE', 'FAILED', 'CANCELLED'].includes(hit.status)) return hit;
    await sleep(250);
  }
  throw new Error(`no finished ${what} sync of ${project.name} (${project.database}): ${JSON.stringify(seen.map((s) => [s.trigger, s.status]))}`);
}

test('a third database appended: every project stays where it was, a running sync is ended there, and cron and webhooks still reach them all', async () => {
  for (const p of projects) p.first = (await alice.syncAndWait(p.id)).done;
  // A sync whose start never reaches its object: its row stays QUEUED until the reaper ends it.
  stalled = movers()[0];
  await world.armFault('object.start');
  const started = await alice.startSync(stalled.id);
  assert.equal(started.sync.status, 'QUEUED');
  stalled.stuck = started.sync;

  // Restart with DB3 appended (migrated like the others).
  const three = databaseConfig(3);
  world.runtime.config = three.config;
  world.runtime.databases = three.bindings;
  world.vars.PROJECT_DATABASES = three.vars.PROJECT_DATABASES;
  await world.runtime.stop();
  await world.runtime.migrate();
  await world.restart();
  const d = await diagnostics();
  assert.deepEqual(d.databases.map((x) => x.binding), ['DB', 'DB2', 'DB3']);
  assert.equal(d.databases[2].projects, 0, 'the new database holds nothing');

  for (const p of projects) {
    assert.equal((await diagnostics(`?project=${p.id}`)).projectDatabase, p.database, `${p.name} stays in ${p.database}`);
    const got = await alice.get(`/api/v1/projects/${p.id}`);
    assert.equal(got.status, 200, `${p.name} (${p.database}) is found: ${got.text}`);
    const history = await alice.listAll(`/api/v1/projects/${p.id}/syncs`);
    assert.ok(history.some((s) => s.id === p.first.id), `${p.name}: its history is readable`);
    assert.equal((await alice.getJson(`/api/v1/syncs/${p.first.id}`)).status, 'COMPLETE');
    assert.ok((await alice.files(p.id)).length > 0, `${p.name}: its files are readable`);
  }
  const fresh = await alice.createProject({ name: 'after-the-append', repository: 'acme/stay' });
  assert.equal((await diagnostics(`?project=${fresh.id}`)).projectDatabase, hashPlacement(fresh.id, ['DB', 'DB2', 'DB3']), 'new projects use every binding');

  // The reaper ends the stuck row in the database it read it from (after REAPER_GRACE_MS).
  await sleep(3_500);
  const tick = await world.triggerScheduled();
  assert.ok(tick.status < 300, `scheduled: ${tick.status}`);
  const until = Date.now() + 30_000;
  let row;
  for (;;) {
    row = await alice.getJson(`/api/v1/syncs/${stalled.stuck.id}`);
    if (row.status !== 'QUEUED' || Date.now() > until) break;
    await sleep(250);
  }
  assert.equal(row.status, 'FAILED', `the stuck sync of ${stalled.name} (${stalled.database}) is ended: ${JSON.stringify(row)}`);
  assert.match(row.error, /never reached its worker/);
  // That tick's head checks (all heads unmoved) drain from the queue before the branch moves,
  // so the push below is what each project syncs to.
  await sleep(6_000);

  // A push reaches every tracked project, then a cron tick does.
  repo.write('README.md', '# stay: moved on\n');
  commits.c2 = repo.commit('c2');
  const { res } = await deliverPush(world, SECRET, pushPayload({ after: commits.c2, fullName: 'acme/stay' }));
  assert.equal(res.status, 202, res.text);
  for (const p of projects) {
    const s = await waitFor(p, (x) => x.trigger === 'webhook' && x.commitSha === commits.c2, 'webhook');
    assert.equal(s.status, 'COMPLETE', `${p.name} (${p.database}): ${JSON.stringify(s)}`);
  }
  repo.write('README.md', '# stay: and again\n');
  commits.c3 = repo.commit('c3');
  assert.ok((await world.triggerScheduled()).status < 300);
  for (const p of projects) {
    const s = await waitFor(p, (x) => x.trigger === 'cron' && x.commitSha === commits.c3, 'cron');
    assert.equal(s.status, 'COMPLETE', `${p.name} (${p.database}): ${JSON.stringify(s)}`);
  }
  const after3 = await diagnostics();
  assert.equal(after3.databases[2].projects, fresh && hashPlacement(fresh.id, ['DB', 'DB2', 'DB3']) === 'DB3' ? 1 : 0, 'nothing moved into DB3');
});
