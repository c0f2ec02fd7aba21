// Self-test of the GitHub emulator (tests/support/github-emulator.mjs) and the
// git fixture helpers (tests/support/gitfixture.mjs).
//
// Owns: checking every emulator answer against `git` run directly on the same
// repositories (trees vs `git ls-tree -r -t`, tarballs vs the index, branch
// lists vs `git for-each-ref`), plus pagination, ETag/304, rate limits, faults,
// auth, empty repositories, the GHES /api/v3 prefix and the standalone CLI.
//
// Run: node --test tests/emulator-selftest/

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import zlib from 'node:zlib';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { startGitHubEmulator } from '../support/github-emulator.mjs';
import {
  makeStandardRepo,
  createRepo,
  createEmptyRepo,
  cloneBare,
  BINARY_FIXTURE,
  parseLsTree,
  STANDARD_PATHS as P,
} from '../support/gitfixture.mjs';

const EMULATOR_PATH = fileURLToPath(new URL('../support/github-emulator.mjs', import.meta.url));
const TOKEN = 'selftest-token'; // tokens:null accepts any token; keeps us off the 60/h anonymous budget

let root;
let repo; // handle for acme/widgets
let gh; // emulator without auth

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-emulator-selftest-'));
  repo = makeStandardRepo(root);
  createEmptyRepo(root, 'acme', 'empty');
  gh = await startGitHubEmulator({ root });
});

after(async () => {
  await gh?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** fetch against an emulator; sends a User-Agent and (by default) a token. */
async function api(p, { base = gh.url, token = TOKEN, headers = {}, method = 'GET', redirect = 'manual' } = {}) {
  const h = { 'user-agent': 'emulator-selftest', ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  const res = await fetch(base + p, { method, headers: h, redirect });
  const buf = Buffer.from(await res.arrayBuffer());
  let json;
  try {
    json = JSON.parse(buf.toString('utf8'));
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, buf, json };
}

/** GitHub tree entries -> the shape of handle.lsTree (size null for trees/commits). */
function normalize(entries) {
  return entries.map((e) => ({ path: e.path, mode: e.mode, type: e.type, sha: e.sha, size: e.size ?? null }));
}

/** Parse a Link header into { rel: url }. */
function parseLink(header) {
  const out = {};
  for (const part of (header ?? '').split(',')) {
    const m = /<([^>]+)>;\s*rel="([^"]+)"/.exec(part);
    if (m) out[m[2]] = m[1];
  }
  return out;
}

/** Minimal tar reader (ustar + pax) for checking tarballs. */
function parseTar(buf) {
  const entries = [];
  let pax = {};
  let globalPax = {};
  const parsePax = (data) => {
    const out = {};
    let s = data.toString('utf8');
    while (s.length) {
      const sp = s.indexOf(' ');
      const len = Number(s.slice(0, sp));
      const rec = s.slice(sp + 1, len - 1);
      const eq = rec.indexOf('=');
      out[rec.slice(0, eq)] = rec.slice(eq + 1);
      s = s.slice(len);
    }
    return out;
  };
  // Work on bytes: pax lengths are byte counts, so re-slice through a Buffer.
  const parsePaxBytes = (data) => {
    const out = {};
    let off = 0;
    while (off < data.length) {
      const sp = data.indexOf(0x20, off);
      const len = Number(data.subarray(off, sp).toString());
      Object.assign(out, parsePax(data.subarray(off, off + len)));
      off += len;
    }
    return out;
  };
  for (let off = 0; off + 512 <= buf.length; ) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (s, l) => {
      const b = h.subarray(s, s + l);
      const z = b.indexOf(0);
      return b.subarray(0, z < 0 ? l : z).toString('utf8');
    };
    let name = str(0, 100);
    const mode = parseInt(str(100, 8).trim() || '0', 8);
    const size = parseInt(str(124, 12).trim() || '0', 8);
    const type = h[156] === 0 ? '0' : String.fromCharCode(h[156]);
    let linkname = str(157, 100);
    const prefix = str(345, 155);
    if (prefix) name = `${prefix}/${name}`;
    const data = buf.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'g') {
      globalPax = parsePaxBytes(data);
      continue;
    }
    if (type === 'x') {
      pax = parsePaxBytes(data);
      continue;
    }
    if (pax.path) name = pax.path;
    if (pax.linkpath) linkname = pax.linkpath;
    pax = {};
    entries.push({ name, mode, type, size, linkname, data });
  }
  return { entries, globalPax };
}

