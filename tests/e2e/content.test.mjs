// File content (CONTRACT.md, "File content"): every kind of file's bytes equal
// `git cat-file blob`; kept text comes from storage at no GitHub request, anything else is
// streamed from GitHub's blob API; the blob sha is the ETag and If-None-Match answers 304;
// `at=` reads an earlier state; submodules and inactive paths are 404; and file objects say
// why no text is kept (`contentSkipped`).

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startWorld, worldTest, createRepo, assertError } from '../support/harness.mjs';

let world;
let repo;
let alice;
let project;
const s = {};
const test = worldTest(() => world);

const LFS = 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n';

before(async () => {
  world = await startWorld();
  const lib = createRepo(world.root, 'acme', 'content-lib');
  lib.write('lib.txt', 'lib\n');
  const libSha = lib.commit('lib');
  repo = createRepo(world.root, 'acme', 'content');
  repo.write('README.md', '# content\n\nText kept by the service.\n');
  repo.write('src/app.js', 'export const answer = 42;\n');
  repo.write('src/empty.txt', '');
  repo.write('docs/ünïcödé.md', 'Grüße, 世界\n');
  repo.write('assets/logo.bin', Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256)));
  repo.write('assets/big.bin', crypto.randomBytes(2 * 1024 * 1024));
  repo.write('assets/model.bin', LFS);
  repo.symlink('link-to-readme', 'README.md');
  repo.addSubmodule('vendor/lib', libSha);
  s.c1 = repo.commit('first');
  alice = await world.createUser('alice');
  project = await alice.createProject({ name: 'content', repository: 'acme/content' });
  s.sync1 = (await alice.syncAndWait(project.id)).done.id;
});

after(async () => {
  await world?.stop();
});

/** The blob of `path` at `commit`, as git has it. */
function gitBlob(path, commit) {
  const sha = repo.git(['rev-parse', `${commit}:${path}`]).trim();
  return { sha, bytes: repo.git(['cat-file', 'blob', sha], { encoding: 'buffer' }) };
}

async function content(path, { at, headers = {}, user = alice } = {}) {
  const q = new URLSearchParams({ path });
  if (at) q.set('at', at);
  const res = await fetch(`${world.base}/api/v1/projects/${project.id}/files/content?${q}`, {
    headers: { authorization: `Bearer ${user.token}`, ...headers },
  });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

const githubRequests = () => world.emulator.stats().total;

test('every kind of file reads back byte for byte as git has it, with the blob sha as ETag', async () => {
  const cases = [
    ['README.md', 'text/plain; charset=utf-8'],
    ['src/app.js', 'text/plain; charset=utf-8'],
    ['src/empty.txt', 'text/plain; charset=utf-8'],
    ['docs/ünïcödé.md', 'text/plain; charset=utf-8'],
    ['assets/logo.bin', 'application/octet-stream'],
    ['assets/big.bin', 'application/octet-stream'],
    ['assets/model.bin', 'application/octet-stream'],
    ['link-to-readme', 'application/octet-stream'],
  ];
  for (const [path, type] of cases) {
    const want = gitBlob(path, s.c1);
    const got = await content(path);
    assert.equal(got.status, 200, path);
    assert.equal(got.headers.get('content-type'), type, path);
    assert.equal(got.headers.get('etag'), `"${want.sha}"`, path);
    assert.ok(got.bytes.equals(want.bytes), `${path}: ${got.bytes.length} bytes, git has ${want.bytes.length}`);
  }
  assert.equal((await content('link-to-readme')).bytes.toString(), 'README.md', "a symlink's content is its target");
});

test('kept text costs no GitHub request; other blobs are read from GitHub; 304 costs nothing', async () => {
  let before = githubRequests();
  for (const path of ['README.md', 'src/app.js', 'docs/ünïcödé.md', 'src/empty.txt']) assert.equal((await content(path)).status, 200);
  assert.equal(githubRequests() - before, 0, 'text is served from storage (the empty file too: issue 19, defect 10)');

  before = githubRequests();
  assert.equal((await content('assets/big.bin')).status, 200);
  const blobReads = world.emulator.stats().log.slice(-(githubRequests() - before)).filter((e) => e.route === 'blob');
  assert.equal(blobReads.length, 1, 'one blob request for a 2 MB binary');

  for (const path of ['README.md', 'assets/big.bin']) {
    const { sha } = gitBlob(path, s.c1);
    before = githubRequests();
    for (const inm of [`"${sha}"`, `W/"${sha}"`, `"other", "${sha}"`]) {
      const res = await content(path, { headers: { 'if-none-match': inm } });
      assert.equal(res.status, 304, `${path} ${inm}`);
      assert.equal(res.bytes.length, 0);
      assert.equal(res.headers.get('etag'), `"${sha}"`);
    }
    assert.equal(githubRequests() - before, 0, `${path}: a 304 reads nothing`);
    assert.equal((await content(path, { headers: { 'if-none-match': '"stale"' } })).status, 200);
  }
});

test('files say why no text is kept', async () => {
  const files = await alice.files(project.id);
  const skipped = Object.fromEntries(files.map((f) => [f.path, f.contentSkipped]));
  assert.deepEqual(skipped, {
    'README.md': null,
    'assets/big.bin': 'too-large',
    'assets/logo.bin': 'binary',
    'assets/model.bin': 'lfs-pointer',
    'docs/ünïcödé.md': null,
    'link-to-readme': null,
    'src/app.js': null,
    'src/empty.txt': null,
    'vendor/lib': null,
    '.gitmodules': null,
  });
  const history = await alice.listAll(`/api/v1/projects/${project.id}/files/history?path=assets%2Flogo.bin`);
  assert.equal(history[0].contentSkipped, 'binary');
});

test('at= reads the state right after an earlier sync; submodules and inactive paths are 404', async () => {
  repo.write('README.md', '# content, version two\n');
  repo.remove('src/app.js');
  const c2 = repo.commit('second');
  await alice.syncAndWait(project.id);
  assert.ok((await content('README.md')).bytes.equals(gitBlob('README.md', c2).bytes));
  assert.ok((await content('README.md', { at: s.sync1 })).bytes.equals(gitBlob('README.md', s.c1).bytes));
  assert.equal((await content('src/app.js')).status, 404, 'deleted since');
  assert.ok((await content('src/app.js', { at: s.sync1 })).bytes.equals(gitBlob('src/app.js', s.c1).bytes));

  for (const path of ['vendor/lib', 'no/such/file', 'src']) {
    const res = await alice.get(`/api/v1/projects/${project.id}/files/content?path=${encodeURIComponent(path)}`);
    assertError(res, 404, 'not_found');
  }
  assertError(await alice.get(`/api/v1/projects/${project.id}/files/content`), 400, 'invalid_request');
  assertError(await alice.get(`/api/v1/projects/${project.id}/files/content?path=README.md&at=nope`), 404, 'not_found');
  const bob = await world.createUser('bob');
  assertError(await bob.get(`/api/v1/projects/${project.id}/files/content?path=README.md`), 404, 'not_found');
});
