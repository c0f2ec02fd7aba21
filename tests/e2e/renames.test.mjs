// Renames with edits, end to end: generated histories built with the git CLI, each commit
// synced through the worker and its change list checked against `git diff -M --raw`:
// renames at several similarities and into other directories, several candidate sources
// for one destination (ties, the same file name preferred, git's four kept sources per
// destination), identical file names in several directories, a unique file name pairing
// before a better score, CRLF line ends, a mode change, a file that becomes a directory,
// ties broken in byte order, texts of other shapes (600 KB, long lines, no final line feed,
// multi-byte), a seeded random history of 28 commits of edits and moves, a crowded one (every
// text like many others), and git's rename limit. Dry runs must say what the next real sync
// then does, and restores must report renames as `git diff -M` between the two commits does.
// RENAMES_SEED=n replays other random histories (the committed floor of renames each must
// make holds for seeds 1-8 as well).
//
// The fixture keeps every scored file a text the service keeps (UTF-8, no NUL, under
// 1 MiB, not an LFS pointer): other blobs pair only exactly, unlike git (src/renames.rs).
// No file is empty. Scores are git's (R087 = 87); a score off by one is tolerated by the
// per-sync check and reported by the last test, which wants none.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  startWorld,
  worldTest,
  createRepo,
  assertSyncShape,
  byteCompare,
  expectedCounts,
  expectedFiles,
  fileShape,
} from '../support/harness.mjs';
import { mulberry32 as prng } from '../support/prng.mjs';

/** git's empty tree: the "previous commit" of a first sync. */
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const RANDOM_COMMITS = 28;
/** The random history's seed (RENAMES_SEED=n runs another history; 22 is the committed one). */
const SEED = Number(process.env.RENAMES_SEED ?? 22);

let world;
let repo;
let alice;
let project;
/** One entry per real sync of the current repository, in order: { name, commit, syncId }. */
let replay = [];
/** Renames whose score is within 1 of git's but not equal: { ctx, path, ours, git }. */
const offByOne = [];
/** What git reported over every checked diff: exact and inexact renames, by score band. */
const seen = { exact: 0, inexact: 0, below75: 0, dryRuns: 0 };

const test = worldTest(() => world);

// ---------------------------------------------------------------------------
// Deterministic texts: a text is an array of distinct lines; edits replace lines by new
// ones of the same length, so a 20% edit scores about 80%.
// ---------------------------------------------------------------------------

const hex = (s) => crypto.createHash('sha256').update(s).digest('hex');

function lines(seed, n = 40) {
  return Array.from({ length: n }, (_, i) => `${seed}:${i} ${hex(`${seed}/${i}`).slice(0, 24 + (i % 17))}`);
}

/**
 * `src` with round(fraction × lines) lines, chosen by `pickSeed`, replaced by new lines of
 * the same length made from `seed` (two edits with one `pickSeed` score exactly alike).
 */
function edit(src, fraction, seed, pickSeed = seed) {
  const out = [...src];
  const rand = prng(parseInt(hex(pickSeed).slice(0, 8), 16));
  const order = out.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const k = Math.round(fraction * out.length);
  for (const i of order.slice(0, k)) {
    let line = `~${seed}~${i} `;
    for (let r = 0; line.length < out[i].length; r++) line += hex(`${seed}#${i}#${r}`);
    out[i] = line.slice(0, out[i].length);
  }
  return out;
}

const lf = (ls) => `${ls.join('\n')}\n`;
const crlf = (ls) => `${ls.join('\r\n')}\r\n`;

// ---------------------------------------------------------------------------
// git's answer
// ---------------------------------------------------------------------------

/** `git diff -M --raw -z --no-abbrev a b`: [{status, score, oldMode, newMode, oldSha, newSha, path, previousPath}]. */
function rawDiff(a, b, paths = []) {
  const tok = repo.git(['diff', '-M', '--raw', '-z', '--no-abbrev', '--no-ext-diff', a, b, '--', ...paths]).split('\0');
  const out = [];
  for (let i = 0; i < tok.length && tok[i]; ) {
    const [oldMode, newMode, oldSha, newSha, st] = tok[i++].slice(1).split(' ');
    const status = st[0];
    const score = st.length > 1 ? Number(st.slice(1)) : null;
    if (status === 'R' || status === 'C') {
      const previousPath = tok[i++];
      out.push({ status, score, oldMode, newMode, oldSha, newSha, previousPath, path: tok[i++] });
    } else out.push({ status, score, oldMode, newMode, oldSha, newSha, path: tok[i++] });
  }
  return out;
}

