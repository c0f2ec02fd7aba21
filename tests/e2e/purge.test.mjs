// Deleting a project deletes its text (CONTRACT.md, additions of 2026-12-07): every stored
// text, full-text entry and R2 pack that no other project references goes on the next cron
// ticks; another project on the same repository keeps its own, and while a sync of the
// repository runs nothing of it is swept. What is stored is read from the admin diagnostics
// (`?repository=`: the bucket's objects, the content rows and full-text entries of every
// database).

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, worldTest, createRepo, sleep } from '../support/harness.mjs';

let world;
let alice;
const test = worldTest(() => world);

async function stored(repository) {
  const res = await world.api('GET', `/api/v1/_diagnostics?repository=${repository}`, { token: world.adminToken });
  assert.equal(res.status, 200, res.text);
  return res.json.content;
}

/** Cron ticks until `pred(stored)` holds (the sweep is bounded per tick). */
async function tickUntil(repository, pred, what) {
  let last;
  for (let i = 0; i < 10; i++) {
    assert.ok((await world.triggerScheduled()).status < 300);
    last = await stored(repository);
    if (pred(last)) return last;
    await sleep(300);
  }
  throw new Error(`${what}: ${JSON.stringify(last)}`);
}

before(async () => {
  world = await startWorld();
  alice = await world.createUser('alice');
});

after(async () => {
  await world?.stop();
});

test("a deleted project's private repository text is gone from D1 and R2", async () => {
  const repo = createRepo(world.root, 'acme', 'private-notes');
  repo.write('notes/plan.md', 'the secret plan: obsidianwharf\n');
  repo.write('notes/more.md', 'more secrets: cobaltlantern\n');
  repo.write('logo.bin', Buffer.from([0, 1, 2, 3, 0, 255]));
  repo.commit('c1');
  const project = await alice.createProject({ name: 'private', repository: 'acme/private-notes' });
  await alice.syncAndWait(project.id);
  const before = await stored('acme/private-notes');
  assert.ok(before.objects >= 1 && before.rows >= 3 && before.ftsEntries >= 2, `stored: ${JSON.stringify(before)}`);
  const del = await alice.api('DELETE', `/api/v1/projects/${project.id}`);
  assert.equal(del.status, 204, del.text);
  const after = await tickUntil('acme/private-notes', (c) => c.objects === 0 && c.rows === 0 && c.ftsEntries === 0, 'nothing of it stays');
  assert.equal(after.bytes, 0);
});

test('a pack swept away is stored again by a later project, served, searched, and swept again', async () => {
  const repo = createRepo(world.root, 'acme', 'twice-stored');
  repo.write('notes/again.md', 'stored twice: saffronmeridian\n');
  repo.commit('c1');
  const gone = (c) => c.objects === 0 && c.rows === 0 && c.ftsEntries === 0;
  const first = await alice.createProject({ name: 'first', repository: 'acme/twice-stored' });
  await alice.syncAndWait(first.id);
  const stored1 = await stored('acme/twice-stored');
  assert.equal((await alice.api('DELETE', `/api/v1/projects/${first.id}`)).status, 204);
  await tickUntil('acme/twice-stored', gone, 'the first project\'s text goes');

  // The same batch again: the same pack key, a new pack row and ledger.
  const second = await alice.createProject({ name: 'second', repository: 'acme/twice-stored' });
  await alice.syncAndWait(second.id);
  assert.deepEqual(await stored('acme/twice-stored'), stored1, 'stored again exactly as the first time');
  const content = await alice.get(`/api/v1/projects/${second.id}/files/content?path=notes/again.md`);
  assert.equal(content.status, 200, content.text);
  assert.equal(content.text, 'stored twice: saffronmeridian\n');
  const hits = await alice.getJson(`/api/v1/projects/${second.id}/memory?q=saffronmeridian`);
  assert.deepEqual(hits.items.map((m) => m.path), ['notes/again.md']);
  assert.match(hits.items[0].text, /saffronmeridian/);
  assert.equal((await alice.api('DELETE', `/api/v1/projects/${second.id}`)).status, 204);
  await tickUntil('acme/twice-stored', gone, 'the second project\'s text goes too');
});

test('another project on the same repository keeps its own text, searchable and served', async () => {
  const repo = createRepo(world.root, 'acme', 'shared');
  repo.write('shared.md', 'both projects hold this: tamarindgate\n');
  repo.commit('c1');
  const keeper = await alice.createProject({ name: 'keeper', repository: 'acme/shared' });
  await alice.syncAndWait(keeper.id);
  const kept = await stored('acme/shared');
  repo.write('only-gone.md', 'only the deleted project held this: vermilionquarry\n');
  repo.commit('c2');
  // The second project's first sync stores only what the first does not hold: its own pack.
  const gone = await alice.createProject({ name: 'gone', repository: 'acme/shared' });
  await alice.syncAndWait(gone.id);
  const both = await stored('acme/shared');
  assert.equal(both.objects, kept.objects + 1, `one pack more: ${JSON.stringify([kept, both])}`);
  assert.equal(both.rows, kept.rows + 1);

  // While a sync of the repository runs, nothing of it is swept (a dry run here, which holds
  // the keeper's versions as they are: a sync would take the new file in too).
  await world.armFault('d1.slow', 400);
  const running = await alice.startSync(keeper.id, { dryRun: true });
  assert.equal((await alice.api('DELETE', `/api/v1/projects/${gone.id}`)).status, 204);
  assert.ok((await world.triggerScheduled()).status < 300);
  assert.deepEqual(await stored('acme/shared'), both, 'kept while a sync of the repository runs');
  await world.armFault('d1.slow', 0);
  assert.equal((await alice.waitSync(running.sync.id)).status, 'COMPLETE');

  const swept = await tickUntil('acme/shared', (c) => c.rows === kept.rows, 'the deleted project\'s own text goes');
  assert.deepEqual(swept, kept, 'exactly what the keeper stored stays');
  const hits = await alice.getJson(`/api/v1/projects/${keeper.id}/memory?q=tamarindgate`);
  assert.deepEqual(hits.items.map((m) => m.path), ['shared.md'], 'the keeper still finds its text');
  assert.match(hits.items[0].text, /tamarindgate/);
  const content = await alice.get(`/api/v1/projects/${keeper.id}/files/content?path=shared.md`);
  assert.equal(content.status, 200, content.text);
  assert.equal(content.text, 'both projects hold this: tamarindgate\n');
});

test('a repository larger than one pass is swept after a single tick: each pass asks for the next', async () => {
  const repo = createRepo(world.root, 'acme', 'many-notes');
  // 2,400 texts: more than one pass takes (8 pages of 250 rows).
  for (let i = 0; i < 2_400; i++) repo.write(`notes/n${String(i).padStart(4, '0')}.md`, `note ${i}: pass-chain-${i}\n`);
  repo.commit('c1');
  const project = await alice.createProject({ name: 'many', repository: 'acme/many-notes' });
  await alice.syncAndWait(project.id);
  assert.ok((await stored('acme/many-notes')).rows >= 2_400);
  assert.equal((await alice.api('DELETE', `/api/v1/projects/${project.id}`)).status, 204);
  assert.ok((await world.triggerScheduled()).status < 300, 'one tick, then no more');
  let last;
  for (const until = Date.now() + 90_000; Date.now() < until; await sleep(500)) {
    last = await stored('acme/many-notes');
    if (last.objects === 0 && last.rows === 0 && last.ftsEntries === 0) return;
  }
  throw new Error(`the sweep stopped after the tick's own pass: ${JSON.stringify(last)}`);
});
