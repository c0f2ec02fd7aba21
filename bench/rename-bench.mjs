// Rename benchmark (issue 22): the cost of a sync that renames many files with edits, and
// whether its renames are git's.
//   names  N files (~600 bytes, 12 lines) move from old/ to moved/ keeping their file names,
//          one line of each edited (~92%): every pair comes from git's unique-basename step.
//   matrix M files move from old/f<i>.txt to new/g<i>.txt, one line edited: no name in
//          common, so the M × M matrix runs (M ≤ 1,000 stays within git's rename limit).
//   exact  N files move as in `names`, unedited: exact renames only, for comparison.
// After each, a one-file change in the same repository (an ordinary sync's cost).
// Per sync: wall time, GitHub requests, D1 rows written, bytes downloaded, the sync object's
// wasm memory (the runtime is restarted before each measured sync, and that memory only
// grows, so its size after the sync is the sync's peak), the workerd process's peak RSS; and
// the renamed changes against `git diff -M --raw` (pairs and scores), with git's own time.
// D1 rows read are not in a sync's stats (the scratch the rename steps use is the sync
// object's own SQLite, not D1).
//
// Usage (after scripts/setup and scripts/build):
//   PATH=$PWD/node_modules/.bin:$PATH PROJECT_SYNC_PREBUILT=1 node bench/rename-bench.mjs [--names 5000] [--matrix 900] [--exact 5000]

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startWorld, createRepo } from '../tests/support/harness.mjs';
import { diagnostics, rssBytes, samplePeak } from './probes.mjs';

const MiB = 1024 * 1024;
const args = process.argv.slice(2);
const arg = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const scenarios = [['names', arg('--names', 5000)], ['matrix', arg('--matrix', 900)], ['exact', arg('--exact', 0)]].filter(([, n]) => n > 0);

const hex = (s) => crypto.createHash('sha1').update(s).digest('hex');
const text = (i, edited = -1) =>
  Array.from({ length: 12 }, (_, l) => (l === edited ? `edited line ${i} ${hex(`e${i}`)}` : `file ${i} line ${l} ${hex(`${i}/${l}`)}`)).join('\n') + '\n';

function write(dir, rel, content) {
  const file = path.join(dir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

/** Sync the head after a runtime restart; the sync's stats and peaks. */
async function measured(world, user, projectId) {
  await world.restart();
  const stopRss = samplePeak(() => rssBytes(world), 100);
  const t0 = performance.now();
  const started = await user.startSync(projectId);
  const done = await user.waitSync(started.sync.id, { timeoutMs: 60 * 60 * 1000 });
  const wallMs = Math.round(performance.now() - t0);
  const peakRss = await stopRss();
  if (done.status !== 'COMPLETE') throw new Error(`sync ended ${done.status}: ${done.error}`);
  const diag = await diagnostics(world, { sync: done.id });
  return {
    id: done.id,
    wallMs,
    githubRequests: done.stats.githubRequests,
    d1RowsWritten: done.stats.d1RowsWritten,
    bytesDownloaded: done.stats.bytesDownloaded,
    objectWasmMiB: diag.syncObjectWasmMemoryBytes / MiB,
    peakRssMb: Math.round(peakRss / MiB),
    counts: done.counts,
    renameLimitExceeded: done.renameLimitExceeded,
  };
}

/** git's R entries between two commits, and how long git took. */
function gitRenames(repo, a, b) {
  const t0 = performance.now();
  const tok = repo.git(['diff', '-M', '--raw', '-z', '--no-abbrev', a, b]).split('\0');
  const ms = Math.round(performance.now() - t0);
  const renames = new Map();
  for (let i = 0; i < tok.length && tok[i]; ) {
    const st = tok[i++].split(' ')[4];
    if (st[0] === 'R') {
      renames.set(tok[i + 1], { from: tok[i], score: Number(st.slice(1)) });
      i += 2;
    } else i++;
  }
  return { renames, ms };
}

async function scenario(kind, n) {
  const world = await startWorld();
  try {
    const repo = createRepo(world.root, 'bench', `renames-${kind}-${n}`);
    const from = (i) => (kind === 'matrix' ? `old/f${i}.txt` : `old/d${Math.floor(i / 100)}/f${i}.txt`);
    const to = (i) => (kind === 'matrix' ? `new/g${i}.txt` : `moved/d${Math.floor(i / 100)}/f${i}.txt`);
    for (let i = 0; i < n; i++) write(repo.dir, from(i), text(i));
    repo.git(['add', '-A']);
    const first = repo.commit(`${n} files`);
    const user = await world.createUser('bench');
    const project = await user.createProject({ name: `${kind} ${n}`, repository: `bench/renames-${kind}-${n}` });
    process.stderr.write(`[bench] ${kind}: first sync of ${n} files...\n`);
    await user.syncAndWait(project.id, {}, { expect: 'COMPLETE' });

    for (let i = 0; i < n; i++) {
      fs.rmSync(path.join(repo.dir, from(i)));
      write(repo.dir, to(i), kind === 'exact' ? text(i) : text(i, i % 12));
    }
    repo.git(['add', '-A']);
    const moved = repo.commit(`${n} files renamed with edits`);
    process.stderr.write(`[bench] ${kind}: the sync renaming ${n} files...\n`);
    const rename = await measured(world, user, project.id);
    const git = gitRenames(repo, first, moved);
    const rows = await user.listAll(`/api/v1/syncs/${rename.id}/changes`, { limit: 500 });
    const ours = rows.filter((r) => r.change === 'renamed');
    rename.gitRenamed = git.renames.size;
    rename.gitMs = git.ms;
    rename.samePairs = ours.filter((r) => git.renames.get(r.path)?.from === r.previousPath).length;
    rename.sameScores = ours.filter((r) => git.renames.get(r.path)?.score === r.similarity).length;

    fs.appendFileSync(path.join(repo.dir, to(0)), 'one more line\n');
    repo.git(['add', '-A']);
    repo.commit('one file changed');
    process.stderr.write(`[bench] ${kind}: a one-file change...\n`);
    const oneFile = await measured(world, user, project.id);
    return { kind, files: n, rename, oneFile };
  } finally {
    await world.stop();
  }
}

const results = [];
for (const [kind, n] of scenarios) results.push(await scenario(kind, n));
console.log('\n| scenario | files | sync | wall ms | GitHub req | D1 rows written | bytes down | object wasm MiB (peak) | RSS MB (peak) | renamed (git) | same pairs | same scores | limit | git diff -M ms |');
console.log('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |');
for (const r of results) {
  for (const [name, m] of [['renames', r.rename], ['1-file change', r.oneFile]]) {
    const renamed = `${m.counts.renamed}${m.gitRenamed === undefined ? '' : ` (${m.gitRenamed})`}`;
    console.log(`| ${r.kind} | ${r.files} | ${name} | ${m.wallMs} | ${m.githubRequests} | ${m.d1RowsWritten} | ${m.bytesDownloaded} | ${m.objectWasmMiB.toFixed(2)} | ${m.peakRssMb} | ${renamed} | ${m.samePairs ?? '-'} | ${m.sameScores ?? '-'} | ${m.renameLimitExceeded} | ${m.gitMs ?? '-'} |`);
  }
}
const outDir = path.join(path.dirname(new URL(import.meta.url).pathname), 'out');
fs.mkdirSync(outDir, { recursive: true });
const out = path.join(outDir, `renames-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
fs.writeFileSync(out, JSON.stringify({ command: `node bench/rename-bench.mjs ${args.join(' ')}`, results }, null, 2));
console.log(`written to ${out}`);