// ---------------------------------------------------------------------------

test('repository metadata', async () => {
  const r = await api('/repos/acme/widgets');
  assert.equal(r.status, 200);
  assert.equal(r.json.name, 'widgets');
  assert.equal(r.json.full_name, 'acme/widgets');
  assert.equal(r.json.private, false);
  assert.equal(r.json.default_branch, 'main');
  assert.equal(r.json.owner.login, 'acme');
  assert.equal(typeof r.json.id, 'number');
  assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.ok(r.headers.get('content-length'));

  const missing = await api('/repos/acme/nope');
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.json, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
});

test('recursive tree equals git ls-tree -r -t (by branch, commit SHA and tree SHA)', async () => {
  const expected = repo.lsTree('main', { trees: true });
  const treeSha = repo.revParse('main^{tree}');
  for (const ish of ['main', repo.fixture.mainSha, treeSha]) {
    const r = await api(`/repos/acme/widgets/git/trees/${ish}?recursive=1`);
    assert.equal(r.status, 200, ish);
    assert.equal(r.json.sha, treeSha);
    assert.equal(r.json.truncated, false);
    assert.deepEqual(normalize(r.json.tree), expected, ish);
  }
  const r = await api(`/repos/acme/widgets/git/trees/main?recursive=1`);
  const byPath = Object.fromEntries(r.json.tree.map((e) => [e.path, e]));
  assert.equal(byPath[P.executable].mode, '100755');
  assert.equal(byPath[P.symlink].mode, '120000');
  assert.equal(byPath[P.symlink].size, P.symlinkTarget.length);
  assert.equal(byPath[P.submodule].mode, '160000');
  assert.equal(byPath[P.submodule].type, 'commit');
  assert.equal(byPath[P.submodule].sha, repo.fixture.librarySha);
  assert.equal(byPath[P.submodule].url, undefined);
  assert.equal(byPath[P.submodule].size, undefined);
  assert.equal(byPath['src/net/http'].mode, '040000');
  assert.equal(byPath['src/net/http'].type, 'tree');
  assert.equal(byPath['src/net/http'].size, undefined);
  assert.ok(byPath[P.unicode] && byPath[P.spaces] && byPath[P.binary]);
  assert.equal(byPath[P.binary].size, BINARY_FIXTURE.length);

  // branch names with slashes, plain and percent-encoded; any `recursive` value recurses
  const expectedRelease = repo.lsTree('release/2026/q4', { trees: true });
  for (const p of ['release/2026/q4?recursive=1', 'release%2F2026%2Fq4?recursive=true', 'release/2026/q4?recursive=0']) {
    const rr = await api(`/repos/acme/widgets/git/trees/${p}`);
    assert.equal(rr.status, 200, p);
    assert.deepEqual(normalize(rr.json.tree), expectedRelease, p);
  }

  assert.equal((await api('/repos/acme/widgets/git/trees/no-such-branch')).status, 404);
  assert.equal((await api(`/repos/acme/widgets/git/trees/${'0'.repeat(40)}`)).status, 404);
});

test('non-recursive tree lists only the direct children', async () => {
  const expected = parseLsTree(repo.git(['ls-tree', '-l', '-z', 'main']));
  const r = await api('/repos/acme/widgets/git/trees/main');
  assert.equal(r.status, 200);
  assert.deepEqual(normalize(r.json.tree), expected);
  assert.ok(r.json.tree.every((e) => !e.path.includes('/')));
  // subtree by its SHA
  const src = r.json.tree.find((e) => e.path === 'src');
  const sub = await api(`/repos/acme/widgets/git/trees/${src.sha}`);
  assert.deepEqual(sub.json.tree.map((e) => e.path).sort(), ['lib.rs', 'net'].sort());
});

