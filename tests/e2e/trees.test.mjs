// Trees GitHub truncates (GET git/trees/{sha}?recursive=1 answers at most N entries, a
// depth-first prefix): with the emulator's limit lowered to a few dozen entries, a mixed-depth
// repository is still held exactly as `git ls-tree -r` lists it, first sync and later ones;
// the directories a truncated answer provably holds whole are not listed again (the request
// log); names GitHub escapes in JSON survive; a single directory wider than the limit
// fails the sync with a clear reason and leaves the held state as it was. A first sync
// with many small directories left to list reads them from the tarball (`git archive`),
// keeping each one whose tree id it rebuilds and listing the others: those `.gitattributes`
// alters (export-subst, export-ignore) or that hold a symlink.

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

test('a first sync with many subtrees left proves them from the tarball, lists the rest', async () => {
  const mono = createRepo(world.root, 'acme', 'mono');
  mono.write('.gitattributes', 'pkgs/p10/** export-subst\npkgs/p11/src/f0 export-ignore\n');
  for (let i = 0; i < 30; i++) mono.write(`a-big/f${i}.txt`, `big ${i}\n`);
  for (let p = 0; p < 30; p++) for (let i = 0; i < 3; i++) mono.write(`pkgs/p${String(p).padStart(2, '0')}/src/f${i}`, `package ${p} file ${i}\n`);
  mono.write('pkgs/p10/src/f1', 'expanded by git archive: $Format:%H$\n');
  mono.write('pkgs/p12/src/run.sh', '#!/bin/sh\necho run\n', { mode: 0o755 });
  mono.symlink('pkgs/p13/src/link', 'f0');
  const commit = mono.commit('packages');
  const owner = await alice.createProject({ name: 'packages', repository: 'acme/mono' });
  const from = world.emulator.stats().log.length;
  const { done } = await alice.syncAndWait(owner.id);
  assert.deepEqual(fileShape(await alice.files(owner.id)), expectedFiles(mono, commit));
  const log = world.emulator.stats().log.slice(from);
  const trees = log.filter((e) => e.route === 'tree');
  const tarballs = log.filter((e) => e.route === 'tarball');
  const walk = analyse(lsTree(mono.gitDir, commit), LIMIT);
  // The walk alone would list every package after the cut one by one.
  assert.ok(walk.today > 20, `the walk alone: ${walk.today} tree requests`);
  // The tarball is read for the listing and again for contents; p10, p11 and p13 are listed.
  assert.equal(tarballs.length, 2, JSON.stringify(log.map((e) => e.path)));
  assert.ok(trees.length <= 8, `${trees.length} tree requests: ${trees.map((e) => e.path).join(' ')}`);
  // After the tarball: exactly the packages it could not prove, each in one recursive listing.
  const afterTarball = log.slice(log.indexOf(tarballs[0]) + 1).filter((e) => e.route === 'tree' && e.path.includes('recursive=1'));
  const idOf = (dir) => mono.git(['rev-parse', `${commit}:${dir}`]).toString().trim();
  const expectedListed = ['pkgs/p10', 'pkgs/p11', 'pkgs/p13'].map(idOf).sort();
  assert.deepEqual(afterTarball.map((e) => e.path.match(/trees\/([0-9a-f]{40})/)[1]).sort(), expectedListed);
  assert.equal(done.counts.added, expectedFiles(mono, commit).length);
});
