// Projects spread over two D1 databases (PROJECT_DATABASES=DB,DB2, both real local D1):
// each project lives whole in the one its id hashes to, and nothing a user sees tells the
// databases apart. Listings page across both in creation order; syncs, files?at=, restores
// and memory search work in each; a push webhook and a cron tick reach tracked projects in
// both; another user sees none of them.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startWorld, worldTest, createRepo, expectedFiles, fileShape, sleep } from '../support/harness.mjs';
import { pushPayload, deliverPush } from '../support/push.mjs';

const SECRET = 'webhook-secret-' + crypto.randomBytes(6).toString('hex');
const DATABASES = ['DB', 'DB2'];
/** Projects per database the test wants before it goes on (ids are random: keep creating). */
const PER_DATABASE = 2;

let world;
let repo;
let alice;
/** Every project created, in creation order, each with `database` (from diagnostics). */
const projects = [];
const commits = {};
const test = worldTest(() => world);

async function diagnostics(query = '') {
  const res = await world.api('GET', `/api/v1/_diagnostics${query}`, { token: world.adminToken });
  assert.equal(res.status, 200, res.text);
  return res.json;
}

const inDatabase = (binding) => projects.filter((p) => p.database === binding);

before(async () => {
  world = await startWorld({ webhookSecret: SECRET, databases: DATABASES.length });
  repo = createRepo(world.root, 'acme', 'spread');
  repo.write('README.md', '# spread: quillfeather\n');
  repo.write('src/lib.rs', 'pub fn one() {}\n');
  commits.c1 = repo.commit('c1');
  alice = await world.createUser('alice');
  for (let i = 0; i < 40 && DATABASES.some((b) => inDatabase(b).length < PER_DATABASE); i++) {
    const p = await alice.createProject({ name: `spread-${i}`, repository: 'acme/spread', tracked: true });
    p.database = (await diagnostics(`?project=${p.id}`)).projectDatabase;
    projects.push(p);
  }
});

after(async () => {
  await world?.stop();
});

async function waitForSync(project, pred, what, timeoutMs = 90_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const hit = (await alice.listAll(`/api/v1/projects/${project.id}/syncs`)).find(pred);
    if (hit && ['COMPLETE', 'FAILED', 'CANCELLED'].includes(hit.status)) return hit;
    await sleep(250);
  }
  throw new Error(`no finished ${what} sync of ${project.name} (${project.database})`);
}

test('projects land in both databases, and the listing pages across them in creation order', async () => {
  for (const b of DATABASES) assert.ok(inDatabase(b).length >= PER_DATABASE, `${b} holds ${inDatabase(b).length} of ${projects.length}`);
  const d = await diagnostics();
  assert.deepEqual(d.databases.map((x) => x.binding), DATABASES);
  for (const x of d.databases) assert.equal(x.projects, inDatabase(x.binding).length, `${x.binding}: ${JSON.stringify(d.databases)}`);
  const want = [...projects].sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1)).map((p) => p.id);
  assert.deepEqual((await alice.listAll('/api/v1/projects', { limit: 1 })).map((p) => p.id), want, 'pages of one');
  assert.deepEqual((await alice.listAll('/api/v1/projects', { limit: 3 })).map((p) => p.id), want, 'pages of three');
  assert.deepEqual((await alice.listAll('/api/v1/projects')).map((p) => p.id), want, 'one page');
});

test('another user sees none of them, in either database', async () => {
  const bob = await world.createUser('bob');
  assert.deepEqual(await bob.listAll('/api/v1/projects'), []);
  for (const b of DATABASES) {
    const p = inDatabase(b)[0];
    assert.equal((await bob.get(`/api/v1/projects/${p.id}`)).status, 404, `${b}: bob reads alice's project`);
    assert.equal((await bob.post(`/api/v1/projects/${p.id}/syncs`, {})).status, 404, `${b}: bob syncs alice's project`);
  }
});

test('in each database: a sync, a second commit, files?at=, a restore and memory search', async () => {
  const firsts = {};
  for (const b of DATABASES) firsts[b] = (await alice.syncAndWait(inDatabase(b)[0].id)).done;
  repo.write('src/lib.rs', 'pub fn two() {}\n');
  repo.write('docs/guide.md', 'the guide: marzipanorbit\n');
  repo.remove('README.md');
  commits.c2 = repo.commit('c2');
  for (const b of DATABASES) {
    const p = inDatabase(b)[0];
    const first = firsts[b];
    const { done: second } = await alice.syncAndWait(p.id);
    assert.equal(second.previousSyncId, first.id, `${b}: the chain links`);
    assert.deepEqual(fileShape(await alice.files(p.id)), expectedFiles(repo, commits.c2), `${b}: files after c2`);
    assert.deepEqual(fileShape(await alice.files(p.id, { at: first.id })), expectedFiles(repo, commits.c1), `${b}: files?at= the first sync`);
    const found = await alice.getJson(`/api/v1/projects/${p.id}/memory?q=marzipanorbit`);
    assert.deepEqual(found.items.map((m) => m.path), ['docs/guide.md'], `${b}: memory search`);
    const gone = await alice.getJson(`/api/v1/projects/${p.id}/memory?q=quillfeather`);
    assert.deepEqual(gone.items, [], `${b}: the deleted README is not found`);
    const res = await alice.post(`/api/v1/projects/${p.id}/restore`, { syncId: first.id });
    assert.equal(res.status, 202, `${b}: restore: ${res.text}`);
    const restored = await alice.waitSync(res.json.sync.id);
    assert.equal(restored.status, 'COMPLETE', JSON.stringify(restored));
    assert.deepEqual(fileShape(await alice.files(p.id)), expectedFiles(repo, commits.c1), `${b}: files after the restore`);
    assert.equal((await alice.getJson(`/api/v1/syncs/${restored.id}`)).projectId, p.id, `${b}: the sync is found by id alone`);
  }
});

test('a push webhook and a cron tick reach the tracked projects of both databases', async () => {
  repo.write('src/lib.rs', 'pub fn three() {}\n');
  commits.c3 = repo.commit('c3');
  const { res } = await deliverPush(world, SECRET, pushPayload({ after: commits.c3, fullName: 'acme/spread' }));
  assert.equal(res.status, 202, res.text);
  for (const p of projects) {
    const s = await waitForSync(p, (x) => x.trigger === 'webhook' && x.commitSha === commits.c3, 'webhook');
    assert.equal(s.status, 'COMPLETE', `${p.name} (${p.database}): ${JSON.stringify(s)}`);
  }
  repo.write('src/lib.rs', 'pub fn four() {}\n');
  commits.c4 = repo.commit('c4');
  const tick = await world.triggerScheduled();
  assert.ok(tick.status < 300, `scheduled: ${tick.status}`);
  for (const p of projects) {
    const s = await waitForSync(p, (x) => x.trigger === 'cron' && x.commitSha === commits.c4, 'cron');
    assert.equal(s.status, 'COMPLETE', `${p.name} (${p.database}): ${JSON.stringify(s)}`);
  }
  for (const b of DATABASES) assert.deepEqual(fileShape(await alice.files(inDatabase(b)[0].id)), expectedFiles(repo, commits.c4), b);
});