test('truncated trees', async () => {
  const expected = repo.lsTree('main', { trees: true });
  gh.setOption('maxTreeEntries', 5);
  try {
    const r = await api('/repos/acme/widgets/git/trees/main?recursive=1');
    assert.equal(r.json.truncated, true);
    assert.deepEqual(normalize(r.json.tree), expected.slice(0, 5));
  } finally {
    gh.setOption('maxTreeEntries', 100000);
  }
  const emu = await startGitHubEmulator({ root, maxTreeEntries: expected.length });
  try {
    const r = await api('/repos/acme/widgets/git/trees/main?recursive=1', { base: emu.url });
    assert.equal(r.json.truncated, false);
    assert.equal(r.json.tree.length, expected.length);
  } finally {
    await emu.close();
  }
});

test('branch list pagination with Link headers over 121 branches', async () => {
  const all = repo
    .git(['for-each-ref', '--format=%(refname:strip=2)', 'refs/heads'])
    .split('\n')
    .filter(Boolean)
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  assert.equal(all.length, 121);

  const seen = [];
  let next = `${gh.url}/repos/acme/widgets/branches`;
  let pages = 0;
  while (next) {
    const r = await api(next.slice(gh.url.length));
    assert.equal(r.status, 200);
    pages += 1;
    const link = parseLink(r.headers.get('link'));
    if (pages === 1) {
      assert.deepEqual(Object.keys(link), ['next', 'last']);
      assert.equal(link.next, `${gh.url}/repos/acme/widgets/branches?per_page=30&page=2`);
      assert.equal(link.last, `${gh.url}/repos/acme/widgets/branches?per_page=30&page=5`);
    } else if (pages < 5) {
      assert.deepEqual(Object.keys(link), ['prev', 'next', 'last', 'first']);
    } else {
      assert.deepEqual(Object.keys(link), ['prev', 'first']);
      assert.equal(link.first, `${gh.url}/repos/acme/widgets/branches?per_page=30&page=1`);
    }
    for (const b of r.json) {
      assert.equal(b.protected, false);
      assert.equal(b.commit.sha, repo.headSha(b.name));
      seen.push(b.name);
    }
    next = link.next;
  }
  assert.equal(pages, 5);
  assert.deepEqual(seen, all);

  const big = await api('/repos/acme/widgets/branches?per_page=100');
  assert.equal(big.json.length, 100);
  assert.deepEqual(Object.keys(parseLink(big.headers.get('link'))), ['next', 'last']);
  const clamped = await api('/repos/acme/widgets/branches?per_page=1000&page=2');
  assert.equal(clamped.json.length, 21);
  assert.deepEqual(clamped.json.map((b) => b.name), all.slice(100));
  assert.deepEqual((await api('/repos/acme/widgets/branches?page=99')).json, []);
});

