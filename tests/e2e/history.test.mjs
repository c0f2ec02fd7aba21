// Replaying a real history: one generated repository, built with the git CLI through more than
// 30 commits on `main` (renames, mode changes, symlinks, submodules, a deleted directory, binary
// and large files, unicode and space-containing paths, moves between directories, an empty file,
// a git-lfs pointer, an empty commit, and a force push to unrelated history). After every commit
// a sync runs, and the active files, counts, change list and chain are checked against git.
// Then files?at= for every earlier sync, two restores (no GitHub request), memory search, and a
// sync back to the head after the restores.
//
// Fixture rules that keep git's `diff -M` and the worker's exact-rename diff comparable (see
// src/diff.rs): every file version has content unlike any other (no inexact renames); renames
// keep content identical and non-empty; an empty file is never moved; a submodule commit id is
// never used at two paths; a symlink and a regular file never share a blob.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import {
  startWorld,
  worldTest,
  createRepo,
  assertChanges,
  assertSyncShape,
  expectedFiles,
  expectedCounts,
  expectedChanges,
  fileShape,
} from '../support/harness.mjs';

/** git's empty tree: the "previous commit" of a first sync (everything added). */
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const MAX_TEXT_BYTES = 1_048_576;

let world;
let repo;
let lib;
let alice;
let project;
/** One entry per sync of the replay, in order: { name, commit, syncId, done }. */
const replay = [];
/** Blob shas whose content is a git-lfs pointer: the worker reports kind `lfs-pointer`. */
const lfsShas = new Set();
const libSha = {};
const W = Object.freeze({
  secret: 'zanzibarquill', // only in notes/secret.txt, deleted at "delete the secret note"
  readme1: 'marmaladeorbit', // only in the first README
  readme2: 'tangerinenebula', // only in the second README (pre-orphan)
  huge: 'hippogriffxylo', // only in big/huge.log (> MAX_TEXT_BYTES: content not kept)
  exact: 'borderlinequartz', // only in big/exact.txt (exactly MAX_TEXT_BYTES: kept)
  orphan: 'orphanlighthouse', // only in fresh/start.txt (after the force push)
});

const test = worldTest(() => world);

// ---------------------------------------------------------------------------
// Deterministic content: every (seed) gives lines unlike any other seed's.
// ---------------------------------------------------------------------------

const hex = (s) => crypto.createHash('sha256').update(s).digest('hex');

function text(seed, { lines = 6, word = '' } = {}) {
  let out = word ? `${word} appears here\n` : '';
  for (let i = 0; i < lines; i++) out += `${seed}:${i} ${hex(`${seed}/${i}`)}\n`;
  return out;
}

/** A text file of at least `min` bytes (exactly `exact` when given), distinct lines. */
function bigText(seed, { min, exact, word }) {
  const target = exact ?? min;
  const parts = [`${word} appears once, at the top\n`];
  let len = parts[0].length;
  for (let i = 0; len < target - 200; i++) {
    const l = `${seed}:${i} ${hex(`${seed}/${i}`)}\n`;
    parts.push(l);
    len += l.length;
  }
  let s = parts.join('');
  if (exact !== undefined) {
    s += `${'.'.repeat(exact - s.length - 1)}\n`;
    assert.equal(Buffer.byteLength(s), exact);
  } else {
    while (Buffer.byteLength(s) < min) s += `${seed}:pad ${hex(s.length.toString())}\n`;
  }
  return s;
}

/** Binary bytes with NULs and invalid UTF-8, different for every seed. */
function binary(seed, n = 3000) {
  const chunks = [];
  for (let i = 0; chunks.length * 32 < n; i++) chunks.push(crypto.createHash('sha256').update(`${seed}#${i}`).digest());
  const b = Buffer.concat(chunks).subarray(0, n);
  for (let i = 0; i < b.length; i += 7) b[i] = 0;
  b[1] = 0xff;
  return b;
}

function lfsPointer(seed, size) {
  return `version https://git-lfs.github.com/spec/v1\noid sha256:${hex(seed)}\nsize ${size}\n`;
}

// ---------------------------------------------------------------------------
// Repository operations not in gitfixture
// ---------------------------------------------------------------------------

