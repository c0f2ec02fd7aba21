// Read benchmark (issue 19): what a page of `compare` and of memory search costs.
// - compare from the empty state of an N-file repository (the sync benchmark's layout),
//   pages of 500: each page's wall ms and D1 rows read (D1's own result metadata, which
//   the worker reports in `x-d1-rows-read` while test faults are on, as in every bench
//   world), the time to page through all of it, the worker isolate's peak wasm memory and
//   its JS heap sampled through the inspector;
// - with `--apart A`: two states A changes apart (every file of an A-file repository
//   edited in one commit): the compare between them paged the same way, then a restore of
//   the first state from the second (wall ms and D1 rows written, the sync's own stats);
// - memory search over F files of ~1 MB whose every chunk holds the word searched
//   (`--memory F`), limit 500: the first page's ms, entries and text bytes, the time and
//   pages to the end, peak wasm memory and JS heap.
// The runtime is restarted after the sync, so the peaks are the reads' own (the wasm
// memory only grows; the diagnostics read it after the reads).
//
// Usage (after scripts/setup and scripts/build):
//   PATH=$PWD/node_modules/.bin:$PATH PROJECT_SYNC_PREBUILT=1 node bench/read-bench.mjs 100000 --memory 30
//   PATH=$PWD/node_modules/.bin:$PATH PROJECT_SYNC_PREBUILT=1 node bench/read-bench.mjs --apart 100000
// `--max-pages P` stops paging after P pages (for a build whose pages cost the whole
// state); the time to page through is then left out. Writes bench/out/reads-<time>.json.

import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startWorld, createRepo, PROJECT_DIR } from '../tests/support/harness.mjs';
import { diagnostics, openInspector, samplePeak } from './probes.mjs';
import { makeRepo } from './repos.mjs';

const MiB = 1024 * 1024;
const args = process.argv.slice(2);
const option = (name) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args.splice(at, 2)[1]) : 0;
};
const memoryFiles = option('--memory');
const apartFiles = option('--apart');
const maxPages = option('--max-pages') || Infinity;
const sizes = args.map(Number).filter((n) => n > 0);

async function syncOnce(user, projectId) {
  const started = await user.startSync(projectId);
  return finished(user, started.sync.id);
}

async function finished(user, syncId) {
  const done = await user.waitSync(syncId, { timeoutMs: 60 * 60 * 1000 });
  if (done.status !== 'COMPLETE') throw new Error(`sync ended ${done.status}: ${done.error}`);
  return done;
}