/** The change list the API must give for git's raw diff, in path order. */
function changesFromRaw(raw) {
  const names = { A: 'added', M: 'modified', T: 'modified', D: 'removed', R: 'renamed' };
  return raw
    .map((d) => {
      const change = names[d.status];
      assert.ok(change, `unexpected git status ${d.status} for ${d.path}`);
      if (d.status === 'A') return { path: d.path, change, sha: d.newSha };
      if (d.status === 'D') return { path: d.path, change, sha: d.oldSha, previousSha: d.oldSha };
      if (d.status === 'R') return { path: d.path, change, previousPath: d.previousPath, sha: d.newSha, previousSha: d.oldSha, similarity: d.score };
      return { path: d.path, change, sha: d.newSha, previousSha: d.oldSha };
    })
    .sort((x, y) => byteCompare(x.path, y.path));
}

const pairs = (rows) => rows.filter((r) => r.change === 'renamed').map((r) => `${r.previousPath} -> ${r.path}`).sort();

/**
 * The worker's change rows against git's diff from `a` to `b`: the renamed pairs first (the
 * point of this file, so a failure names them), each score within 1 of git's (an inexact
 * equality is collected for the last test), then the whole list with its shas.
 */
function checkChanges(rows, a, b, ctx) {
  const raw = rawDiff(a, b);
  const want = changesFromRaw(raw);
  const show = (rs) => JSON.stringify(rs.filter((r) => r.change === 'renamed').map((r) => [r.previousPath, r.path, r.similarity]));
  assert.deepEqual(pairs(rows), pairs(want), `${ctx}: renamed pairs (git diff -M ${a}..${b}); ours ${show(rows)}, git's ${show(want)}`);
  const gitScore = new Map(want.filter((w) => w.change === 'renamed').map((w) => [w.path, w.similarity]));
  for (const r of rows) {
    if (r.change !== 'renamed') {
      assert.equal(r.similarity ?? null, null, `${ctx}: no similarity on ${r.change} ${r.path}`);
      continue;
    }
    const g = gitScore.get(r.path);
    assert.ok(Number.isInteger(r.similarity) && Math.abs(r.similarity - g) <= 1, `${ctx}: similarity of ${r.previousPath} -> ${r.path}: ours ${r.similarity}, git's ${g}`);
    if (r.similarity !== g) offByOne.push({ ctx, path: r.path, previousPath: r.previousPath, ours: r.similarity, git: g });
  }
  const key = (r) => [r.path, r.change, r.previousPath ?? null, r.sha, r.previousSha ?? null];
  const lenient = (r, w) => (r.previousSha === undefined || r.previousSha === null ? { ...w, previousSha: null } : w);
  assert.deepEqual(rows.map(key), want.map((w, i) => key(rows[i] ? lenient(rows[i], w) : w)), `${ctx}: the change list equals git diff -M --raw`);
  return raw;
}

function tally(raw) {
  for (const d of raw.filter((x) => x.status === 'R')) {
    if (d.score === 100 && d.oldSha === d.newSha) seen.exact++;
    else seen.inexact++;
    if (d.score < 75) seen.below75++;
  }
}

/**
 * What a scenario's commit must make git report, so the fixture really exercises what it is
 * named after: ['R', path, previousPath, [lo, hi]] (score in lo..hi), ['A' | 'D' | 'M', path].
 */
function assertGitSays(raw, expects, ctx) {
  for (const [status, p, prev, range] of expects) {
    const d = raw.find((x) => x.path === p && x.status === status && (status !== 'R' || x.previousPath === prev));
    assert.ok(d, `[${ctx}] fixture: git reports ${status} ${prev ? `${prev} -> ` : ''}${p}; it reports ${JSON.stringify(raw.map((x) => [x.status + (x.score ?? ''), x.previousPath, x.path]))}`);
    if (range) assert.ok(d.score >= range[0] && d.score <= range[1], `[${ctx}] fixture: git's score of ${prev} -> ${p} is ${d.score}, not in ${range}`);
  }
}

// ---------------------------------------------------------------------------
// Syncing
// ---------------------------------------------------------------------------

async function changesOf(syncId) {
  return alice.listAll(`/api/v1/syncs/${syncId}/changes`, { limit: 500 });
}

/** Sync the head (which must be `commit`) and check it against git from the previous sync's commit. */
async function syncAndCheck(name, commit, expects = [], { limited = false } = {}) {
  const prev = replay.at(-1);
  const base = prev?.commit ?? EMPTY_TREE;
  const raw = rawDiff(base, commit);
  assertGitSays(raw, expects, name);
  const { sync, done } = await alice.syncAndWait(project.id);
  const ctx = `[${name}] sync ${sync.id} (${base.slice(0, 7)}..${commit.slice(0, 7)})`;
  assertSyncShape(done);
  assert.equal(done.commitSha, commit, `${ctx}: commitSha`);
  assert.equal(done.previousSyncId, prev?.syncId ?? null, `${ctx}: previousSyncId`);
  assert.equal(done.renameLimitExceeded, limited, `${ctx}: renameLimitExceeded`);
  assert.deepEqual(done.counts, expectedCounts(repo, base, commit).counts, `${ctx}: counts equal git diff -M`);
  const rows = await changesOf(sync.id);
  checkChanges(rows, base, commit, ctx);
  tally(raw);
  replay.push({ name, commit, syncId: sync.id });
  return rows;
}

