// Filter benchmark: what pruning saves on a repository with a large excluded directory.
// One repository: `src/` (SRC files) next to `vendor/` (VENDOR files, enough that GitHub
// truncates a recursive listing of the root). Two projects on it, one holding everything
// and one with `exclude: ["/vendor/"]`; for each, a first sync, a one-file change in src/
// and a one-file change in vendor/: wall time, GitHub requests (tree requests apart, from
// the emulator's log), bytes downloaded and D1 rows written.
//
// Usage (after scripts/setup and scripts/build):
//   PATH=$PWD/node_modules/.bin:$PATH PROJECT_SYNC_PREBUILT=1 node bench/filter-bench.mjs [VENDOR] [SRC]
// It is a benchmark, not a test: it asserts only that each sync completes and that the
// filtered project holds exactly the files outside vendor/.

import fs from 'node:fs';
import path from 'node:path';
import { startWorld, createRepo, PROJECT_DIR } from '../tests/support/harness.mjs';

const [VENDOR = 110_000, SRC = 2_000] = process.argv.slice(2).map(Number);

function makeRepo(root) {
  const repo = createRepo(root, 'bench', 'vendored');
  for (let i = 0; i < SRC; i++) {
    const file = path.join(repo.dir, `src/m${Math.floor(i / 100)}/f${i % 100}.rs`);
    if (i % 100 === 0) fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `// source file ${i}\npub fn f${i}() -> u64 { ${i * 7919} }\n`);
  }
  for (let i = 0; i < VENDOR; i++) {
    const file = path.join(repo.dir, `vendor/p${Math.floor(i / 1000)}/d${Math.floor(i / 100) % 10}/f${i % 100}.js`);
    if (i % 100 === 0) fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `module.exports = ${i}; // vendored file ${i}\n`);
  }
  repo.git(['add', '-A']);
  repo.commit('src and vendor');
  return repo;
}

async function timedSync(world, user, projectId) {
  const from = world.emulator.stats().log.length;
  const t0 = performance.now();
  const started = await user.startSync(projectId);
  const done = await user.waitSync(started.sync.id, { timeoutMs: 60 * 60 * 1000 });
  const wallMs = Math.round(performance.now() - t0);
  if (done.status !== 'COMPLETE') throw new Error(`sync ended ${done.status}: ${done.error}`);
  const trees = world.emulator.stats().log.slice(from).filter((e) => e.route === 'tree').length;
  const s = done.stats;
  return { wallMs, githubRequests: s.githubRequests, treeRequests: trees, bytesDownloaded: s.bytesDownloaded, d1RowsWritten: s.d1RowsWritten };
}

function change(repo, rel) {
  fs.appendFileSync(path.join(repo.dir, rel), '// one more line\n');
  repo.git(['add', '-A']);
  repo.commit(`change ${rel}`);
}

const world = await startWorld();
const out = {};
try {
  process.stderr.write(`[bench] generating src/ (${SRC} files) and vendor/ (${VENDOR} files)...\n`);
  const repo = makeRepo(world.root);
  const user = await world.createUser('bench');
  // The pruned project syncs first, so that it reads its own contents (they are shared by
  // every project of a repository).
  const projects = {
    'exclude /vendor/': await user.createProject({ name: 'pruned', repository: 'bench/vendored', exclude: ['/vendor/'] }),
    everything: await user.createProject({ name: 'everything', repository: 'bench/vendored' }),
  };
  for (const [name, p] of Object.entries(projects)) {
    process.stderr.write(`[bench] ${name}: first sync...\n`);
    out[name] = { first: await timedSync(world, user, p.id) };
  }
  const held = await user.files(projects['exclude /vendor/'].id, { limit: 500 });
  if (held.length !== SRC || held.some((f) => f.path.startsWith('vendor/'))) throw new Error(`the pruned project holds ${held.length} files`);
  change(repo, 'src/m0/f0.rs');
  for (const [name, p] of Object.entries(projects)) out[name].srcChange = await timedSync(world, user, p.id);
  change(repo, 'vendor/p0/d0/f0.js');
  for (const [name, p] of Object.entries(projects)) out[name].vendorChange = await timedSync(world, user, p.id);
} finally {
  await world.stop();
}

const rows = [['project', 'sync', 'wall ms', 'GitHub req', 'tree req', 'bytes down', 'D1 rows']];
for (const [name, r] of Object.entries(out)) {
  for (const [sync, m] of [['first', r.first], ['1 src file changed', r.srcChange], ['1 vendor file changed', r.vendorChange]]) {
    rows.push([name, sync, String(m.wallMs), String(m.githubRequests), String(m.treeRequests), String(m.bytesDownloaded), String(m.d1RowsWritten)]);
  }
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
console.log(`src/: ${SRC} files, vendor/: ${VENDOR} files\n`);
for (const r of rows) console.log(r.map((c, i) => c.padStart(widths[i])).join('  '));
fs.mkdirSync(path.join(PROJECT_DIR, 'bench', 'out'), { recursive: true });
fs.writeFileSync(path.join(PROJECT_DIR, 'bench', 'out', `filters-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ SRC, VENDOR, out }, null, 2));