function updateSubmodule(p, sha) {
  repo.git(['update-index', '--cacheinfo', `160000,${sha},${p}`]);
}

function removeSubmodule(p) {
  repo.remove(p);
  repo.git(['config', '-f', path.join(repo.dir, '.gitmodules'), '--remove-section', `submodule.${p}`]);
  repo.git(['add', '--', '.gitmodules']);
}

function writeLfs(p, seed, size) {
  const content = lfsPointer(seed, size);
  repo.write(p, content);
  lfsShas.add(repo.git(['hash-object', '--stdin'], { input: content }).trim());
}

// ---------------------------------------------------------------------------
// Expectations
// ---------------------------------------------------------------------------

/** expectedFiles, with kind `lfs-pointer` for regular files whose blob is an LFS pointer. */
function want(commit) {
  return expectedFiles(repo, commit).map((f) => (f.kind === 'file' && lfsShas.has(f.sha) ? { ...f, kind: 'lfs-pointer' } : f));
}

const memory = async (q) => (await alice.getJson(`/api/v1/projects/${project.id}/memory?q=${encodeURIComponent(q)}&limit=50`)).items;

/** Every memory hit for `word` is in `p` (and there is at least one), or there is none. */
async function assertMemory(word, p, ctx) {
  const items = await memory(word);
  if (p === null) {
    assert.deepEqual(items.map((m) => m.path), [], `${ctx}: no active memory entry contains "${word}"`);
    return;
  }
  assert.ok(items.length >= 1, `${ctx}: memory?q=${word} finds ${p}; got nothing`);
  assert.equal(items[0].path, p, `${ctx}: memory?q=${word} has ${p} first; got ${JSON.stringify(items.map((m) => m.path))}`);
  assert.deepEqual([...new Set(items.map((m) => m.path))], [p], `${ctx}: only ${p} contains "${word}"`);
  const active = want(repo.headSha('main')).find((f) => f.path === p);
  for (const m of items) {
    assert.ok(m.text.toLowerCase().includes(word), `${ctx}: the hit's text holds "${word}": ${JSON.stringify(m.text.slice(0, 200))}`);
    if (active) assert.equal(m.sha, active.sha, `${ctx}: memory entry of ${p} is of the active version`);
  }
}

/**
 * Sync the head of main and check everything against git. `diff` lists [status, path] pairs
 * git must report (so the fixture really exercises what the step is named after).
 */
async function syncAndCheck(name, commit, { diff = [] } = {}) {
  const prev = replay.at(-1);
  const base = prev?.commit ?? EMPTY_TREE;
  const gitDiff = repo.diffNameStatus(base, commit);
  for (const [status, p] of diff) {
    assert.ok(
      gitDiff.some((d) => d.status === status && d.path === p),
      `[${name}] fixture: git diff reports ${status} ${p}; it reports ${JSON.stringify(gitDiff)}`,
    );
  }
  const { sync, done } = await alice.syncAndWait(project.id);
  const ctx = `[${name}] sync ${sync.id}`;
  assertSyncShape(done);
  assert.equal(done.kind, 'sync', ctx);
  assert.equal(done.commitSha, commit, `${ctx}: commitSha`);
  assert.equal(done.previousSyncId, prev?.syncId ?? null, `${ctx}: previousSyncId is the previous sync`);
  assert.equal(done.restoredFromSyncId, null, ctx);

  const files = await alice.files(project.id);
  assert.deepEqual(fileShape(files), want(commit), `${ctx}: active files equal git ls-tree`);

  const { counts } = expectedCounts(repo, base, commit);
  assert.deepEqual(done.counts, counts, `${ctx}: counts equal git diff --name-status -M`);
  const rows = await alice.listAll(`/api/v1/syncs/${sync.id}/changes`, { limit: 500 });
  assertChanges(rows, expectedChanges(repo, base, commit));

  const p = await alice.getJson(`/api/v1/projects/${project.id}`);
  assert.equal(p.currentSyncId, sync.id, `${ctx}: currentSyncId`);
  assert.equal(p.currentCommitSha, commit, `${ctx}: currentCommitSha`);
  replay.push({ name, commit, syncId: sync.id, done });
  return done;
}

