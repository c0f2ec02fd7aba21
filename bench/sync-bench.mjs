// Sync benchmark: for generated repositories of N files, the cost of a first sync, of a
// re-sync after a one-file change and of a re-sync of an unchanged head — wall time,
// GitHub requests, D1 rows written (D1's own result metadata), bytes downloaded, the
// isolate's peak wasm memory and JS heap, the workerd process's peak RSS, D1 bytes and
// R2 bytes per held file — each next to the figure RESULTS.md had before.
// `--cron N`: a no-op cron tick over N tracked projects (requests, 304s, sync rows, time).
// `--layout mixed`: the repositories are bench/repos.mjs makeMixedRepo's mixed-depth monorepo
// layout instead of makeRepo's uniform one (100 files a directory, two levels; the default).
//
// Usage (after scripts/setup and scripts/build):
//   PATH=$PWD/node_modules/.bin:$PATH PROJECT_SYNC_PREBUILT=1 node bench/sync-bench.mjs 30000 100000 300000 --cron 10000
// Writes bench/out/results-<time>.json as well. It is a benchmark, not a test: it asserts
// only that each sync completes and that the synced files match `git ls-tree`.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startWorld, PROJECT_DIR } from '../tests/support/harness.mjs';
import { makeMixedRepo, makeRepo } from './repos.mjs';
import { diagnostics, openInspector, rssBytes, samplePeak } from './probes.mjs';
import { withPrevious } from './previous.mjs';
import { cronNoOpTick } from './cron-tick.mjs';

const MiB = 1024 * 1024;
const args = process.argv.slice(2);
const cronAt = args.indexOf('--cron');
const cronProjects = cronAt >= 0 ? Number(args.splice(cronAt, 2)[1]) : 0;
const layoutAt = args.indexOf('--layout');
const layout = layoutAt >= 0 ? args.splice(layoutAt, 2)[1] : 'uniform';
// Each layout: its repositories, and the file a one-file change appends to.
const LAYOUTS = {
  uniform: (root, n) => ({ ...makeRepo(root, n), changePath: 't0/m0/f0.txt' }),
  mixed: makeMixedRepo,
};
if (!LAYOUTS[layout]) throw new Error(`--layout ${layout}: expected one of ${Object.keys(LAYOUTS).join(', ')}`);
const sizes = args.map(Number).filter((n) => n > 0);
if (sizes.length === 0 && !cronProjects) sizes.push(10_000);

async function timedSync(world, inspector, user, projectId) {
  const stopRss = samplePeak(() => rssBytes(world), 100);
  const stopHeap = process.env.BENCH_NO_HEAP ? async () => 0 : samplePeak(() => inspector.heapUsedBytes(), 250);
  const t0 = performance.now();
  const started = await user.startSync(projectId);
  const done = await user.waitSync(started.sync.id, { timeoutMs: 60 * 60 * 1000 });
  const wallMs = Math.round(performance.now() - t0);
  const [peakRss, peakHeap] = [await stopRss(), await stopHeap()];
  if (done.status !== 'COMPLETE') throw new Error(`sync ended ${done.status}: ${done.error}`);
  const after = await diagnostics(world, { sync: started.sync.id });
  return {
    wallMs,
    githubRequests: done.stats.githubRequests,
    githubNotModified: done.stats.githubNotModified,
    d1RowsWritten: done.stats.d1RowsWritten,
    bytesDownloaded: done.stats.bytesDownloaded,
    workerWasmMiB: after.wasmMemoryBytes / MiB,
    wasmMiB: after.syncObjectWasmMemoryBytes / MiB,
    peakHeapMiB: peakHeap / MiB,
    peakRssMb: Math.round(peakRss / MiB),
    d1SizeBytes: after.d1SizeBytes,
    counts: done.counts,
  };
}

