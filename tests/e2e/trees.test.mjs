// Trees GitHub truncates (GET git/trees/{sha}?recursive=1 answers at most N entries, a
// depth-first prefix): with the emulator's limit lowered to a few dozen entries, a mixed-depth
// repository is still held exactly as `git ls-tree -r` lists it, first sync and later ones;
// the directories a truncated answer provably holds whole are not listed again (the request
// log); names GitHub escapes in JSON survive; a single directory wider than the limit
// fails the sync with a clear reason and leaves the held state as it was.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, worldTest, createRepo, expectedFiles, fileShape } from '../support/harness.mjs';
import { analyse, lsTree } from '../support/tree-walks.mjs';

/** Entries a recursive (or one-level) tree answer holds before GitHub cuts it. */
const LIMIT = 37;

let world;
let repo;
let alice;
let project;
const c = {};
const test = worldTest(() => world);

before(async () => {
  world = await startWorld();
  repo = createRepo(world.root, 'acme', 'trees');
  repo.write('README.md', '# trees\n');
  // JSON escapes on the wire: a quote, a backslash, non-ASCII and an astral character.
  repo.write('odd "quoted" \\ é 😀.txt', 'odd name\n');
  for (let i = 0; i < 30; i++) repo.write(`a/f${i}.txt`, `a ${i}\n`);
  for (let s = 0; s < 10; s++) for (let i = 0; i < 8; i++) repo.write(`big/s${s}/f${i}.txt`, `big ${s} ${i}\n`);
  repo.write('big/deep/x/y/z/w/leaf.txt', 'deep leaf\n');
  repo.write('big/deep/x/y/side.txt', 'side\n');
  for (let d = 0; d < 20; d++) for (let i = 0; i < 2; i++) repo.write(`zz/d${d}/f${i}.txt`, `zz ${d} ${i}\n`);
  c.c1 = repo.commit('c1');
  world.emulator.setOption('maxTreeEntries', LIMIT);
  alice = await world.createUser('alice');
  project = await alice.createProject({ name: 'truncated trees', repository: 'acme/trees' });
});

after(async () => {
  world?.emulator.setOption('maxTreeEntries', 100000);
  await world?.stop();
});

const held = async (at) => fileShape(await alice.files(project.id, { at }));
const treeRequests = (from) => world.emulator.stats().log.slice(from).filter((e) => e.route === 'tree');

test('a first sync of a tree GitHub truncates holds exactly what git lists', async () => {
  const from = world.emulator.stats().log.length;
  const { done } = await alice.syncAndWait(project.id);
  assert.deepEqual(await held(), expectedFiles(repo, c.c1));
  assert.equal(done.counts.added, expectedFiles(repo, c.c1).length);
  const trees = treeRequests(from);
  assert.ok(trees.some((e) => e.path.includes('recursive=1')), 'a recursive listing first');
  // Exactly the walk simulated from `git ls-tree -r -t` under the same truncation: the
  // directories a truncated answer proves whole are never asked for again, and every
  // directory it leaves open is (a tree's later subdirectories can only be listed one by one).
  const walk = analyse(lsTree(repo.gitDir, c.c1), LIMIT);
  assert.equal(trees.length, walk.today, `${trees.length} tree requests; ${walk.dirs} directories, floor ${walk.floor}`);
  assert.ok(trees.length < walk.dirs, `${trees.length} tree requests for ${walk.dirs} directories`);
  c.firstSync = done.id;
});

test('later syncs under a truncating GitHub equal git, deep and wide changes alike', async () => {
  repo.write('big/deep/x/y/z/w/leaf.txt', 'deep leaf, edited\n');
  repo.write('zz/d19/new.txt', 'new in the last small directory\n');
  repo.remove('a/f3.txt');
  c.c2 = repo.commit('c2');
  await alice.syncAndWait(project.id);
  assert.deepEqual(await held(), expectedFiles(repo, c.c2));
  // A restore of the first state walks back exactly.
  const res = await alice.post(`/api/v1/projects/${project.id}/restore`, { syncId: c.firstSync });
  assert.equal(res.status, 202, res.text);
  assert.equal((await alice.waitSync(res.json.sync.id)).status, 'COMPLETE');
  assert.deepEqual(await held(), expectedFiles(repo, c.c1));
  await alice.syncAndWait(project.id);
  assert.deepEqual(await held(), expectedFiles(repo, c.c2));
});

test('a directory wider than GitHub lists at once fails the sync and keeps the held state', async () => {
  for (let i = 0; i < LIMIT + 5; i++) repo.write(`flat/f${i}.txt`, `flat ${i}\n`);
  c.c3 = repo.commit('c3');
  const { done } = await alice.syncAndWait(project.id, {}, { expect: 'FAILED' });
  assert.match(done.error, /truncated the listing of flat/);
  assert.deepEqual(await held(), expectedFiles(repo, c.c2));
});