/** A dry run of the head: checked against git, then the real sync, whose changes must be the dry run's. */
async function dryRunThenSync(name, commit, expects = [], { limited = false } = {}) {
  const base = replay.at(-1).commit;
  const { done: dry } = await alice.syncAndWait(project.id, { dryRun: true });
  const ctx = `[${name}] dry run ${dry.id}`;
  assert.equal(dry.dryRun, true, ctx);
  assert.equal(dry.commitSha, commit, ctx);
  assert.equal(dry.renameLimitExceeded, limited, `${ctx}: renameLimitExceeded`);
  assert.deepEqual(dry.counts, expectedCounts(repo, base, commit).counts, `${ctx}: counts equal git diff -M`);
  const dryRows = await changesOf(dry.id);
  checkChanges(dryRows, base, commit, ctx);
  const rows = await syncAndCheck(name, commit, expects, { limited });
  const shape = (rs) => rs.map((r) => ({ path: r.path, change: r.change, previousPath: r.previousPath ?? null, sha: r.sha, similarity: r.similarity ?? null }));
  assert.deepEqual(shape(rows), shape(dryRows), `${ctx}: the real sync does what the dry run said`);
  seen.dryRuns++;
}

/** Mutate the work tree, commit, and sync (a dry run first when asked). */
async function step(name, mutate, expects = [], { dryRun = false, limited = false } = {}) {
  mutate();
  const commit = repo.commit(name);
  project ??= await alice.createProject({ name: repo.name, repository: `acme/${repo.name}` });
  if (dryRun) await dryRunThenSync(name, commit, expects, { limited });
  else await syncAndCheck(name, commit, expects, { limited });
}

// ---------------------------------------------------------------------------
// The scenarios' texts
// ---------------------------------------------------------------------------

const T = Object.fromEntries(
  ['alpha', 'beta', 'gamma', 'delta', 'eps', 'keep', 'gone', 'X', 'Y', 'Z', 'W', 'B', 'P', 'Q', 'G1', 'G2', 'G3', 'G4', 'L1', 'L2', 'tool', 'in', 'item', 'grow']
    .map((k) => [k, lines(`text-${k}`, 40)]),
);
/** Sources of the four-slot case: B with 10% … 35% replaced, so B scores 90 … 65 against them. */
const S = [0.1, 0.15, 0.2, 0.25, 0.3, 0.35].map((f, i) => edit(T.B, f, `slot-src-${i + 1}`));

function writeBase() {
  for (const k of ['alpha', 'beta', 'gamma', 'delta', 'eps', 'keep', 'gone']) repo.write(`src/${k}.txt`, lf(T[k]));
  for (const p of ['ties/a/conf.txt', 'ties/b/settings.txt', 'ties/c/zzz.txt']) repo.write(p, lf(T.X));
  for (const p of ['tie2/p/one.txt', 'tie2/q/two.txt']) repo.write(p, lf(T.Z));
  repo.write('tie3/src.txt', lf(T.W));
  S.forEach((s, i) => repo.write(`slots/s${i + 1}.txt`, lf(s)));
  repo.write('bn/a/index.js', lf(T.P));
  repo.write('bn/b/index.js', lf(T.Q));
  repo.write('uq/one/widget.c', lf(edit(T.G1, 0.2, 'uq-widget')));
  repo.write('uq/one/gadget.c', lf(edit(T.G1, 0.05, 'uq-gadget')));
  repo.write('uq2/one/widget.h', lf(edit(T.G2, 0.3, 'uq2-widget')));
  repo.write('uq2/one/gadget.h', lf(edit(T.G2, 0.05, 'uq2-gadget')));
  repo.write('sym/one/thing.c', lf(edit(T.G3, 0.2, 'sym-thing')));
  repo.write('sym/one/other.c', lf(edit(T.G3, 0.05, 'sym-other')));
  repo.symlink('sym/link/thing.c', '../one/other.c');
  repo.write('symd/one/part.c', lf(edit(T.G4, 0.2, 'symd-part')));
  repo.write('symd/one/piece.c', lf(edit(T.G4, 0.05, 'symd-piece')));
  repo.write('eol/notes.txt', lf(T.L1));
  repo.write('eol/readme.txt', lf(T.L2));
  repo.write('bin/tool.sh', lf(T.tool));
  repo.write('inplace/a.txt', lf(T.in));
  repo.write('inplace/b.txt', lf(edit(T.in, 0.5, 'inplace-b')));
  repo.write('swap/item', lf(T.item));
  repo.write('grow/log.txt', lf(T.grow.slice(0, 24)));
}

// ---------------------------------------------------------------------------

before(async () => {
  world = await startWorld();
  repo = createRepo(world.root, 'acme', 'renames');
  alice = await world.createUser('renamer');
});

