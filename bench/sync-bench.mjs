// Sync benchmark: prints, for generated repositories of N files, the cost of a first sync,
// of a re-sync after a one-file change, and of a re-sync of an unchanged head: wall time,
// GitHub requests, D1 rows written (from D1's own result metadata), bytes downloaded, and
// the peak resident memory of the local runtime (workerd) during each sync.
//
// Usage (after scripts/setup and scripts/build):
//   PATH=$PWD/node_modules/.bin:$PATH PROJECT_SYNC_PREBUILT=1 node bench/sync-bench.mjs 10000 100000
// Writes bench/out/results-<time>.json as well. It is a benchmark, not a test: it asserts
// only that each sync completes and that the synced files match `git ls-tree`.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startWorld, createRepo, PROJECT_DIR } from '../tests/support/harness.mjs';
import { workerdRssKb as runtimeRssKb } from '../tests/support/processes.mjs';

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
if (sizes.length === 0) sizes.push(10_000);

/** Samples the runtime's RSS until stopped; returns the peak. */
function sampleMemory(rootPid) {
  let peak = runtimeRssKb(rootPid);
  const timer = setInterval(() => {
    peak = Math.max(peak, runtimeRssKb(rootPid));
  }, 100);
  return () => {
    clearInterval(timer);
    return peak;
  };
}

/** N files of ~100 bytes, 100 to a directory, two directory levels deep. */
function makeRepo(root, n) {
  const repo = createRepo(root, 'bench', `files-${n}`);
  const dir = repo.dir ?? path.join(root, 'bench', `files-${n}`);
  for (let i = 0; i < n; i++) {
    const rel = `t${Math.floor(i / 10_000)}/m${Math.floor(i / 100) % 100}/f${i % 100}.txt`;
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `file ${i}\nretry with backoff and jitter, bounded by the platform limits (${i * 7919})\n`);
  }
  repo.git(['add', '-A']);
  const sha = repo.commit(`${n} files`);
  return { repo, dir, sha };
}

async function timedSync(world, user, projectId) {
  const beforeKb = runtimeRssKb(world.pid);
  const stop = sampleMemory(world.pid);
  const t0 = performance.now();
  const started = await user.startSync(projectId);
  const done = await user.waitSync(started.sync.id, { timeoutMs: 60 * 60 * 1000 });
  const wallMs = Math.round(performance.now() - t0);
  const peakKb = stop();
  if (done.status !== 'COMPLETE') throw new Error(`sync ended ${done.status}: ${done.error}`);
  return {
    wallMs,
    githubRequests: done.stats.githubRequests,
    githubNotModified: done.stats.githubNotModified,
    d1RowsWritten: done.stats.d1RowsWritten,
    bytesDownloaded: done.stats.bytesDownloaded,
    runtimeRssBeforeMb: Math.round(beforeKb / 1024),
    peakRuntimeRssMb: Math.round(peakKb / 1024),
    counts: done.counts,
  };
}

const results = [];
for (const n of sizes) {
  const world = await startWorld();
  try {
    process.stderr.write(`[bench] generating a ${n}-file repository...\n`);
    const { repo, dir, sha } = makeRepo(world.root, n);
    const user = await world.createUser('bench');
    const project = await user.createProject({ name: `bench ${n}`, repository: `bench/files-${n}` });

    process.stderr.write(`[bench] first sync of ${n} files...\n`);
    const first = await timedSync(world, user, project.id);
    const files = await user.files(project.id, { limit: 500 });
    const lsTree = execFileSync('git', ['-C', dir, 'ls-tree', '-r', '--name-only', sha], { maxBuffer: 1 << 28 }).toString().trim().split('\n');
    if (files.length !== lsTree.length) throw new Error(`synced ${files.length} files, git has ${lsTree.length}`);

    fs.appendFileSync(path.join(dir, 't0/m0/f0.txt'), 'one more line\n');
    repo.git(['add', '-A']);
  repo.commit('one file changed');
    process.stderr.write('[bench] re-sync after a one-file change...\n');
    const oneFile = await timedSync(world, user, project.id);

    process.stderr.write('[bench] re-sync of an unchanged head...\n');
    const unchanged = await timedSync(world, user, project.id);

    results.push({ files: n, first, oneFile, unchanged });
  } finally {
    await world.stop();
  }
}

const rows = [['files', 'sync', 'wall ms', 'GitHub req', '304s', 'D1 rows written', 'bytes down', 'workerd RSS MB before', 'peak']];
for (const r of results) {
  for (const [name, m] of [['first', r.first], ['1-file change', r.oneFile], ['unchanged head', r.unchanged]]) {
    rows.push([r.files, name, m.wallMs, m.githubRequests, m.githubNotModified, m.d1RowsWritten, m.bytesDownloaded, m.runtimeRssBeforeMb, m.peakRuntimeRssMb].map(String));
  }
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(r.map((c, i) => c.padStart(widths[i])).join('  '));

const outDir = path.join(PROJECT_DIR, 'bench', 'out');
fs.mkdirSync(outDir, { recursive: true });
const out = path.join(outDir, `results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
fs.writeFileSync(out, JSON.stringify({ command: `node bench/sync-bench.mjs ${sizes.join(' ')}`, results }, null, 2));
console.log(`\nwritten to ${path.relative(PROJECT_DIR, out)}`);