/** Mutate the work tree, commit, sync, check. */
async function step(name, mutate, opts = {}) {
  mutate();
  const commit = repo.commit(name, { allowEmpty: !!opts.allowEmpty });
  // A project needs a repository with a branch: it is created after the first commit.
  project ??= await alice.createProject({ name: 'History', repository: 'acme/history' });
  return syncAndCheck(name, commit, opts);
}

const at = (name) => {
  const r = replay.find((x) => x.name === name);
  assert.ok(r, `no replayed step named ${name}`);
  return r;
};

// ---------------------------------------------------------------------------

before(async () => {
  world = await startWorld();
  lib = createRepo(world.root, 'acme', 'history-lib');
  for (const n of [1, 2, 3, 4]) {
    lib.write('lib.txt', text(`lib-v${n}`));
    libSha[n] = lib.commit(`library v${n}`);
  }
  repo = createRepo(world.root, 'acme', 'history');
  alice = await world.createUser('historian');
});

after(async () => {
  await world?.stop();
});

test('replays a real history: after every commit the sync equals git', async () => {
  const started = Date.now();

  await step('initial import', () => {
    repo.write('README.md', text('readme-1', { word: W.readme1 }));
    repo.write('src/main.rs', text('main-1'));
    repo.write('src/util.rs', text('util-1'));
    repo.write('src/net/http.rs', text('http-1'));
    repo.write('docs/guide.md', text('guide-1'));
    repo.write('docs/user guide/getting started.md', text('getting-started-1'));
    repo.write('docs/i18n/日本語/ünïcödé.md', text('unicode-1'));
    repo.write('old/a.txt', text('old-a'));
    repo.write('old/b.txt', text('old-b'));
    repo.write('old/deep/er/c.txt', text('old-c'));
    repo.write('scripts/run.sh', `#!/bin/sh\n${text('run-1')}`, { mode: 0o755 });
    repo.write('scripts/tool.py', text('tool-1'));
    repo.write('assets/logo.bin', binary('logo-1'));
    repo.write('empty.txt', '');
    repo.write('notes/secret.txt', text('secret-1', { word: W.secret }));
    repo.symlink('link-readme', 'README.md');
    repo.addSubmodule('vendor/lib', libSha[1], { url: '../history-lib.git' });
  });
  await assertMemory(W.secret, 'notes/secret.txt', 'after the first sync');
  await assertMemory(W.readme1, 'README.md', 'after the first sync');

  await step('modify and add', () => {
    repo.write('src/main.rs', text('main-2'));
    repo.write('src/extra.rs', text('extra-1'));
  }, { diff: [['M', 'src/main.rs'], ['A', 'src/extra.rs']] });

  await step('rename a file', () => repo.move('src/util.rs', 'src/helpers.rs'), { diff: [['R', 'src/helpers.rs']] });
  await step('chmod +x', () => repo.chmod('scripts/tool.py', 0o755), { diff: [['M', 'scripts/tool.py']] });
  await step('chmod -x', () => repo.chmod('scripts/tool.py', 0o644), { diff: [['M', 'scripts/tool.py']] });

  await step('add symlinks', () => {
    repo.symlink('link-src', 'src');
    repo.symlink('docs/link to guide', 'guide.md');
  }, { diff: [['A', 'link-src'], ['A', 'docs/link to guide']] });

  await step('retarget a symlink', () => repo.symlink('link-readme', 'docs/guide.md'), { diff: [['M', 'link-readme']] });
  await step('remove a symlink', () => repo.remove('link-src'), { diff: [['D', 'link-src']] });
  await step('update a submodule', () => updateSubmodule('vendor/lib', libSha[2]), { diff: [['M', 'vendor/lib']] });
  await step('add a submodule (path with a space)', () => repo.addSubmodule('vendor/other lib', libSha[3]), {
    diff: [['A', 'vendor/other lib'], ['M', '.gitmodules']],
  });
  await step('remove a submodule', () => removeSubmodule('vendor/lib'), { diff: [['D', 'vendor/lib']] });
  await step('delete a directory entirely', () => repo.remove('old'), {
    diff: [['D', 'old/a.txt'], ['D', 'old/b.txt'], ['D', 'old/deep/er/c.txt']],
  });

  await step('binary files', () => {
    repo.write('assets/data.bin', binary('data-1'));
    repo.write('assets/logo.bin', binary('logo-2'));
  }, { diff: [['A', 'assets/data.bin'], ['M', 'assets/logo.bin']] });

  const huge1 = bigText('huge-1', { min: 1_200_000, word: W.huge });
  assert.ok(Buffer.byteLength(huge1) > MAX_TEXT_BYTES);
  await step('a large text file', () => repo.write('big/huge.log', huge1), { diff: [['A', 'big/huge.log']] });
  await assertMemory(W.huge, null, 'a text file above MAX_TEXT_BYTES keeps no content');

  await step('a text file of exactly MAX_TEXT_BYTES', () => {
    repo.write('big/exact.txt', bigText('exact-1', { exact: MAX_TEXT_BYTES, word: W.exact }));
  }, { diff: [['A', 'big/exact.txt']] });
  await assertMemory(W.exact, 'big/exact.txt', 'a text file of exactly MAX_TEXT_BYTES keeps its content');

  await step('modify the large file', () => repo.write('big/huge.log', bigText('huge-2', { min: 1_100_000, word: W.huge })), {
    diff: [['M', 'big/huge.log']],
  });
  await assertMemory(W.huge, null, 'still no content for the large file');

  await step('unicode and spaces', () => {
    repo.write('données/résumé été.txt', text('resume-1'));
    repo.write('emoji/🚀 launch.md', text('launch-1'));
  }, { diff: [['A', 'données/résumé été.txt'], ['A', 'emoji/🚀 launch.md']] });

  await step('rename across unicode directories', () => repo.move('docs/i18n/日本語/ünïcödé.md', 'docs/i18n/中文/ünïcödé.md'), {
    diff: [['R', 'docs/i18n/中文/ünïcödé.md']],
  });

  await step('move files between directories', () => {
    repo.move('src/net/http.rs', 'lib/net/http.rs');
    repo.move('src/extra.rs', 'lib/extra.rs');
    repo.move('données/résumé été.txt', 'docs/résumé été.txt');
  }, { diff: [['R', 'lib/net/http.rs'], ['R', 'lib/extra.rs'], ['R', 'docs/résumé été.txt']] });

  await step('an empty file and an LFS pointer', () => {
    repo.write('docs/empty note.txt', '');
    writeLfs('assets/model.bin', 'model-1', 734_003_200);
  }, { diff: [['A', 'docs/empty note.txt'], ['A', 'assets/model.bin']] });
  {
    const byPath = new Map((await alice.files(project.id)).map((f) => [f.path, f]));
    assert.equal(byPath.get('assets/model.bin')?.kind, 'lfs-pointer', 'a git-lfs pointer is kind lfs-pointer');
    assert.equal(byPath.get('docs/empty note.txt')?.size, 0);
    assert.equal(byPath.get('big/huge.log')?.kind, 'file', 'a large text file is still kind file');
    assert.equal(byPath.get('third_party/dep'), undefined);
    assert.equal(byPath.get('vendor/other lib')?.kind, 'submodule');
  }

  await step('delete the secret note, rewrite the README', () => {
    repo.remove('notes/secret.txt');
    repo.write('README.md', text('readme-2', { word: W.readme2 }));
  }, { diff: [['D', 'notes/secret.txt'], ['M', 'README.md']] });
  await assertMemory(W.secret, null, 'the deleted file\'s memory entries are superseded');
  await assertMemory(W.readme1, null, 'the old README\'s memory entries are superseded');
  await assertMemory(W.readme2, 'README.md', 'the new README');

  await step('rename the LFS pointer', () => repo.move('assets/model.bin', 'models/model.bin'), { diff: [['R', 'models/model.bin']] });

  await step('a symlink becomes a regular file', () => {
    repo.remove('link-readme');
    repo.write('link-readme', text('link-readme-now-a-file'));
  }, { diff: [['T', 'link-readme']] });

  await step('rename with a mode change', () => {
    repo.move('scripts/run.sh', 'bin/run');
    repo.chmod('bin/run', 0o644);
  }, { diff: [['R', 'bin/run']] });

  await step('swap submodules', () => {
    removeSubmodule('vendor/other lib');
    repo.addSubmodule('third_party/dep', libSha[4]);
  }, { diff: [['D', 'vendor/other lib'], ['A', 'third_party/dep']] });

  await step('delete the large file, modify several', () => {
    repo.remove('big/huge.log');
    repo.write('docs/guide.md', text('guide-2'));
    repo.write('lib/extra.rs', text('extra-2'));
    repo.write('assets/data.bin', binary('data-2'));
  }, { diff: [['D', 'big/huge.log'], ['M', 'docs/guide.md'], ['M', 'lib/extra.rs'], ['M', 'assets/data.bin']] });

  await step('unrelated add and delete in one commit', () => {
    repo.remove('emoji/🚀 launch.md');
    repo.write('CHANGELOG.md', text('changelog-1'));
  }, { diff: [['D', 'emoji/🚀 launch.md'], ['A', 'CHANGELOG.md']] });

  await step('an empty commit', () => {}, { allowEmpty: true });

  await step('revert a file to an earlier version', () => repo.write('src/main.rs', text('main-1')), { diff: [['M', 'src/main.rs']] });

  // Force push to unrelated history: one file keeps the content of a pre-orphan file (so git
  // sees a rename across the push), empty.txt stays empty at the same path.
  const helpers = repo.git(['show', 'HEAD:src/helpers.rs']);
  const orphan = repo.forcePushOrphan('main', {
    'README.md': text('readme-orphan'),
    'fresh/start.txt': text('fresh-start', { word: W.orphan }),
    'fresh/helpers.rs': helpers,
    'fresh/tool.sh': { content: `#!/bin/sh\n${text('fresh-tool')}`, mode: 0o755 },
    'empty.txt': '',
  }, 'orphan: unrelated history');
  await syncAndCheck('force push to unrelated history', orphan, { diff: [['R', 'fresh/helpers.rs'], ['A', 'fresh/start.txt'], ['D', 'src/main.rs']] });
  await assertMemory(W.orphan, 'fresh/start.txt', 'after the force push');
  await assertMemory(W.readme2, null, 'after the force push');

  await step('after the push: symlink, submodule, binary', () => {
    repo.symlink('fresh/link', 'start.txt');
    repo.addSubmodule('deps/lib', libSha[2]);
    repo.write('fresh/blob.bin', binary('fresh-blob'));
  }, { diff: [['A', 'fresh/link'], ['A', 'deps/lib'], ['A', 'fresh/blob.bin']] });

  await step('after the push: rename and modify', () => {
    repo.move('fresh/helpers.rs', 'src/helpers.rs');
    repo.write('README.md', text('readme-orphan-2'));
  }, { diff: [['R', 'src/helpers.rs'], ['M', 'README.md']] });

  await step('after the push: move a directory, retarget the link', () => {
    repo.move('fresh/tool.sh', 'tools/tool.sh');
    repo.move('fresh/blob.bin', 'tools/blob.bin');
    repo.symlink('fresh/link', '../tools/tool.sh');
  }, { diff: [['R', 'tools/tool.sh'], ['R', 'tools/blob.bin'], ['M', 'fresh/link']] });

  assert.ok(replay.length >= 30, `at least 30 commits replayed (${replay.length})`);
  process.stderr.write(`[history] ${replay.length} commits synced and checked in ${Date.now() - started} ms\n`);
});