/** Pages through `url` with limit 500 after a fresh start of the runtime. */
async function pageThrough(world, user, url) {
  await world.restart();
  const inspector = await openInspector(world);
  const stopHeap = samplePeak(() => inspector.heapUsedBytes(), 50);
  const pages = [];
  let cursor = null;
  const t0 = performance.now();
  try {
    while (pages.length < maxPages) {
      const p0 = performance.now();
      const res = await user.get(`${url}${url.includes('?') ? '&' : '?'}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      if (res.status !== 200) throw new Error(`${url}: ${res.status} ${res.text.slice(0, 300)}`);
      const items = res.json.items;
      pages.push({
        ms: performance.now() - p0,
        rowsRead: Number(res.headers.get('x-d1-rows-read') ?? NaN),
        items: items.length,
        textBytes: items.reduce((n, m) => n + (m.text ? Buffer.byteLength(m.text) : 0), 0),
      });
      cursor = res.json.nextCursor;
      if (cursor === null) break;
    }
    const totalMs = cursor === null ? Math.round(performance.now() - t0) : null;
    const after = await diagnostics(world);
    return { pages, totalMs, complete: cursor === null, wasmMiB: after.wasmMemoryBytes / MiB, heapMiB: (await stopHeap()) / MiB };
  } finally {
    inspector.close();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const max = (xs) => xs.reduce((a, b) => Math.max(a, b), 0);

async function benchCompare(n) {
  const world = await startWorld();
  try {
    process.stderr.write(`[bench] generating and syncing a ${n}-file repository...\n`);
    makeRepo(world.root, n);
    const user = await world.createUser('bench');
    const project = await user.createProject({ name: `bench ${n}`, repository: `bench/files-${n}` });
    await syncOnce(user, project.id);
    process.stderr.write('[bench] compare from the empty state, pages of 500...\n');
    const r = await pageThrough(world, user, `/api/v1/projects/${project.id}/compare`);
    const items = r.pages.reduce((a, p) => a + p.items, 0);
    if (r.complete && items !== n) throw new Error(`compare listed ${items} changes, the repository has ${n} files`);
    return { files: n, ...r, items };
  } finally {
    await world.stop();
  }
}

/** Edits every file of the sync benchmark's layout (`makeRepo`) in one commit. */
function editEveryFile(dir) {
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: dir, maxBuffer: 1 << 28 }).toString().split('\0').filter(Boolean);
  for (const rel of files) fs.appendFileSync(path.join(dir, rel), 'edited\n');
  return files.length;
}

async function benchApart(n) {
  const world = await startWorld();
  try {
    process.stderr.write(`[bench] two states ${n} changes apart: generating and syncing ${n} files, then editing all of them...\n`);
    const { repo, dir } = makeRepo(world.root, n);
    const user = await world.createUser('bench');
    const project = await user.createProject({ name: `apart ${n}`, repository: `bench/files-${n}` });
    const first = await syncOnce(user, project.id);
    const edited = editEveryFile(dir);
    repo.git(['add', '-A']);
    repo.commit(`${edited} files edited`);
    const second = await syncOnce(user, project.id);
    process.stderr.write('[bench] compare of the two states, pages of 500...\n');
    const r = await pageThrough(world, user, `/api/v1/projects/${project.id}/compare?from=${first.id}&to=${second.id}`);
    const items = r.pages.reduce((a, p) => a + p.items, 0);
    if (r.complete && items !== n) throw new Error(`compare listed ${items} changes, ${n} files were edited`);
    process.stderr.write('[bench] restore of the first state...\n');
    const t0 = performance.now();
    const started = await user.post(`/api/v1/projects/${project.id}/restore`, { syncId: first.id });
    if (started.status !== 202) throw new Error(`restore: ${started.status} ${started.text.slice(0, 300)}`);
    const restored = await finished(user, started.json.sync.id);
    const restore = { wallMs: Math.round(performance.now() - t0), d1RowsWritten: restored.stats.d1RowsWritten };
    return { files: n, ...r, items, restore };
  } finally {
    await world.stop();
  }
}

/** F files of ~1,000,000 bytes (under the 1 MiB text limit), the word on every line. */
function makeTexts(root, f) {
  const repo = createRepo(root, 'bench', `texts-${f}`);
  for (let i = 0; i < f; i++) {
    const lines = [];
    let size = 0;
    for (let l = 0; size < 999_000; l++) {
      const line = `line ${l} of text ${i}: zephyrquartz ${crypto.randomBytes(30).toString('hex')}\n`;
      lines.push(line);
      size += line.length;
    }
    fs.mkdirSync(path.join(repo.dir, 'texts'), { recursive: true });
    fs.writeFileSync(path.join(repo.dir, 'texts', `t${i}.txt`), lines.join(''));
  }
  repo.git(['add', '-A']);
  repo.commit(`${f} large texts`);
}

async function benchMemory(f) {
  const world = await startWorld();
  try {
    process.stderr.write(`[bench] generating and syncing ${f} texts of ~1 MB...\n`);
    makeTexts(world.root, f);
    const user = await world.createUser('bench');
    const project = await user.createProject({ name: `texts ${f}`, repository: `bench/texts-${f}` });
    await syncOnce(user, project.id);
    process.stderr.write('[bench] memory search, limit 500...\n');
    const r = await pageThrough(world, user, `/api/v1/projects/${project.id}/memory?q=zephyrquartz`);
    return { files: f, ...r, items: r.pages.reduce((a, p) => a + p.items, 0) };
  } finally {
    await world.stop();
  }
}

function printTable(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  for (const r of rows) console.log(r.map((c, i) => String(c).padStart(widths[i])).join('  '));
  console.log('');
}

const results = { compare: [], apart: null, memory: null };
for (const n of sizes) results.compare.push(await benchCompare(n));
if (apartFiles) results.apart = await benchApart(apartFiles);
if (memoryFiles) results.memory = await benchMemory(memoryFiles);

function printCompare(title, runs) {
  const rows = [['files', 'pages', 'page ms (median / max)', 'D1 rows read / page (median / max)', 'ms to page through', 'changes / s',
    'wasm MiB (peak)', 'JS heap MiB']];
  for (const r of runs) {
    const ms = r.pages.map((p) => p.ms);
    const read = r.pages.map((p) => p.rowsRead);
    rows.push([r.files, `${r.pages.length}${r.complete ? '' : ' (stopped)'}`, `${Math.round(median(ms))} / ${Math.round(max(ms))}`,
      `${median(read)} / ${max(read)}`, r.totalMs ?? '-', r.totalMs ? Math.round((r.items * 1000) / r.totalMs) : '-',
      r.wasmMiB.toFixed(2), r.heapMiB.toFixed(1)]);
  }
  console.log(title);
  printTable(rows);
}

if (results.compare.length) printCompare('compare from the empty state, pages of 500', results.compare);
if (results.apart) {
  const a = results.apart;
  printCompare(`compare of two states ${a.files} changes apart, pages of 500`, [a]);
  console.log(`restore of the first state from the second: ${a.restore.wallMs} ms, ${a.restore.d1RowsWritten} D1 rows written\n`);
}
if (results.memory) {
  const m = results.memory;
  const first = m.pages[0];
  console.log(`memory search over ${m.files} texts of ~1 MB, limit 500`);
  printTable([
    ['first page ms', 'first page entries', 'first page text bytes', 'pages', 'entries', 'ms to page through', 'wasm MiB (peak)', 'JS heap MiB'],
    [Math.round(first.ms), first.items, first.textBytes, m.pages.length, m.items, m.totalMs ?? '-', m.wasmMiB.toFixed(2), m.heapMiB.toFixed(1)],
  ]);
}

const outDir = path.join(PROJECT_DIR, 'bench', 'out');
fs.mkdirSync(outDir, { recursive: true });
const out = path.join(outDir, `reads-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
fs.writeFileSync(out, JSON.stringify({ command: `node bench/read-bench.mjs ${process.argv.slice(2).join(' ')}`, results }, null, 2));
console.log(`written to ${path.relative(PROJECT_DIR, out)}`);