test('single branch and git ref (names with slashes, %2F, missing)', async () => {
  for (const p of ['release/2026/q4', 'release%2F2026%2Fq4']) {
    const r = await api(`/repos/acme/widgets/branches/${p}`);
    assert.equal(r.status, 200, p);
    assert.equal(r.json.name, 'release/2026/q4');
    assert.equal(r.json.protected, false);
    assert.equal(r.json.commit.sha, repo.fixture.releaseSha);
    assert.equal(r.json.commit.commit.tree.sha, repo.revParse('release/2026/q4^{tree}'));
  }
  const missing = await api('/repos/acme/widgets/branches/feature/none');
  assert.equal(missing.status, 404);
  assert.equal(missing.json.status, '404');

  const ref = await api('/repos/acme/widgets/git/ref/heads/feature/f-042');
  assert.equal(ref.status, 200);
  assert.deepEqual(
    { ref: ref.json.ref, sha: ref.json.object.sha, type: ref.json.object.type },
    { ref: 'refs/heads/feature/f-042', sha: repo.headSha('feature/f-042'), type: 'commit' },
  );
  const noRef = await api('/repos/acme/widgets/git/ref/heads/feature/f-999');
  assert.equal(noRef.status, 404);
  assert.deepEqual(noRef.json, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
  // a branch prefix is not a branch
  assert.equal((await api('/repos/acme/widgets/git/ref/heads/feature')).status, 404);
});

test('commits and git commits', async () => {
  const { mainSha, firstSha } = repo.fixture;
  for (const ref of ['main', mainSha, mainSha.slice(0, 12), 'HEAD']) {
    const r = await api(`/repos/acme/widgets/commits/${ref}`);
    assert.equal(r.status, 200, ref);
    assert.equal(r.json.sha, mainSha);
    assert.equal(r.json.commit.tree.sha, repo.revParse('main^{tree}'));
    assert.equal(r.json.commit.message, 'second commit');
    assert.deepEqual(r.json.parents.map((p) => p.sha), [firstSha]);
  }
  const rel = await api('/repos/acme/widgets/commits/release/2026/q4');
  assert.equal(rel.json.sha, repo.fixture.releaseSha);

  const sha = await api('/repos/acme/widgets/commits/main', { headers: { accept: 'application/vnd.github.sha' } });
  assert.equal(sha.status, 200);
  assert.equal(sha.buf.toString(), mainSha);
  assert.match(sha.headers.get('content-type'), /^application\/vnd\.github\.sha/);

  const unknown = await api('/repos/acme/widgets/commits/does-not-exist');
  assert.equal(unknown.status, 422); // GitHub: "No commit found for SHA: ..."
  assert.match(unknown.json.message, /No commit found/);

  const gc = await api(`/repos/acme/widgets/git/commits/${mainSha}`);
  assert.equal(gc.status, 200);
  assert.equal(gc.json.sha, mainSha);
  assert.equal(gc.json.tree.sha, repo.revParse('main^{tree}'));
  assert.deepEqual(gc.json.parents.map((p) => p.sha), [firstSha]);
  assert.equal(gc.json.message, 'second commit');
  assert.equal(gc.json.author.date, '2026-01-01T00:01:00Z');
  const root = await api(`/repos/acme/widgets/git/commits/${firstSha}`);
  assert.deepEqual(root.json.parents, []);
  // a tree SHA is not a commit
  assert.equal((await api(`/repos/acme/widgets/git/commits/${repo.revParse('main^{tree}')}`)).status, 404);
  assert.equal((await api(`/repos/acme/widgets/git/commits/main`)).status, 404);
});

test('blobs: base64 with a newline every 60 characters', async () => {
  const tree = repo.lsTree('main');
  const bin = tree.find((e) => e.path === P.binary);
  const r = await api(`/repos/acme/widgets/git/blobs/${bin.sha}`);
  assert.equal(r.status, 200);
  assert.equal(r.json.encoding, 'base64');
  assert.equal(r.json.size, BINARY_FIXTURE.length);
  assert.equal(r.json.sha, bin.sha);
  assert.ok(r.json.node_id);
  assert.ok(r.json.content.endsWith('\n'));
  const lines = r.json.content.split('\n');
  assert.ok(lines.slice(0, -2).every((l) => l.length === 60));
  assert.ok(Buffer.from(r.json.content, 'base64').equals(BINARY_FIXTURE));
  assert.ok(Buffer.from(r.json.content, 'base64').equals(repo.git(['cat-file', 'blob', bin.sha], { encoding: 'buffer' })));

  const link = tree.find((e) => e.path === P.symlink);
  const lr = await api(`/repos/acme/widgets/git/blobs/${link.sha}`);
  assert.equal(Buffer.from(lr.json.content, 'base64').toString(), P.symlinkTarget);

  const empty = tree.find((e) => e.path === P.empty);
  const er = await api(`/repos/acme/widgets/git/blobs/${empty.sha}`);
  assert.equal(er.json.content, '');
  assert.equal(er.json.size, 0);

  assert.equal((await api(`/repos/acme/widgets/git/blobs/${'1'.repeat(40)}`)).status, 404);
  assert.equal((await api(`/repos/acme/widgets/git/blobs/${repo.fixture.mainSha}`)).status, 404);
});

test('ETag / If-None-Match: 304 without body, not counted against the rate limit', async () => {
  const token = 'etag-token';
  const first = await api('/repos/acme/widgets/git/trees/main?recursive=1', { token });
  const etag = first.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{64}"$/);
  const remaining = Number(first.headers.get('x-ratelimit-remaining'));
  assert.equal(first.headers.get('x-ratelimit-limit'), '5000');
  assert.equal(remaining, 4999);

  const before = gh.stats().notModified;
  const cond = await api('/repos/acme/widgets/git/trees/main?recursive=1', { token, headers: { 'if-none-match': etag } });
  assert.equal(cond.status, 304);
  assert.equal(cond.buf.length, 0);
  assert.equal(cond.headers.get('etag'), etag);
  assert.equal(Number(cond.headers.get('x-ratelimit-remaining')), remaining);
  assert.equal(gh.stats().notModified, before + 1);

  // weak form and lists match too; a different ETag does not
  const weak = await api('/repos/acme/widgets/git/trees/main?recursive=1', { token, headers: { 'if-none-match': `"x", W/${etag}` } });
  assert.equal(weak.status, 304);
  const other = await api('/repos/acme/widgets/git/trees/main?recursive=1', { token, headers: { 'if-none-match': '"nope"' } });
  assert.equal(other.status, 200);
  assert.equal(Number(other.headers.get('x-ratelimit-remaining')), remaining - 1);
});

test('no stale data: new commits are visible and change the ETag', async () => {
  const live = createRepo(root, 'acme', 'live');
  live.write('a.txt', 'one\n');
  const c1 = live.commit('one');
  const r1 = await api('/repos/acme/live/branches/main');
  assert.equal(r1.json.commit.sha, c1);
  live.write('b/c.txt', 'two\n');
  live.move('a.txt', 'b/a.txt');
  const c2 = live.commit('two');
  const r2 = await api('/repos/acme/live/branches/main', { headers: { 'if-none-match': r1.headers.get('etag') } });
  assert.equal(r2.status, 200);
  assert.equal(r2.json.commit.sha, c2);
  const tree = await api('/repos/acme/live/git/trees/main?recursive=1');
  assert.deepEqual(normalize(tree.json.tree), live.lsTree('main', { trees: true }));
  assert.deepEqual(live.diffNameStatus(c1, c2), [
    { status: 'R', path: 'b/a.txt', previousPath: 'a.txt', score: 100 },
    { status: 'A', path: 'b/c.txt' },
  ]);

  // force-pushed unrelated history
  const orphan = live.forcePushOrphan('main', { 'only.txt': 'orphan\n' });
  const r3 = await api('/repos/acme/live/commits/main');
  assert.equal(r3.json.sha, orphan);
  assert.deepEqual(r3.json.parents, []);
  const t3 = await api('/repos/acme/live/git/trees/main?recursive=1');
  assert.deepEqual(t3.json.tree.map((e) => e.path), ['only.txt']);
});

test('rate limits: 60 anonymous / 5000 with token, exhaustion, reset', async () => {
  const anon = await api('/repos/acme/widgets', { token: null });
  assert.equal(anon.headers.get('x-ratelimit-limit'), '60');
  assert.equal(anon.headers.get('x-ratelimit-resource'), 'core');
  assert.ok(Number(anon.headers.get('x-ratelimit-reset')) > Date.now() / 1000);
  const used = Number(anon.headers.get('x-ratelimit-used'));
  assert.equal(Number(anon.headers.get('x-ratelimit-remaining')), 60 - used);

  try {
    gh.setOption('rateLimitRemaining', 0);
    const r = await api('/repos/acme/widgets', { token: 'exhausted-token' });
    assert.equal(r.status, 403);
    assert.equal(r.headers.get('x-ratelimit-remaining'), '0');
    assert.match(r.json.message, /^API rate limit exceeded for /);
    const a = await api('/repos/acme/widgets', { token: null });
    assert.equal(a.status, 403);
    assert.match(a.json.message, /^API rate limit exceeded for 127\.0\.0\.1/);

    const reset = Math.floor(Date.now() / 1000) + 123;
    gh.setOption('rateLimitReset', reset);
    const again = await api('/repos/acme/widgets', { token: 'exhausted-token' });
    assert.equal(again.headers.get('x-ratelimit-reset'), String(reset));

    gh.setOption('rateLimitRemaining', 2);
    assert.equal((await api('/repos/acme/widgets', { token: 'exhausted-token' })).status, 200);
    assert.equal((await api('/repos/acme/widgets', { token: 'exhausted-token' })).status, 200);
    assert.equal((await api('/repos/acme/widgets', { token: 'exhausted-token' })).status, 403);

    // a reset time in the past refills the budget
    gh.setOption('rateLimitReset', Math.floor(Date.now() / 1000) - 1);
    const refilled = await api('/repos/acme/widgets', { token: 'exhausted-token' });
    assert.equal(refilled.status, 200);
    assert.equal(refilled.headers.get('x-ratelimit-remaining'), '4999');
  } finally {
    gh.setOption('resetRateLimits', true);
  }
  const rl = await api('/rate_limit');
  assert.equal(rl.json.resources.core.limit, 5000);
});

test('tarball: 302 to codeload, gzip tar matching the commit', async () => {
  const sha = repo.fixture.mainSha;
  const r = await api('/repos/acme/widgets/tarball/main');
  assert.equal(r.status, 302);
  assert.equal(r.headers.get('location'), `${gh.url}/_codeload/acme/widgets/legacy.tar.gz/${sha}`);
  // default branch when no ref is given
  assert.equal((await api('/repos/acme/widgets/tarball')).headers.get('location'), r.headers.get('location'));
  assert.equal((await api('/repos/acme/widgets/tarball/nope')).status, 404);

  const res = await fetch(r.headers.get('location'), { headers: { 'user-agent': 'emulator-selftest' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/x-gzip');
  const tar = parseTar(zlib.gunzipSync(Buffer.from(await res.arrayBuffer())));
  assert.equal(tar.globalPax.comment, sha);
  const prefix = `acme-widgets-${sha.slice(0, 7)}/`;
  assert.ok(tar.entries.every((e) => e.name.startsWith(prefix)));
  const files = tar.entries.filter((e) => e.type === '0' || e.type === '2');
  const blobs = repo.lsTree(sha).filter((e) => e.type === 'blob');
  assert.deepEqual(files.map((e) => e.name.slice(prefix.length)).sort(), blobs.map((e) => e.path).sort());
  const byName = Object.fromEntries(tar.entries.map((e) => [e.name.slice(prefix.length), e]));
  assert.ok(byName[P.binary].data.equals(BINARY_FIXTURE));
  assert.equal(byName[P.symlink].type, '2');
  assert.equal(byName[P.symlink].linkname, P.symlinkTarget);
  assert.ok(byName[P.executable].mode & 0o111);
  assert.equal(byName[P.unicode].data.toString(), 'Unicode in the path.\n');
  // the submodule is an empty directory, as on GitHub
  assert.equal(byName[`${P.submodule}/`].type, '5');

  // following the redirect works with a plain fetch too
  const followed = await api('/repos/acme/widgets/tarball/release/2026/q4', { redirect: 'follow' });
  assert.equal(followed.status, 200);
  const relTar = parseTar(zlib.gunzipSync(followed.buf));
  assert.ok(relTar.entries.some((e) => e.name.endsWith('/RELEASE.md')));
});

test('fault injection (in-process and over HTTP)', async () => {
  const treeUrl = '/repos/acme/widgets/git/trees/main';
  gh.injectFault({ route: 'tree', kind: 'status', status: 503, times: 2 });
  const a = await api(treeUrl);
  assert.equal(a.status, 503);
  assert.equal(a.json.status, '503');
  assert.equal((await api(treeUrl)).status, 503);
  assert.equal((await api(treeUrl)).status, 200);

  // only the named route is affected
  gh.injectFault({ route: 'blob', kind: 'status', status: 500 });
  assert.equal((await api(treeUrl)).status, 200);
  gh.clearFaults();

  // regex on the path
  gh.injectFault({ route: 'branches/release', kind: 'status', status: 502 });
  assert.equal((await api('/repos/acme/widgets/branches/main')).status, 200);
  assert.equal((await api('/repos/acme/widgets/branches/release/2026/q4')).status, 502);

  // drop: the socket is destroyed without an answer
  gh.injectFault({ route: '*', kind: 'drop' });
  await assert.rejects(api('/repos/acme/widgets'));
  assert.equal((await api('/repos/acme/widgets')).status, 200);

  // secondary rate limit
  gh.injectFault({ route: 'repo', kind: 'secondaryRateLimit', retryAfter: 7 });
  const s = await api('/repos/acme/widgets');
  assert.equal(s.status, 403);
  assert.equal(s.headers.get('retry-after'), '7');
  assert.match(s.json.message, /^You have exceeded a secondary rate limit/);
  assert.notEqual(s.headers.get('x-ratelimit-remaining'), '0');

  // primary rate limit
  gh.injectFault({ route: 'repo', kind: 'primaryRateLimit', resetIn: 30 });
  const p = await api('/repos/acme/widgets');
  assert.equal(p.status, 403);
  assert.equal(p.headers.get('x-ratelimit-remaining'), '0');
  const reset = Number(p.headers.get('x-ratelimit-reset'));
  assert.ok(Math.abs(reset - (Math.floor(Date.now() / 1000) + 30)) <= 2);
  assert.match(p.json.message, /^API rate limit exceeded/);

  // delay
  gh.injectFault({ route: 'repo', kind: 'delay', ms: 300 });
  const t0 = Date.now();
  assert.equal((await api('/repos/acme/widgets')).status, 200);
  assert.ok(Date.now() - t0 >= 280);

  // the same over HTTP, as a test in another process would do it
  const post = (p2, body) =>
    fetch(gh.url + p2, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal((await post('/_emulator/faults', { route: 'tree', kind: 'status', status: 500, times: 1 })).status, 200);
  assert.equal((await post('/_emulator/faults', { route: 'tree', kind: 'status', status: 504 })).status, 200);
  assert.equal((await fetch(`${gh.url}/_emulator/faults`, { method: 'DELETE' })).status, 200);
  assert.equal((await api(treeUrl)).status, 200);
  assert.equal((await post('/_emulator/faults', { route: 'tree', kind: 'status', status: 500, times: -1 })).status, 200);
  assert.equal((await api(treeUrl)).status, 500);
  assert.equal((await api(treeUrl)).status, 500);
  await fetch(`${gh.url}/_emulator/faults`, { method: 'DELETE' });

  assert.equal((await post('/_emulator/reset-stats', {})).status, 200);
  await api(treeUrl);
  const stats = await (await fetch(`${gh.url}/_emulator/stats`)).json();
  assert.equal(stats.total, 1);
  assert.deepEqual(stats.byRoute, { tree: 1 });
  assert.equal((await post('/_emulator/options', { name: 'maxTreeEntries', value: 2 })).status, 200);
  assert.equal((await api(`${treeUrl}?recursive=1`)).json.tree.length, 2);
  await post('/_emulator/options', { name: 'maxTreeEntries', value: 100000 });
  assert.equal((await post('/_emulator/options', { name: 'bogus', value: 1 })).status, 400);
});

test('empty repository: 409 "Git Repository is empty.", empty branch list', async () => {
  for (const p of ['git/trees/main', 'git/trees/main?recursive=1', 'branches/main', 'git/ref/heads/main', 'commits/main']) {
    const r = await api(`/repos/acme/empty/${p}`);
    assert.equal(r.status, 409, p);
    assert.deepEqual(r.json, { message: 'Git Repository is empty.', documentation_url: 'https://docs.github.com/rest', status: '409' });
  }
  const b = await api('/repos/acme/empty/branches');
  assert.equal(b.status, 200);
  assert.deepEqual(b.json, []);
  assert.equal(b.headers.get('link'), null);
  const meta = await api('/repos/acme/empty');
  assert.equal(meta.status, 200);
  assert.equal(meta.json.default_branch, 'main');
});

test('auth: tokens list, 401 Bad credentials, 404 without credentials', async () => {
  const emu = await startGitHubEmulator({ root, tokens: ['good-token'] });
  try {
    const none = await api('/repos/acme/widgets', { base: emu.url, token: null });
    assert.equal(none.status, 404);
    const bad = await api('/repos/acme/widgets', { base: emu.url, token: 'bad-token' });
    assert.equal(bad.status, 401);
    assert.deepEqual(bad.json, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
    const good = await api('/repos/acme/widgets', { base: emu.url, token: 'good-token' });
    assert.equal(good.status, 200);
    assert.equal(good.headers.get('x-ratelimit-limit'), '5000');
    const tokenScheme = await api('/repos/acme/widgets', { base: emu.url, token: null, headers: { authorization: 'token good-token' } });
    assert.equal(tokenScheme.status, 200);

    // tarball redirect carries a one-off token; codeload refuses without it
    const t = await api('/repos/acme/widgets/tarball/main', { base: emu.url, token: 'good-token' });
    const loc = t.headers.get('location');
    assert.match(loc, /\?token=[0-9a-f]+$/);
    assert.equal((await fetch(loc)).status, 200);
    assert.equal((await fetch(loc.replace(/\?.*$/, ''))).status, 404);

    const log = emu.stats().log;
    assert.deepEqual(log.slice(0, 3).map((e) => e.headers.authorization), ['absent', 'present', 'present']);
  } finally {
    await emu.close();
  }
});

test('GitHub Enterprise /api/v3 prefix', async () => {
  const r = await api('/api/v3/repos/acme/widgets/git/trees/main?recursive=1');
  assert.equal(r.status, 200);
  assert.deepEqual(normalize(r.json.tree), repo.lsTree('main', { trees: true }));
  assert.ok(r.json.url.startsWith(`${gh.url}/api/v3/repos/acme/widgets/git/trees/`));
  const b = await api('/api/v3/repos/acme/widgets/branches?per_page=50');
  assert.equal(parseLink(b.headers.get('link')).next, `${gh.url}/api/v3/repos/acme/widgets/branches?per_page=50&page=2`);
  assert.equal((await api('/api/v3/repos/acme/widgets/branches/release/2026/q4')).json.commit.sha, repo.fixture.releaseSha);
  assert.equal((await api('/api/v3/repos/acme/widgets/git/ref/heads/main')).json.object.sha, repo.fixture.mainSha);
});

test('bare repositories are served like work trees', async () => {
  cloneBare(repo, root, 'acme', 'widgets-bare');
  const r = await api('/repos/acme/widgets-bare/git/trees/main?recursive=1');
  assert.equal(r.status, 200);
  assert.deepEqual(normalize(r.json.tree), repo.lsTree('main', { trees: true }));
  const b = await api('/repos/acme/widgets-bare/branches?per_page=100&page=2');
  assert.equal(b.json.length, 21);
  // owner/repo are case-insensitive, answered with the canonical spelling
  const ci = await api('/repos/ACME/Widgets-Bare');
  assert.equal(ci.json.full_name, 'acme/widgets-bare');
});

test('User-Agent required; request log records headers; keep-alive framing', async () => {
  gh.resetStats();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = (headers) =>
    new Promise((resolve, reject) => {
      const req = http.get(`${gh.url}/repos/acme/widgets`, { agent, headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ res, reused: req.reusedSocket, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
    });
  try {
    const noUa = await get({});
    assert.equal(noUa.res.statusCode, 403);
    assert.match(noUa.body.toString(), /User-Agent/);
    const ok = await get({ 'user-agent': 'x', accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', authorization: 'Bearer t' });
    assert.equal(ok.res.statusCode, 200);
    assert.equal(Number(ok.res.headers['content-length']), ok.body.length);
    assert.equal(ok.reused, true); // same connection as the first request
  } finally {
    agent.destroy();
  }
  const s = gh.stats();
  assert.equal(s.total, 2);
  assert.deepEqual(s.byRoute, { repo: 2 });
  assert.equal(s.log[0].status, 403);
  assert.deepEqual(
    { ...s.log[1].headers, 'user-agent': undefined },
    {
      authorization: 'present',
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      'if-none-match': null,
      'user-agent': undefined,
    },
  );
  assert.equal(s.log[1].method, 'GET');
  assert.equal(s.log[1].path, '/repos/acme/widgets');
  assert.equal(typeof s.log[1].ms, 'number');
});

test('standalone CLI prints "listening URL" and stops on SIGTERM', async () => {
  const child = spawn(process.execPath, [EMULATOR_PATH, '--root', root, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /^listening (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}`)));
      setTimeout(() => reject(new Error('timeout')), 5000).unref();
    });
    const r = await api('/repos/acme/widgets/git/ref/heads/main', { base: url });
    assert.equal(r.json.object.sha, repo.fixture.mainSha);
  } finally {
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    child.kill('SIGTERM');
    assert.deepEqual(await exited, { code: 0, signal: null });
  }
});