after(async () => {
  await world?.stop();
});

test('renames with edits equal git diff -M: similarities, ties, file names, line ends, modes', async () => {
  await step('base', writeBase);

  await step('renames at several similarities', () => {
    repo.remove('src/alpha.txt').write('lib/alpha.txt', lf(edit(T.alpha, 0.2, 'alpha')));
    repo.remove('src/beta.txt').write('lib/beta-renamed.txt', lf(edit(T.beta, 0.45, 'beta')));
    repo.remove('src/gamma.txt').write('pkg/deep/gamma.txt', lf(edit(T.gamma, 0.3, 'gamma')));
    repo.remove('src/delta.txt').write('docs/delta-moved.md', lf(edit(T.delta, 0.05, 'delta')));
    repo.remove('src/eps.txt').write('other/eps-new.txt', lf(edit(T.eps, 0.55, 'eps')));
    repo.write('src/keep.txt', lf(edit(T.keep, 0.1, 'keep')));
    repo.remove('src/gone.txt').write('src/fresh.txt', lf(lines('fresh')));
  }, [
    ['R', 'lib/alpha.txt', 'src/alpha.txt', [78, 82]],
    ['R', 'lib/beta-renamed.txt', 'src/beta.txt', [52, 58]],
    ['R', 'pkg/deep/gamma.txt', 'src/gamma.txt', [68, 72]],
    ['R', 'docs/delta-moved.md', 'src/delta.txt', [93, 97]],
    ['D', 'src/eps.txt'], ['A', 'other/eps-new.txt'], ['M', 'src/keep.txt'], ['D', 'src/gone.txt'], ['A', 'src/fresh.txt'],
  ], { dryRun: true });

  await step('several sources for one destination', () => {
    // Three identical sources score alike: the one with the destination's file name wins.
    for (const p of ['ties/a/conf.txt', 'ties/b/settings.txt', 'ties/c/zzz.txt']) repo.remove(p);
    repo.write('ties/new/settings.txt', lf(edit(T.X, 0.2, 'ties-new')));
    repo.write('ties/other/settings.txt', lf(T.Y)); // a second settings.txt: no unique name
    // Two identical sources, no name in common: the first in path order wins.
    for (const p of ['tie2/p/one.txt', 'tie2/q/two.txt']) repo.remove(p);
    repo.write('tie2/r/three.txt', lf(edit(T.Z, 0.15, 'tie2')));
    // One source, two destinations scoring alike: the first destination in path order wins.
    repo.remove('tie3/src.txt');
    repo.write('tie3/x/copy-a.txt', lf(edit(T.W, 0.1, 'tie3-a', 'tie3')));
    repo.write('tie3/y/copy-b.txt', lf(edit(T.W, 0.1, 'tie3-b', 'tie3')));
    // git keeps four sources per destination: target.txt's four best go to d1..d4, and s5
    // (70%) is never weighed for it.
    S.forEach((_, i) => repo.remove(`slots/s${i + 1}.txt`));
    S.slice(0, 4).forEach((s, i) => repo.write(`slots/d${i + 1}.txt`, lf(edit(s, 0.025, `slot-dst-${i + 1}`))));
    repo.write('slots/target.txt', lf(T.B));
  }, [
    ['R', 'ties/new/settings.txt', 'ties/b/settings.txt', [78, 82]], ['D', 'ties/a/conf.txt'], ['D', 'ties/c/zzz.txt'], ['A', 'ties/other/settings.txt'],
    ['R', 'tie2/r/three.txt', 'tie2/p/one.txt', [83, 87]], ['D', 'tie2/q/two.txt'],
    ['R', 'tie3/x/copy-a.txt', 'tie3/src.txt', [88, 92]], ['A', 'tie3/y/copy-b.txt'],
    ...[1, 2, 3, 4].map((i) => ['R', `slots/d${i}.txt`, `slots/s${i}.txt`, [95, 99]]),
    ['A', 'slots/target.txt'], ['D', 'slots/s5.txt'], ['D', 'slots/s6.txt'],
  ]);

  await step('identical file names, and a unique name before a better score', () => {
    repo.remove('bn/a/index.js').remove('bn/b/index.js');
    repo.write('bn/c/index.js', lf(edit(T.P, 0.15, 'bn-c')));
    repo.write('bn/d/index.js', lf(edit(T.Q, 0.4, 'bn-d')));
    // widget.c scores 80 (a unique name, ≥ 75: paired first), gadget.c would score 95.
    repo.remove('uq/one/widget.c').remove('uq/one/gadget.c').write('uq/two/widget.c', lf(T.G1));
    // widget.h scores 70 (< 75): the matrix gives gadget.h's 95.
    repo.remove('uq2/one/widget.h').remove('uq2/one/gadget.h').write('uq2/two/widget.h', lf(T.G2));
    // A symlink named thing.c among the sources: the name is not unique, the matrix decides.
    repo.remove('sym/one/thing.c').remove('sym/one/other.c').remove('sym/link/thing.c').write('sym/two/thing.c', lf(T.G3));
    // A symlink named part.c among the destinations: the same.
    repo.remove('symd/one/part.c').remove('symd/one/piece.c').write('symd/two/part.c', lf(T.G4)).symlink('symd/link/part.c', 'nowhere');
  }, [
    ['R', 'bn/c/index.js', 'bn/a/index.js', [83, 87]], ['R', 'bn/d/index.js', 'bn/b/index.js', [58, 62]],
    ['R', 'uq/two/widget.c', 'uq/one/widget.c', [78, 82]], ['D', 'uq/one/gadget.c'],
    ['R', 'uq2/two/widget.h', 'uq2/one/gadget.h', [93, 97]], ['D', 'uq2/one/widget.h'],
    ['R', 'sym/two/thing.c', 'sym/one/other.c', [93, 97]], ['D', 'sym/one/thing.c'], ['D', 'sym/link/thing.c'],
    ['R', 'symd/two/part.c', 'symd/one/piece.c', [93, 97]], ['D', 'symd/one/part.c'], ['A', 'symd/link/part.c'],
  ], { dryRun: true });

  await step('line ends, a mode change, in-place edits, a file that becomes a directory, growth', () => {
    // CRLF against LF: git skips a CR before an LF when it hashes, so the same lines copy
    // every byte but the CRs, over the larger (CRLF) size: about 97.
    repo.remove('eol/notes.txt').write('eol2/notes.txt', crlf(T.L1));
    repo.remove('eol/readme.txt').write('eol3/guide.txt', crlf(edit(T.L2, 0.1, 'eol-guide')));
    repo.remove('bin/tool.sh').write('scripts/tool.sh', lf(edit(T.tool, 0.1, 'tool')), { mode: 0o755 });
    // a.txt is modified in place; b.txt, removed, is like its new text: no rename (no -B).
    repo.write('inplace/a.txt', lf(edit(T.in, 0.45, 'inplace-b')));
    repo.remove('inplace/b.txt');
    repo.remove('swap/item').write('swap/item/item', lf(edit(T.item, 0.1, 'item')));
    repo.remove('grow/log.txt').write('grow2/log.txt', lf(T.grow.slice(0, 36)));
  }, [
    ['R', 'eol2/notes.txt', 'eol/notes.txt', [95, 99]], ['R', 'eol3/guide.txt', 'eol/readme.txt', [84, 92]],
    ['R', 'scripts/tool.sh', 'bin/tool.sh', [88, 92]], ['M', 'inplace/a.txt'], ['D', 'inplace/b.txt'],
    ['R', 'swap/item/item', 'swap/item', [88, 92]], ['R', 'grow2/log.txt', 'grow/log.txt', [60, 70]],
  ]);
  const eol = rawDiff(replay.at(-2).commit, replay.at(-1).commit).find((d) => d.path === 'eol2/notes.txt');
  assert.notEqual(eol.oldSha, eol.newSha, 'the CRLF rename is between two blobs');

  // Ties are broken in byte order of the paths (git's order): upper case before lower case,
  // ASCII before other characters; and a source taken by an exact rename is no one's else.
  const O = [1, 2, 3, 4].map((i) => lines(`order-${i}`));
  await step('ties in byte order: their sources', () => {
    for (const p of ['order/a.txt', 'order/B.txt']) repo.write(p, lf(O[0]));
    for (const p of ['order2/z.txt', 'order2/é.txt']) repo.write(p, lf(O[1]));
    repo.write('order3/s.txt', lf(O[2]));
    repo.write('dup/orig.txt', lf(O[3]));
  });
  await step('ties in byte order', () => {
    repo.remove('order/a.txt').remove('order/B.txt').write('order/new/c.txt', lf(edit(O[0], 0.2, 'order-c')));
    repo.remove('order2/z.txt').remove('order2/é.txt').write('order2/new/d.txt', lf(edit(O[1], 0.2, 'order-d')));
    repo.remove('order3/s.txt');
    repo.write('order3/x/p.txt', lf(edit(O[2], 0.1, 'order-p', 'order3')));
    repo.write('order3/x/Q.txt', lf(edit(O[2], 0.1, 'order-q', 'order3')));
    repo.remove('dup/orig.txt').write('dup/moved.txt', lf(O[3])).write('dup/near.txt', lf(edit(O[3], 0.1, 'dup-near')));
  }, [
    ['R', 'order/new/c.txt', 'order/B.txt', [75, 85]], ['D', 'order/a.txt'],
    ['R', 'order2/new/d.txt', 'order2/z.txt', [75, 85]], ['D', 'order2/é.txt'],
    ['R', 'order3/x/Q.txt', 'order3/s.txt', [85, 95]], ['A', 'order3/x/p.txt'],
    ['R', 'dup/moved.txt', 'dup/orig.txt', [100, 100]], ['A', 'dup/near.txt'],
  ], { dryRun: true });

  // Texts of other shapes: ~600 KB (read back from a pack in ranges), lines far longer than
  // git's 64-byte spans, no final line feed, multi-byte characters.
  const big = lines('big', 9000);
  const long = Array.from({ length: 30 }, (_, i) => hex(`long-${i}`).repeat(8));
  const unicode = lines('unicode', 40).map((l, i) => `${l} ${'日本語ünïcödé🚀'.repeat(1 + (i % 3))}`);
  const noEol = lines('no-eol', 30);
  await step('texts of other shapes', () => {
    repo.write('shapes/big.log', lf(big));
    repo.write('shapes/min.js', long.join(''));
    repo.write('shapes/unicode.md', lf(unicode));
    repo.write('shapes/no-eol.txt', noEol.join('\n'));
  }, [['A', 'shapes/big.log']]);
  await step('renaming them with edits', () => {
    repo.remove('shapes/big.log').write('archive/old-big.txt', lf(edit(big, 0.12, 'big')));
    repo.remove('shapes/min.js').write('dist/bundle.js', edit(long, 0.2, 'long').join(''));
    repo.remove('shapes/unicode.md').write('i18n/文書.md', lf(edit(unicode, 0.25, 'unicode')));
    repo.remove('shapes/no-eol.txt').write('notes/no-eol.txt', edit(noEol, 0.1, 'no-eol').join('\n'));
  }, [
    ['R', 'archive/old-big.txt', 'shapes/big.log', [84, 92]], ['R', 'dist/bundle.js', 'shapes/min.js', [75, 85]],
    ['R', 'i18n/文書.md', 'shapes/unicode.md', [70, 80]], ['R', 'notes/no-eol.txt', 'shapes/no-eol.txt', [85, 95]],
  ], { dryRun: true });
});