test('the history is one chain: newest first, every sync links to the one before it', async () => {
  const hist = await alice.listAll(`/api/v1/projects/${project.id}/syncs`, { limit: 7 });
  assert.deepEqual(hist.map((h) => h.id), replay.map((r) => r.syncId).reverse());
  hist.forEach((h, i) => {
    assert.equal(h.status, 'COMPLETE');
    assert.equal(h.previousSyncId, hist[i + 1]?.id ?? null, `previousSyncId of ${h.id}`);
  });
});

test('files?at=<sync> reproduces the state right after every earlier sync', async () => {
  assert.ok(replay.length >= 5);
  for (const r of replay) {
    const got = fileShape(await alice.files(project.id, { at: r.syncId, limit: 500 }));
    assert.deepEqual(got, want(r.commit), `files?at= the sync of "${r.name}" (${r.syncId})`);
  }
});

test('restoring two earlier syncs: exactly their trees, kind restore, no GitHub request', async () => {
  const head = replay.at(-1);
  let prevId = head.syncId;
  let prevCommit = head.commit;
  const restores = [];
  const checks = [
    {
      target: at('a text file of exactly MAX_TEXT_BYTES'),
      memory: [[W.secret, 'notes/secret.txt'], [W.exact, 'big/exact.txt'], [W.readme1, 'README.md'], [W.orphan, null], [W.huge, null]],
    },
    {
      target: at('rename the LFS pointer'),
      memory: [[W.secret, null], [W.readme2, 'README.md'], [W.readme1, null], [W.orphan, null]],
    },
  ];
  for (const { target, memory: words } of checks) {
    const before = world.emulator.stats().total;
    const res = await alice.post(`/api/v1/projects/${project.id}/restore`, { syncId: target.syncId });
    assert.equal(res.status, 202, res.text);
    const { sync } = res.json;
    assert.equal(sync.kind, 'restore');
    assert.equal(sync.restoredFromSyncId, target.syncId);
    const done = await alice.waitSync(sync.id);
    const ctx = `restore of "${target.name}" (${target.syncId}) as ${sync.id}: ${JSON.stringify(done)}`;
    assertSyncShape(done);
    assert.equal(done.status, 'COMPLETE', ctx);
    assert.equal(done.kind, 'restore', ctx);
    assert.equal(done.restoredFromSyncId, target.syncId, ctx);
    assert.equal(done.previousSyncId, prevId, ctx);
    assert.equal(world.emulator.stats().total - before, 0, `${ctx}: the emulator saw no GitHub request during the restore`);
    assert.equal(done.stats.githubRequests, 0, ctx);
    assert.deepEqual(fileShape(await alice.files(project.id)), want(target.commit), `${ctx}: active files`);
    assert.deepEqual(done.counts, expectedCounts(repo, prevCommit, target.commit).counts, `${ctx}: counts`);
    assertChanges(await alice.listAll(`/api/v1/syncs/${sync.id}/changes`, { limit: 500 }), expectedChanges(repo, prevCommit, target.commit));
    assert.deepEqual(fileShape(await alice.files(project.id, { at: sync.id })), want(target.commit), `${ctx}: files?at= the restore`);
    const p = await alice.getJson(`/api/v1/projects/${project.id}`);
    assert.equal(p.currentSyncId, sync.id, ctx);
    for (const [word, p2] of words) {
      const items = await memory(word);
      if (p2 === null) assert.deepEqual(items.map((m) => m.path), [], `${ctx}: memory?q=${word} finds nothing`);
      else {
        assert.ok(items.length >= 1, `${ctx}: memory?q=${word} finds ${p2} again`);
        assert.equal(items[0].path, p2, `${ctx}: memory?q=${word}`);
        assert.deepEqual([...new Set(items.map((m) => m.path))], [p2], `${ctx}: memory?q=${word} only in ${p2}`);
      }
    }
    restores.push(sync.id);
    prevId = sync.id;
    prevCommit = target.commit;
  }

  // A sync after the restores brings the head back, diffed against the restored state.
  const { sync, done } = await alice.syncAndWait(project.id);
  assert.equal(done.previousSyncId, prevId, 'the sync after the restores links to the last restore');
  assert.equal(done.commitSha, head.commit);
  assert.deepEqual(done.counts, expectedCounts(repo, prevCommit, head.commit).counts, 'counts against the restored state');
  assert.deepEqual(fileShape(await alice.files(project.id)), want(head.commit));
  assertChanges(await alice.listAll(`/api/v1/syncs/${sync.id}/changes`, { limit: 500 }), expectedChanges(repo, prevCommit, head.commit));
});

test('memory search: a word in one current file finds it first; a deleted file\'s words find nothing', async () => {
  await assertMemory(W.orphan, 'fresh/start.txt', 'at the end');
  for (const w of [W.secret, W.readme1, W.readme2, W.huge, W.exact]) await assertMemory(w, null, `at the end (${w})`);
});
