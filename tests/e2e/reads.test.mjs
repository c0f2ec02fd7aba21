// Pages that cost what they hold (issue 19, CONTRACT.md "Bounds that hold for every request
// and every user"): compare, a sync's changes and files read D1 in proportion to the page
// (the worker says how many rows a page read in `x-d1-rows-read` while test faults are on),
// and their pages together equal git: `git ls-tree` from the empty state, `git diff
// --name-status -M` between states, with renames whose two sides sit pages apart. Memory
// search reads only each hit's chunk, stops a page at its byte budget and goes on exactly
// there: the chunks, put together, are the files' text from git.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startWorld, worldTest, createRepo, byteCompare } from '../support/harness.mjs';

const CHANGE = { A: 'added', M: 'modified', D: 'removed', R: 'renamed' };
const FILES = 1200;
let world;
let repo;
let alice;
let project;
let first;
let second;
const test = worldTest(() => world);

/** Text no other file resembles, so git's similarity never pairs it with another. */
const unique = (name) => `${name}\n${crypto.randomBytes(60).toString('hex')}\n`;

/** Writes many files at once and stages them with one `git add`. */
function writeMany(files) {
  for (const [p, text] of files) {
    fs.mkdirSync(path.dirname(path.join(repo.dir, p)), { recursive: true });
    fs.writeFileSync(path.join(repo.dir, p), text);
  }
  repo.git(['add', '-A']);
}

/** path -> blob id at a commit. */
function tree(commit) {
  const out = repo.git(['ls-tree', '-r', '-z', commit]);
  return new Map(out.split('\0').filter(Boolean).map((l) => [l.slice(l.indexOf('\t') + 1), l.split(' ')[2].split('\t')[0]]));
}

function expected(fromCommit, toCommit) {
  const [a, b] = [fromCommit ? tree(fromCommit) : new Map(), tree(toCommit)];
  if (!fromCommit) return [...b].map(([p, sha]) => ({ path: p, change: 'added', sha })).sort((x, y) => byteCompare(x.path, y.path));
  return repo
    .diffNameStatus(fromCommit, toCommit)
    .map((d) => {
      const item = { path: d.path, change: CHANGE[d.status] };
      // A rename's score is git's (`R087`: 87), read from git, not written down.
      if (d.status === 'R') Object.assign(item, { previousPath: d.previousPath, similarity: d.score });
      item.sha = d.status === 'D' ? a.get(d.path) : b.get(d.path);
      if (d.status === 'M' || d.status === 'R') item.previousSha = a.get(d.previousPath ?? d.path);
      return item;
    })
    .sort((x, y) => byteCompare(x.path, y.path));
}