// ---------------------------------------------------------------------------
// The random history
// ---------------------------------------------------------------------------

const NAMES = ['index.js', 'util.rs', 'README.md', 'config.yml', 'main.c', 'notes.txt', 'data.csv', 'mod.rs'];
const DIRS = ['app', 'lib', 'lib/core', 'docs', 'src/a', 'src/b', 'tests', 'vendor/x', 'deep/er/still'];
const FRACTIONS = [0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.55];

/**
 * One commit's worth of random operations on `files` (path -> { lines, eol }). New files are
 * edits of a held file or unrelated texts, or, given `bases`, edits of one of them.
 */
function randomCommit(rand, files, n, bases = null) {
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const freshPath = () => {
    for (;;) {
      const p = `${pick(DIRS)}/${rand() < 0.6 ? pick(NAMES) : `f${Math.floor(rand() * 1000)}-${pick(NAMES)}`}`;
      // Neither a held path nor a prefix clash (a file where a directory is, or the reverse).
      if (![...files.keys()].some((q) => q === p || q.startsWith(`${p}/`) || p.startsWith(`${q}/`))) return p;
    }
  };
  const write = (p, f) => {
    files.set(p, f);
    repo.write(p, f.eol === 'crlf' ? crlf(f.lines) : lf(f.lines));
  };
  const ops = 2 + Math.floor(rand() * 6);
  for (let k = 0; k < ops; k++) {
    const held = [...files.keys()].sort();
    const r = rand();
    const p = pick(held);
    if (r < 0.35 && held.length > 8) {
      // Move, with an edit of any size (same file name in another directory, or a new name).
      const f = files.get(p);
      const to = rand() < 0.5 ? `${pick(DIRS.filter((d) => !p.startsWith(`${d}/`)))}/${p.split('/').pop()}` : freshPath();
      if (files.has(to) || [...files.keys()].some((q) => q.startsWith(`${to}/`) || to.startsWith(`${q}/`))) continue;
      repo.remove(p);
      files.delete(p);
      write(to, { ...f, lines: edit(f.lines, pick(FRACTIONS), `mv-${n}-${k}`) });
    } else if (r < 0.55) {
      const f = files.get(p);
      write(p, { ...f, lines: edit(f.lines, pick(FRACTIONS.slice(1)), `ed-${n}-${k}`) });
    } else if (r < 0.65 && held.length > 12) {
      repo.remove(p);
      files.delete(p);
    } else if (r < 0.8) {
      // A new file: unrelated, or like a held one (a rival source or destination).
      const like = files.get(p);
      const base = bases ? pick(bases) : rand() < 0.5 ? like.lines : lines(`new-${n}-${k}`, 8 + Math.floor(rand() * 50));
      write(freshPath(), { lines: edit(base, pick(FRACTIONS), `new-${n}-${k}`), eol: 'lf' });
    } else if (r < 0.9) {
      // Grow or shrink by a quarter.
      const f = files.get(p);
      const grown = rand() < 0.5 ? [...f.lines, ...lines(`grow-${n}-${k}`, Math.ceil(f.lines.length / 4))] : f.lines.slice(0, Math.ceil((f.lines.length * 3) / 4));
      write(p, { ...f, lines: grown.length ? grown : f.lines });
    } else if (r < 0.95) {
      const f = files.get(p);
      write(p, { ...f, eol: f.eol === 'lf' ? 'crlf' : 'lf' });
    } else {
      // Copy a held text to a new path (an exact duplicate: git's exact pairing meets ties).
      write(freshPath(), { ...files.get(p) });
    }
  }
}