async function benchSize(n) {
  const world = await startWorld();
  const inspector = await openInspector(world);
  try {
    process.stderr.write(`[bench] generating a ${n}-file repository (${layout} layout)...\n`);
    const { repo, dir, sha, changePath } = LAYOUTS[layout](world.root, n);
    const user = await world.createUser('bench');
    const repository = `${repo.owner}/${repo.name}`;
    const project = await user.createProject({ name: layout === 'uniform' ? `bench ${n}` : `bench ${layout} ${n}`, repository });
    const d1Before = (await diagnostics(world)).d1SizeBytes;

    process.stderr.write(`[bench] first sync of ${n} files...\n`);
    const first = await timedSync(world, inspector, user, project.id);
    const files = await user.files(project.id, { limit: 500 });
    const lsTree = execFileSync('git', ['-C', dir, 'ls-tree', '-r', '--name-only', sha], { maxBuffer: 1 << 28 }).toString().trim().split('\n');
    if (files.length !== lsTree.length) throw new Error(`synced ${files.length} files, git has ${lsTree.length}`);
    const content = (await diagnostics(world, { repository })).content;
    first.rowsPerFile = first.d1RowsWritten / n;
    first.d1BytesPerFile = (first.d1SizeBytes - d1Before) / n;
    first.r2Objects = content.objects;
    first.r2Bytes = content.bytes;

    fs.appendFileSync(path.join(dir, changePath), 'one more line\n');
    repo.git(['add', '-A']);
    repo.commit('one file changed');
    process.stderr.write('[bench] re-sync after a one-file change...\n');
    const oneFile = await timedSync(world, inspector, user, project.id);

    process.stderr.write('[bench] re-sync of an unchanged head...\n');
    const unchanged = await timedSync(world, inspector, user, project.id);
    return { layout, files: n, first, oneFile, unchanged };
  } finally {
    inspector.close();
    await world.stop();
  }
}

function printTable(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => c.padStart(widths[i])).join('  '));
  console.log('');
}

function report(results) {
  const head = ['layout', 'files', 'sync', 'wall ms', 'GitHub req', '304s', 'D1 rows', 'bytes down', 'object wasm MiB', 'worker wasm MiB', 'JS heap MiB', 'RSS MB'];
  const rows = [head];
  for (const r of results) {
    for (const [name, m] of [['first', r.first], ['1-file change', r.oneFile], ['unchanged head', r.unchanged]]) {
      // The earlier figures are the uniform layout's.
      const w = (key, v) => withPrevious(r.layout === 'uniform' ? r.files : `${r.layout}:${r.files}`, name, key, v);
      rows.push([r.layout, String(r.files), name, w('wallMs', m.wallMs), w('githubRequests', m.githubRequests), String(m.githubNotModified),
        w('d1RowsWritten', m.d1RowsWritten), w('bytesDownloaded', m.bytesDownloaded), w('wasmMiB', m.wasmMiB), m.workerWasmMiB.toFixed(2),
        m.peakHeapMiB.toFixed(1), w('peakRssMb', m.peakRssMb)]);
    }
  }
  printTable(rows);
  const storage = [['layout', 'files', 'D1 rows / new file', 'D1 bytes / held file', 'R2 objects', 'R2 bytes', 'R2 bytes / file']];
  for (const r of results) {
    const f = r.first;
    storage.push([r.layout, String(r.files), withPrevious(r.layout === 'uniform' ? r.files : `${r.layout}:${r.files}`, 'first', 'rowsPerFile', f.rowsPerFile), f.d1BytesPerFile.toFixed(0),
      String(f.r2Objects), String(f.r2Bytes), (f.r2Bytes / r.files).toFixed(1)]);
  }
  printTable(storage);
}

const results = [];
for (const n of sizes) results.push(await benchSize(n));
if (results.length) report(results);
let cron = null;
if (cronProjects) {
  cron = await cronNoOpTick(cronProjects);
  console.log(`cron no-op tick over ${cron.projects} tracked projects: ${cron.checks} head checks, ${cron.notModified} answered 304, ` +
    `${cron.syncRows} sync rows, ${cron.wallMs} ms until the last check\n`);
}

const outDir = path.join(PROJECT_DIR, 'bench', 'out');
fs.mkdirSync(outDir, { recursive: true });
const out = path.join(outDir, `results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
fs.writeFileSync(out, JSON.stringify({ command: `node bench/sync-bench.mjs ${process.argv.slice(2).join(' ')}`, layout, results, cron }, null, 2));
console.log(`written to ${path.relative(PROJECT_DIR, out)}`);
