// Push benchmark (issue 19, defect 4): what a push of F new text files of ~1 MB costs the
// sync object — its isolate's peak wasm memory (the linear memory only grows, and the
// runtime is restarted before the push, so its size after the sync is the push's peak),
// wall time, GitHub requests and how the texts were read. Two layouts: a plain repository,
// where one tarball is cheaper, and one that also holds a large binary (listed, never read),
// which makes one `git/blobs` request per file cheaper: the path whose step budget the
// defect was about.
//
// Usage (after scripts/setup and scripts/build):
//   PATH=$PWD/node_modules/.bin:$PATH PROJECT_SYNC_PREBUILT=1 node bench/push-bench.mjs 30
// It asserts only that each sync completes and that the texts read back equal git's.

import crypto from 'node:crypto';
import assert from 'node:assert/strict';
import { startWorld, createRepo } from '../tests/support/harness.mjs';
import { diagnostics } from './probes.mjs';

const MiB = 1024 * 1024;
const files = Number(process.argv[2] ?? 30);

/** About 1 MB of text: lines of words, different for each file. */
function megabyteOfText(seed) {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];
  const lines = [];
  let size = 0;
  for (let i = 0; size < 1_000_000; i++) {
    const line = `${seed} ${i} ${words[(i * 7 + seed) % 8]} ${crypto.createHash('sha1').update(`${seed}-${i}`).digest('hex')}\n`;
    lines.push(line);
    size += line.length;
  }
  return lines.join('');
}

async function push(layout) {
  const world = await startWorld();
  try {
    const repo = createRepo(world.root, 'bench', `push-${layout}`);
    repo.write('README.md', '# push bench\n');
    if (layout === 'blobs') repo.write('media/recording.bin', crypto.randomBytes(96 * MiB));
    repo.commit('first');
    const user = await world.createUser('bench');
    const project = await user.createProject({ name: layout, repository: `bench/push-${layout}` });
    await user.syncAndWait(project.id);
    for (let i = 0; i < files; i++) repo.write(`docs/large-${String(i).padStart(2, '0')}.txt`, megabyteOfText(i));
    const commit = repo.commit(`${files} files of ~1 MB`);
    await world.restart();
    const before = world.emulator.stats();
    const t0 = performance.now();
    const { done } = await user.syncAndWait(project.id);
    const wallMs = Math.round(performance.now() - t0);
    const log = world.emulator.stats().log.slice(before.log.length);
    const after = await diagnostics(world, { sync: done.id });
    for (const i of [0, files - 1]) {
      const path = `docs/large-${String(i).padStart(2, '0')}.txt`;
      const res = await fetch(`${world.base}/api/v1/projects/${project.id}/files/content?path=${encodeURIComponent(path)}`, { headers: { authorization: `Bearer ${user.token}` } });
      const want = repo.git(['cat-file', 'blob', `${commit}:${path}`], { encoding: 'buffer' });
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(want), `${path} reads back as git has it`);
    }
    return {
      layout,
      wallMs,
      githubRequests: done.stats.githubRequests,
      blobRequests: log.filter((e) => e.route === 'blob').length,
      tarballRequests: log.filter((e) => e.route === 'tarball').length,
      objectWasmMiB: after.syncObjectWasmMemoryBytes / MiB,
    };
  } finally {
    await world.stop();
  }
}

const rows = [];
for (const layout of ['tarball', 'blobs']) rows.push(await push(layout));
console.log(`\npush of ${files} text files of ~1 MB`);
console.log('| layout | wall ms | GitHub requests | blob requests | tarball requests | sync object wasm MiB (peak) |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.layout} | ${r.wallMs} | ${r.githubRequests} | ${r.blobRequests} | ${r.tarballRequests} | ${r.objectWasmMiB.toFixed(2)} |`);