test(`a seeded random history of ${RANDOM_COMMITS} commits of edits and moves: every sync equals git`, async () => {
  const started = Date.now();
  const rand = prng(SEED);
  const files = new Map();
  // Start from the scenario's tree, then add a population of texts.
  for (let i = 0; i < 30; i++) {
    const p = `${DIRS[i % DIRS.length]}/${i < 16 ? NAMES[i % NAMES.length] : `seed-${i}-${NAMES[i % NAMES.length]}`}`;
    if (files.has(p)) continue;
    files.set(p, { lines: lines(`pop-${i}`, 10 + ((i * 7) % 50)), eol: 'lf' });
    repo.write(p, lf(files.get(p).lines));
  }
  await step('random: population', () => {});
  for (let n = 1; n <= RANDOM_COMMITS; n++) {
    await step(`random ${n}`, () => randomCommit(rand, files, n), [], { dryRun: n % 7 === 0 });
  }
  assert.ok(seen.inexact >= 40, `the history made many renames with edits (${JSON.stringify(seen)})`);
  assert.ok(seen.below75 >= 5, `some of them under 75% (${JSON.stringify(seen)})`);
  assert.ok(seen.exact >= 2, `and exact ones (${JSON.stringify(seen)})`);
  process.stderr.write(`[renames] seed ${SEED}: ${replay.length} syncs so far checked against git, the random part in ${Date.now() - started} ms; ${JSON.stringify(seen)}\n`);
});

