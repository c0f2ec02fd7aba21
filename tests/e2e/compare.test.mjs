// Compare two states (CONTRACT.md, "Compare two states"): for every pair of completed syncs
// over a history with modifications, exact renames, deletes and re-adds, in either
// direction and from the empty state, the changes equal `git diff --name-status -M` between
// the two commits, with the blob ids `git rev-parse` gives; pages are one snapshot; nothing
// is asked of GitHub.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startWorld, worldTest, createRepo, assertError, byteCompare } from '../support/harness.mjs';

const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const CHANGE = { A: 'added', M: 'modified', D: 'removed', R: 'renamed' };
let world;
let repo;
let alice;
let project;
/** [{ commit, syncId }] in history order. */
const states = [];
const test = worldTest(() => world);

/** Text no other file resembles, so git's similarity never pairs it with another. */
const unique = (name) => `${name}\n${Array.from({ length: 8 }, () => crypto.randomBytes(40).toString('hex')).join('\n')}\n`;

async function commitAndSync(edit, message) {
  edit();
  const commit = repo.commit(message);
  const { done } = await alice.syncAndWait(project.id);
  assert.equal(done.commitSha, commit);
  states.push({ commit, syncId: done.id });
}

before(async () => {
  world = await startWorld();
  repo = createRepo(world.root, 'acme', 'compare');
  alice = await world.createUser('alice');
  for (const f of ['a.txt', 'b.txt', 'c.txt', 'd/x.txt', 'keep.txt']) repo.write(f, unique(f));
  const first = repo.commit('first');
  project = await alice.createProject({ name: 'compare', repository: 'acme/compare' });
  const { done } = await alice.syncAndWait(project.id);
  states.push({ commit: first, syncId: done.id });
  await commitAndSync(() => {
    repo.write('a.txt', unique('a.txt, two'));
    repo.move('b.txt', 'b2.txt');
    repo.remove('c.txt');
  }, 'modify, rename, delete');
  await commitAndSync(() => {
    repo.write('c.txt', unique('c.txt, again'));
    repo.move('d/x.txt', 'e/x.txt');
    repo.write('b2.txt', unique('b2.txt, rewritten'));
  }, 're-add, rename a directory, rewrite');
  await commitAndSync(() => {
    repo.remove('a.txt');
    repo.write('f.txt', unique('f.txt'));
    repo.write('e/x.txt', unique('e/x.txt, rewritten'));
    repo.move('keep.txt', 'kept/keep.txt');
  }, 'delete, add, rewrite, move');
});

after(async () => {
  await world?.stop();
});

/** What the API must answer for from -> to, from git. */
function expected(fromCommit, toCommit) {
  const blob = (commit, path) => repo.git(['rev-parse', `${commit}:${path}`]).trim();
  return repo
    .diffNameStatus(fromCommit, toCommit)
    .map((d) => {
      const item = { path: d.path, change: CHANGE[d.status] };
      // A rename's score is git's (`R087`: 87), read from git, not written down.
      if (d.status === 'R') Object.assign(item, { previousPath: d.previousPath, similarity: d.score });
      item.sha = d.status === 'D' ? blob(fromCommit, d.path) : blob(toCommit, d.path);
      if (d.status === 'M' || d.status === 'R') item.previousSha = blob(fromCommit, d.previousPath ?? d.path);
      return item;
    })
    .sort((x, y) => byteCompare(x.path, y.path));
}

const compare = (q, opts) => alice.listAll(`/api/v1/projects/${project.id}/compare${q}`, opts);

test('every pair of states, both ways and from the empty state, equals git diff -M', async () => {
  const requests = world.emulator.stats().total;
  const pairs = [];
  for (let i = -1; i < states.length; i++) {
    for (let j = 0; j < states.length; j++) if (i !== j) pairs.push([i, j]);
  }
  for (const [i, j] of pairs) {
    const from = i < 0 ? null : states[i];
    const to = states[j];
    const q = `?${from ? `from=${from.syncId}&` : ''}to=${to.syncId}`;
    const got = await compare(q);
    assert.deepEqual(got, expected(from?.commit ?? EMPTY_TREE, to.commit), `compare ${i} -> ${j}`);
  }
  assert.ok(pairs.length >= 16, `${pairs.length} pairs`);
  assert.equal(world.emulator.stats().total, requests, 'computed from what is held: no GitHub request');
});

test('omitted ends are the empty and the current state; pages are one snapshot', async () => {
  const last = states[states.length - 1];
  assert.deepEqual(await compare(''), expected(EMPTY_TREE, last.commit), 'empty -> current');
  assert.deepEqual(await compare(`?from=${states[0].syncId}`), expected(states[0].commit, last.commit));
  assert.deepEqual(await compare(`?from=${last.syncId}`), [], 'nothing since the current state');
  const paged = await compare(`?from=${states[0].syncId}`, { limit: 1 });
  assert.deepEqual(paged, expected(states[0].commit, last.commit), 'one at a time, the same');

  // A sync that completes between two pages changes none of them.
  const first = await alice.getJson(`/api/v1/projects/${project.id}/compare?from=${states[0].syncId}&limit=2`);
  repo.write('late.txt', unique('late'));
  repo.commit('late');
  await alice.syncAndWait(project.id);
  const rest = await alice.listAll(`/api/v1/projects/${project.id}/compare?from=${states[0].syncId}&cursor=${encodeURIComponent(first.nextCursor)}`);
  assert.deepEqual([...first.items, ...rest], expected(states[0].commit, last.commit));
});

test('only completed syncs of this project are ends: anything else is 404', async () => {
  for (const q of ['?from=nope', '?to=nope', `?from=${states[0].syncId}&to=nope`]) {
    assertError(await alice.get(`/api/v1/projects/${project.id}/compare${q}`), 404, 'not_found');
  }
  const bob = await world.createUser('bob');
  assertError(await bob.get(`/api/v1/projects/${project.id}/compare`), 404, 'not_found');
  const other = createRepo(world.root, 'acme', 'other');
  other.write('o.txt', 'o\n');
  other.commit('o');
  const theirs = await bob.createProject({ name: 'other', repository: 'acme/other' });
  const { done } = await bob.syncAndWait(theirs.id);
  assertError(await alice.get(`/api/v1/projects/${project.id}/compare?from=${done.id}`), 404, 'not_found');
});
