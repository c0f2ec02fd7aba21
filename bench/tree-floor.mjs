// How many GitHub tree requests a first sync needs to learn a whole tree when GitHub
// truncates its answers, computed from `git ls-tree -r -t` (no runtime, no build).
//
// GitHub answers GET git/trees/{sha}?recursive=1 with the first LIMIT (100,000) entries of
// the tree's `ls-tree -r -t` order — a depth-first prefix — and truncated:true; the
// emulator does exactly that (tests/support/github-emulator/git.mjs parseLsTree). A
// non-recursive answer is the tree's own entries (truncated past LIMIT as well). For a
// tree, this prints:
//   today       the tree requests of the engine's walk (src/engine/fetching.rs list_tree and
//               descend), simulated: list the root recursively; after a truncated recursive
//               listing of X, list X non-recursively and each subdirectory of X the listing
//               did not hold whole recursively, and so on for each truncated one;
//   natural     list X recursively; if truncated, for each directory of the chain open at
//               the cut (X down to the deepest partial one): the first below X that fits in
//               LIMIT is listed recursively (which holds everything below it), the ones above
//               it non-recursively (their later children's shas) with each later child
//               solved the same way (never better than today's when a partial directory is
//               big but made of many small subtrees: today's recursive listing of it from
//               its own start holds many of them whole);
//   floor       the fewest tree requests that can learn every entry (exact, a dynamic
//               program over the tree, see `floor` below). It knows the tree's shape up
//               front, so it is a bound for any client; a client learns sizes only by asking;
//   +tarball    a first sync that proves the subtrees a truncated root listing leaves out
//               from the tarball instead of listing them: head + the recursive root listing
//               + one non-recursive listing per directory of the chain open at the cut + 1
//               tarball;
//   hybrid      the same, but the chain's first directory below the root that fits in one
//               recursive listing is listed so (it holds everything below it) and the chain
//               stops there.
//
// Usage:
//   node bench/tree-floor.mjs uniform:300000 mixed:300000 mixed:100000 [--limit 100000] [--keep]
//   node bench/tree-floor.mjs --git-dir path/to/.git [--git-dir ...] [--commit HEAD]
//   node bench/tree-floor.mjs --selfcheck   (floor against an exhaustive search, 3,000 small trees)
// A layout:n makes bench/repos.mjs's repository in a temporary directory (removed after
// unless --keep). Output: a table, and per tree its shape (directories at each depth, the
// biggest directories).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeMixedRepo, makeRepo } from './repos.mjs';
import { analyse, lsTree, selfcheck } from '../tests/support/tree-walks.mjs';

async function main() {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const at = args.indexOf(name);
    return at >= 0 ? args.splice(at, 2)[1] : dflt;
  };
  const flag = (name) => {
    const at = args.indexOf(name);
    return at >= 0 && args.splice(at, 1).length > 0;
  };
  const limit = Number(opt('--limit', '100000'));
  const gitDirs = [];
  for (let d; (d = opt('--git-dir', null)); ) gitDirs.push(d);
  const commit = opt('--commit', 'HEAD');
  const keep = flag('--keep');
  if (flag('--selfcheck')) {
    console.log(`selfcheck: floor equals the exhaustive search on ${selfcheck()} small trees`);
    if (!args.length && !gitDirs.length) return;
  }
  const makers = { uniform: makeRepo, mixed: makeMixedRepo };
  const runs = [];
  for (const gitDir of gitDirs) runs.push({ label: path.basename(path.resolve(gitDir, gitDir.endsWith('.git') ? '..' : '.')), gitDir, commit });
  for (const a of args) {
    const [layout, n] = a.split(':');
    if (!makers[layout] || !(Number(n) > 0)) throw new Error(`${a}: expected uniform:N or mixed:N`);
    runs.push({ label: layout, n: Number(n) });
  }
  if (!runs.length) throw new Error('nothing to do: give layout:n arguments or --git-dir');

  const rows = [['layout', 'files', 'entries', 'dirs', 'tree req today', 'natural', 'trees-only floor', 'first sync today', 'first sync +tarball', 'hybrid']];
  const details = [];
  for (const run of runs) {
    let root = null;
    let entries;
    const t0 = performance.now();
    if (run.gitDir) {
      entries = lsTree(run.gitDir, run.commit);
    } else {
      root = fs.mkdtempSync(path.join(os.tmpdir(), 'tree-floor-'));
      process.stderr.write(`[tree-floor] generating ${run.label} ${run.n}...\n`);
      const { repo, sha } = makers[run.label](root, run.n);
      entries = lsTree(repo.gitDir, sha);
    }
    const t1 = performance.now();
    const r = analyse(entries, limit);
    process.stderr.write(`[tree-floor] ${run.label} ${r.files}: repository and ls-tree ${Math.round(t1 - t0)} ms, analysis ${Math.round(performance.now() - t1)} ms\n`);
    if (root && !keep) fs.rmSync(root, { recursive: true, force: true });
    else if (root) process.stderr.write(`[tree-floor] kept ${root}\n`);
    rows.push([run.label, r.files, r.entries, r.dirs, r.today, r.natural, r.floor, r.todayFirstSync, r.tarball, r.hybrid].map(String));
    details.push({ label: run.label, ...r });
  }
  console.log(`limit ${limit.toLocaleString('en-US')} entries an answer\n`);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => c.padStart(widths[i])).join('  '));
  console.log('\nfirst sync today = head + tree requests today + 1 tarball; +tarball = head + 1 recursive root listing +');
  console.log('one non-recursive listing per directory open at the cut + 1 tarball; hybrid: the chain stops at its first');
  console.log('directory below the root that fits in one recursive listing (listed so).\n');
  for (const d of details) {
    console.log(`${d.label} ${d.files}: chain open at the root listing's cut (entries below): ${d.chain.join(' > ') || '(none: not truncated)'}`);
    console.log(`  directories at each depth: ${Object.entries(d.shape.byDepth).map(([k, v]) => `${k}:${v}`).join(' ')}`);
    console.log(`  biggest (entries below): ${d.shape.bySize.join(', ')}`);
    console.log(`  biggest (own entries): ${d.shape.byDirect.join(', ')}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