test('restores report renames as git diff -M between the two commits; the sync back too', async () => {
  const head = replay.at(-1);
  const targets = [replay.find((r) => r.name === 'renames at several similarities'), replay[replay.length - 12]];
  let prev = head;
  for (const target of targets) {
    const res = await alice.post(`/api/v1/projects/${project.id}/restore`, { syncId: target.syncId });
    assert.equal(res.status, 202, res.text);
    const done = await alice.waitSync(res.json.sync.id);
    const ctx = `[restore of "${target.name}" from "${prev.name}"] ${done.id}`;
    assert.equal(done.status, 'COMPLETE', `${ctx}: ${JSON.stringify(done)}`);
    assert.equal(done.stats.githubRequests, 0, `${ctx}: a restore asks GitHub nothing`);
    assert.deepEqual(fileShape(await alice.files(project.id, { limit: 500 })), expectedFiles(repo, target.commit), `${ctx}: files`);
    assert.deepEqual(done.counts, expectedCounts(repo, prev.commit, target.commit).counts, `${ctx}: counts`);
    tally(checkChanges(await changesOf(done.id), prev.commit, target.commit, ctx));
    prev = { ...target, name: `restore of ${target.name}` };
  }
  const { done } = await alice.syncAndWait(project.id);
  const ctx = `[sync after the restores] ${done.id}`;
  assert.equal(done.commitSha, head.commit, ctx);
  assert.deepEqual(done.counts, expectedCounts(repo, prev.commit, head.commit).counts, `${ctx}: counts`);
  const raw = checkChanges(await changesOf(done.id), prev.commit, head.commit, ctx);
  assert.ok(raw.some((d) => d.status === 'R' && d.oldSha !== d.newSha), `${ctx}: fixture: git pairs renames with edits here`);
});

test('a crowded random history (every text like many others): every sync equals git', async () => {
  // Another repository, whose texts are all edits of three: each destination has many
  // sources above 50%, so git's four kept sources, its order of equal scores and the greedy
  // assignment decide most pairs.
  repo = createRepo(world.root, 'acme', 'crowd');
  project = undefined;
  replay = [];
  const rand = prng(SEED + 1000);
  const bases = [0, 1, 2].map((b) => lines(`crowd-${b}`, 30));
  const files = new Map();
  for (let i = 0; i < 30; i++) {
    const p = `${DIRS[i % DIRS.length]}/${NAMES[(i * 3) % NAMES.length].replace('.', `-${i % 4}.`)}`;
    if (files.has(p)) continue;
    files.set(p, { lines: edit(bases[i % 3], 0.05 + (i % 8) * 0.05, `crowd-pop-${i}`), eol: 'lf' });
    repo.write(p, lf(files.get(p).lines));
  }
  const before = { ...seen };
  await step('crowd: population', () => {});
  for (let n = 1; n <= 16; n++) await step(`crowd ${n}`, () => randomCommit(rand, files, n, bases), [], { dryRun: n % 4 === 0 });
  assert.ok(seen.inexact - before.inexact >= 10, `the crowd made renames with edits (${JSON.stringify(seen)} from ${JSON.stringify(before)})`);
});