/** Every page of a list with `limit`: the items, and the most D1 rows one page read. */
async function pages(p, limit) {
  const items = [];
  let cursor = null;
  let most = 0;
  for (let n = 0; n < 5000; n++) {
    const sep = p.includes('?') ? '&' : '?';
    const res = await alice.get(`${p}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(res.status, 200, `${p}: ${res.text.slice(0, 300)}`);
    const read = Number(res.headers.get('x-d1-rows-read'));
    assert.ok(Number.isFinite(read) && res.headers.has('x-d1-rows-read'), `${p}: the page says what it read`);
    most = Math.max(most, read);
    assert.ok(res.json.items.length <= limit);
    items.push(...res.json.items);
    if (res.json.nextCursor === null) return { items, most, pages: n + 1 };
    cursor = res.json.nextCursor;
  }
  throw new Error(`${p}: too many pages`);
}

before(async () => {
  world = await startWorld();
  repo = createRepo(world.root, 'acme', 'reads');
  alice = await world.createUser('alice');
  const files = [];
  for (let i = 0; i < FILES; i++) {
    const p = `${['a', 'm', 'q'][i % 3]}/d${String(i % 40).padStart(2, '0')}/f${String(i).padStart(4, '0')}.txt`;
    files.push([p, unique(p)]);
  }
  writeMany(files);
  first = repo.commit('many files');
  project = await alice.createProject({ name: 'reads', repository: 'acme/reads' });
  assert.equal((await alice.syncAndWait(project.id)).done.status, 'COMPLETE');
  // Renames from the start of the path order to its end, modifications and removals between.
  for (let i = 0; i < 60; i++) repo.move(`a/d${String((i * 3) % 40).padStart(2, '0')}/f${String(i * 3).padStart(4, '0')}.txt`, `z/moved/f${i}.txt`);
  for (let i = 0; i < 30; i++) repo.write(`m/d${String((i * 3 + 1) % 40).padStart(2, '0')}/f${String(i * 3 + 1).padStart(4, '0')}.txt`, unique(`m${i}`));
  for (let i = 30; i < 50; i++) repo.remove(`q/d${String((i * 3 + 2) % 40).padStart(2, '0')}/f${String(i * 3 + 2).padStart(4, '0')}.txt`);
  second = repo.commit('move, modify, remove');
  const { done } = await alice.syncAndWait(project.id);
  assert.equal(done.status, 'COMPLETE');
  project.second = done.id;
  project.first = (await alice.getJson(`/api/v1/projects/${project.id}/syncs`)).items.find((s) => s.id !== done.id).id;
});

after(async () => {
  await world?.stop();
});

test('compare from the empty state reads in proportion to the page', async () => {
  const { items, most } = await pages(`/api/v1/projects/${project.id}/compare?to=${project.first}`, 50);
  assert.deepEqual(items, expected(null, first));
  // A page of 50 reads its windows (a bounded run of rows), never the 1,200 files.
  assert.ok(most <= 400, `a page of 50 read ${most} rows`);
});

test('compare between states, pages of every size, renames pages apart: equals git diff -M', async () => {
  for (const limit of [1, 7, 50, 500]) {
    const forward = await pages(`/api/v1/projects/${project.id}/compare?from=${project.first}&to=${project.second}`, limit);
    assert.deepEqual(forward.items, expected(first, second), `first -> second, pages of ${limit}`);
    const back = await pages(`/api/v1/projects/${project.id}/compare?from=${project.second}&to=${project.first}`, limit);
    assert.deepEqual(back.items, expected(second, first), `second -> first, pages of ${limit}`);
  }
});

test("a sync's changes read in proportion to the page and equal git", async () => {
  const all = await pages(`/api/v1/syncs/${project.first}/changes`, 50);
  assert.deepEqual(all.items.map(({ path: p, change, sha }) => ({ path: p, change, sha })), expected(null, first));
  assert.ok(all.most <= 400, `a page of 50 of a first sync's changes read ${all.most} rows`);
  for (const limit of [3, 50]) {
    const got = await pages(`/api/v1/syncs/${project.second}/changes`, limit);
    assert.deepEqual(got.items, expected(first, second), `pages of ${limit}`);
  }
});

test('files under a prefix: the last page reads nothing past the prefix', async () => {
  const { items, most } = await pages(`/api/v1/projects/${project.id}/files?prefix=a/d00/`, 3);
  const want = [...tree(second).keys()].filter((p) => p.startsWith('a/d00/')).sort(byteCompare);
  assert.ok(want.length > 6);
  assert.deepEqual(items.map((f) => f.path), want);
  // Each page reads its own rows: not the prefix's earlier pages, not the files after it.
  assert.ok(most <= 12, `a page of 3 files read ${most} rows`);
});

test("a path's history reads in proportion to the page", async () => {
  const shas = [];
  for (let i = 0; i < 20; i++) {
    repo.write('hot.txt', unique(`hot ${i}`));
    repo.commit(`hot ${i}`);
    assert.equal((await alice.syncAndWait(project.id)).done.status, 'COMPLETE');
    shas.push(repo.git(['rev-parse', 'HEAD:hot.txt']).trim());
  }
  const { items, most } = await pages(`/api/v1/projects/${project.id}/files/history?path=hot.txt`, 3);
  assert.deepEqual(items.map((v) => v.sha), shas.reverse(), 'every version, newest first');
  // Each page reads its own versions (and the head), not the path's 20.
  assert.ok(most <= 12, `a page of 3 versions read ${most} rows`);
});

test('memory search reads only its chunks, ends a page at its byte budget and goes on exactly there', async () => {
  const big = createRepo(world.root, 'acme', 'bigtext');
  const texts = new Map();
  for (let f = 0; f < 3; f++) {
    // ~900 KB of lines that all carry the word, so every chunk of every file is a hit.
    const lines = [];
    for (let i = 0; lines.join('').length < 900_000; i++) lines.push(`line ${i} of file ${f}: zephyrquartz ${crypto.randomBytes(24).toString('hex')}\n`);
    const p = `docs/big${f}.txt`;
    texts.set(p, lines.join(''));
    big.write(p, texts.get(p));
  }
  big.commit('large texts');
  const bigProject = await alice.createProject({ name: 'bigtext', repository: 'acme/bigtext' });
  assert.equal((await alice.syncAndWait(bigProject.id)).done.status, 'COMPLETE');

  const url = `/api/v1/projects/${bigProject.id}/memory?q=zephyrquartz&limit=500`;
  const firstPage = await alice.getJson(url);
  const bytes = (items) => items.reduce((n, m) => n + Buffer.byteLength(m.text), 0);
  assert.ok(firstPage.items.length < 500, `the budget ended the page early (${firstPage.items.length} entries)`);
  assert.ok(bytes(firstPage.items) <= 1024 * 1024, `a page holds at most 1 MiB of text (${bytes(firstPage.items)})`);
  assert.ok(bytes(firstPage.items) > 1024 * 1024 - 8192, 'and fills it');
  assert.equal(typeof firstPage.nextCursor, 'string');

  const all = await alice.listAll(url.replace('&limit=500', ''), { limit: 500 });
  assert.deepEqual(all.slice(0, firstPage.items.length), firstPage.items, 'the first page is the start of the whole');
  const ids = new Set(all.map((m) => m.id));
  assert.equal(ids.size, all.length, 'no entry twice');
  for (const [p, text] of texts) {
    const chunks = all.filter((m) => m.path === p).sort((x, y) => x.chunk - y.chunk);
    assert.deepEqual(chunks.map((m) => m.chunk), chunks.map((_, i) => i), `${p}: every chunk once`);
    assert.equal(chunks.map((m) => m.text).join(''), big.git(['show', `HEAD:${p}`]), `${p}: the chunks are the file's text`);
    assert.equal(chunks.map((m) => m.text).join(''), text);
  }
  // The listing (no query) keeps to the same budget.
  const listed = await alice.getJson(`/api/v1/projects/${bigProject.id}/memory?limit=500`);
  assert.ok(listed.items.length < 500 && bytes(listed.items) <= 1024 * 1024, 'the listing ends its page at the budget too');
});