test('past git\'s rename limit only exact and unique-name renames are paired, and the sync says so', async () => {
  // Another repository: 1,010 removed and 1,010 added texts. After the five unique-name
  // pairs, 1,005 × 1,005 exceeds 1,000², so git skips the matrix: the 60% look-alikes stay
  // removed and added, and so do the unique-name pairs under 75%.
  repo = createRepo(world.root, 'acme', 'limit');
  project = undefined;
  replay = [];
  const put = (p, text) => {
    fs.mkdirSync(path.dirname(path.join(repo.dir, p)), { recursive: true });
    fs.writeFileSync(path.join(repo.dir, p), text);
  };
  const src = (i) => lines(`limit-${i}`, 6);
  const gone = (p) => fs.rmSync(path.join(repo.dir, p));
  const old = (i) => `old/g${i % 10}/o-${i}.txt`;
  await step('limit: base', () => {
    for (let i = 0; i < 1000; i++) put(old(i), lf(src(i)));
    for (let j = 0; j < 5; j++) put(`old/u/keep-${j}.md`, lf(lines(`keep-${j}`)));
    for (let j = 0; j < 5; j++) put(`old/v/half-${j}.md`, lf(lines(`half-${j}`)));
    repo.git(['add', '-A']);
  });
  const mutate = () => {
    for (let i = 0; i < 1000; i++) {
      gone(old(i));
      put(`new/g${i % 10}/n-${i}.txt`, lf(edit(src(i), 0.34, `limit-new-${i}`)));
    }
    for (let j = 0; j < 5; j++) {
      gone(`old/u/keep-${j}.md`);
      put(`new/u/keep-${j}.md`, lf(edit(lines(`keep-${j}`), 0.1, `keep-new-${j}`)));
      gone(`old/v/half-${j}.md`);
      put(`new/v/half-${j}.md`, lf(edit(lines(`half-${j}`), 0.4, `half-new-${j}`)));
    }
    repo.git(['add', '-A']);
  };
  await step('limit: past it', mutate, [
    ...[0, 1, 2, 3, 4].map((j) => ['R', `new/u/keep-${j}.md`, `old/u/keep-${j}.md`, [85, 95]]),
    ['D', 'old/v/half-0.md'], ['A', 'new/v/half-0.md'], ['D', old(7)], ['A', 'new/g7/n-7.txt'],
  ], { dryRun: true, limited: true });
  // What the limit withheld: within fewer paths (100 × 100) git's matrix pairs the look-alikes.
  const some = rawDiff(replay.at(-2).commit, replay.at(-1).commit, ['old/g0', 'new/g0']);
  assert.equal(some.filter((d) => d.status === 'R').length, 100, 'fixture: the look-alikes pair when the matrix runs');
});

test('a filtered project pairs renames among the paths it holds: git diff -M over its pathspec', async () => {
  // src/x.txt scores 80 against the new src/y.txt, vendor/x2.txt 95. Over the whole tree git
  // pairs vendor/x2.txt; the project excludes vendor/, so it holds src/ only, and
  // `git diff -M -- src` pairs src/x.txt.
  repo = createRepo(world.root, 'acme', 'filtered');
  replay = [];
  const G = lines('filtered');
  repo.write('src/x.txt', lf(edit(G, 0.2, 'filtered-x'))).write('vendor/x2.txt', lf(edit(G, 0.05, 'filtered-x2'))).write('src/keep.txt', lf(lines('keep')));
  const first = repo.commit('filtered: base');
  project = await alice.createProject({ name: 'filtered', repository: 'acme/filtered', exclude: ['/vendor/'] });
  const base = (await alice.syncAndWait(project.id)).done;
  assert.equal(base.commitSha, first);
  repo.remove('src/x.txt').remove('vendor/x2.txt').write('src/y.txt', lf(G));
  const second = repo.commit('filtered: rename');
  const whole = rawDiff(first, second);
  assert.ok(whole.some((d) => d.status === 'R' && d.previousPath === 'vendor/x2.txt'), 'fixture: over the whole tree git pairs the excluded file');
  const { done } = await alice.syncAndWait(project.id);
  const rows = await changesOf(done.id);
  const spec = changesFromRaw(rawDiff(first, second, ['src']));
  const shape = (rs) => rs.map((r) => [r.change, r.previousPath ?? null, r.path, r.similarity ?? null]);
  assert.deepEqual(shape(rows), shape(spec), `the filtered sync's changes; git over the whole tree: ${JSON.stringify(shape(changesFromRaw(whole)))}`);
});

test('every similarity is exactly git\'s', () => {
  assert.deepEqual(offByOne, [], 'renames whose score differs from git\'s by one');
});
