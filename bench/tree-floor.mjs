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

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeMixedRepo, makeRepo } from './repos.mjs';

/**
 * The tree of `ls-tree -r -t` entries ([{path, type}] in its order): its directories with,
 * for each, `start` (the position of its first entry; the root's is 0), `size` (entries
 * below it, its subdirectories' entries included), `direct` (its own entries), `children`
 * (its subdirectories' indexes), `lastDirect` (the offset from `start` of its last own
 * entry) and `depth`. dirs[0] is the root.
 */
export function buildTree(entries) {
  const dirs = [{ path: '', start: 0, size: entries.length, direct: 0, children: [], lastDirect: -1, depth: 0 }];
  const stack = [0];
  entries.forEach((e, i) => {
    while (stack.length > 1 && !e.path.startsWith(`${dirs[stack.at(-1)].path}/`)) {
      const d = dirs[stack.pop()];
      d.size = i - d.start;
    }
    const parent = dirs[stack.at(-1)];
    parent.direct += 1;
    parent.lastDirect = i - parent.start;
    if (e.type === 'tree') {
      const idx = dirs.length;
      dirs.push({ path: e.path, start: i + 1, size: 0, direct: 0, children: [], lastDirect: -1, depth: parent.depth + 1 });
      parent.children.push(idx);
      stack.push(idx);
    }
  });
  while (stack.length > 1) {
    const d = dirs[stack.pop()];
    d.size = entries.length - d.start;
  }
  return dirs;
}

/** The directories below `x` (its descendants, by index) whose entries a recursive listing of x ending before position `cut` holds whole. */
function wholeBelow(dirs, x, cut) {
  const out = [];
  const walk = (i) => {
    for (const c of dirs[i].children) {
      const d = dirs[c];
      if (d.start - 1 >= cut) return; // its entry is past the cut, and so are the later ones
      if (d.start + d.size <= cut) out.push(c);
      else walk(c); // open at the cut: some of its subdirectories may be whole
    }
  };
  walk(x);
  return out;
}

/** The engine's walk (fetching.rs list_tree/descend on a first sync without a filter): its tree requests. */
export function today(dirs, limit) {
  const whole = new Set(); // ScratchMap::ListedWhole
  const pending = [[0, true]];
  let requests = 0;
  while (pending.length) {
    const [x, recursive] = pending.pop();
    const d = dirs[x];
    requests += 1;
    if (recursive) {
      if (d.size > limit) {
        for (const c of wholeBelow(dirs, x, d.start + limit)) whole.add(c);
        pending.push([x, false]);
      }
      continue;
    }
    if (d.direct > limit) throw new Error(`${d.path || 'the root'}: ${d.direct} entries, more than one answer lists`);
    for (const c of d.children) if (!whole.has(c)) pending.push([c, true]);
  }
  return requests;
}

/** The directories open at the cut of a truncated recursive listing of x: x and down (indexes). */
function chainAt(dirs, x, cut) {
  const chain = [x];
  for (let i = x; ;) {
    const next = dirs[i].children.find((c) => dirs[c].start < cut && dirs[c].start + dirs[c].size > cut);
    if (next === undefined) return chain;
    chain.push(next);
    i = next;
  }
}

/** The natural walk (see the head comment): its tree requests to learn x whole, x's sha known. */
export function natural(dirs, limit, x = 0) {
  const d = dirs[x];
  if (d.size <= limit) return 1;
  const cut = d.start + limit;
  const chain = chainAt(dirs, x, cut);
  let requests = 1;
  for (let k = 0; k < chain.length; k++) {
    const c = dirs[chain[k]];
    if (k > 0 && c.size <= limit) return requests + 1; // holds everything below it
    if (c.direct > limit) throw new Error(`${c.path || 'the root'}: ${c.direct} entries, more than one answer lists`);
    requests += 1; // non-recursive: the shas of its children past the cut
    for (const s of c.children) if (dirs[s].start >= cut) requests += natural(dirs, limit, s);
  }
  return requests;
}

/**
 * The fewest tree requests that learn every entry, exactly. A recursive listing of X holds
 * the first LIMIT entries below X — a prefix of X's entries; a non-recursive one X's own
 * entries; nothing else holds an entry of X's own. So what ancestors' recursive listings
 * hold of X is a prefix of X's entries, of length p, and f(X, p) = the fewest requests of
 * X and below that learn the rest: choose whether to list X recursively (the prefix grows
 * to min(size, LIMIT)) and whether non-recursively (X's own entries past the prefix; without
 * it none may lie past the prefix), then each subdirectory gets what of it the prefix holds.
 * Learning an entry of a directory needs its sha, which an entry learnt higher up gives:
 * "every entry learnt" already includes that, so any choice is a possible order of requests.
 */
export function floor(dirs, limit) {
  const memo = dirs.map(() => new Map());
  const f = (x, p) => {
    const d = dirs[x];
    if (p >= d.size) return 0;
    if (p === 0 && d.size <= limit) return 1;
    const hit = memo[x].get(p);
    if (hit !== undefined) return hit;
    let best = Infinity;
    for (const rec of [false, true]) {
      if (rec && Math.min(d.size, limit) <= p) continue; // adds nothing
      const prefix = rec ? Math.max(p, Math.min(d.size, limit)) : p;
      for (const own of [false, true]) {
        if (own && d.direct > limit) continue;
        if (!own && d.lastDirect >= prefix) continue; // some own entry never learnt
        let cost = Number(rec) + Number(own);
        for (const c of d.children) {
          if (cost >= best) break;
          const sub = dirs[c];
          cost += f(c, Math.min(sub.size, Math.max(0, prefix - (sub.start - d.start))));
        }
        best = Math.min(best, cost);
      }
    }
    memo[x].set(p, best);
    return best;
  };
  return f(0, 0);
}

/** Requests of a first sync proving what a truncated root listing leaves out from the tarball. */
export function withTarball(dirs, limit) {
  const root = dirs[0];
  if (root.size <= limit) return { requests: 3, hybrid: 3, chain: [] };
  const chain = chainAt(dirs, 0, limit);
  const fits = chain.findIndex((i, k) => k > 0 && dirs[i].size <= limit);
  const listed = fits < 0 ? chain.length : fits + 1; // non-recursive ones above it, and it
  return { requests: 1 + 1 + chain.length + 1, hybrid: 1 + 1 + listed + 1, chain: chain.map((i) => `${dirs[i].path || '/'} (${dirs[i].size})`) };
}

/** `git ls-tree -r -t` of a commit or tree: [{path, type}] in its order. */
export function lsTree(gitDir, treeish) {
  const out = execFileSync('git', [`--git-dir=${gitDir}`, 'ls-tree', '-r', '-t', '-z', treeish], { maxBuffer: 1 << 30 }).toString('utf8');
  const entries = [];
  for (const rec of out.split('\0')) {
    if (!rec) continue;
    const tab = rec.indexOf('\t');
    entries.push({ path: rec.slice(tab + 1), type: rec.slice(0, tab).split(' ')[1] });
  }
  return entries;
}

/** Directories at each depth, and the biggest by entries below them and by their own entries. */
export function shape(dirs) {
  const byDepth = {};
  for (const d of dirs) byDepth[d.depth] = (byDepth[d.depth] ?? 0) + 1;
  const name = (d) => d.path || '/';
  const bySize = dirs.slice(1).sort((a, b) => b.size - a.size).slice(0, 8).map((d) => `${name(d)} ${d.size}`);
  const byDirect = dirs.slice().sort((a, b) => b.direct - a.direct).slice(0, 6).map((d) => `${name(d)} ${d.direct}`);
  return { byDepth, bySize, byDirect };
}

export function analyse(entries, limit) {
  const dirs = buildTree(entries);
  const files = entries.filter((e) => e.type !== 'tree').length;
  const tarball = withTarball(dirs, limit);
  const t = today(dirs, limit);
  return {
    files,
    entries: entries.length,
    dirs: dirs.length,
    today: t,
    todayFirstSync: t + 2,
    natural: natural(dirs, limit),
    floor: floor(dirs, limit),
    tarball: tarball.requests,
    hybrid: tarball.hybrid,
    chain: tarball.chain,
    shape: shape(dirs),
  };
}

/**
 * `floor` against the exhaustive search on small random trees (every subset of the possible
 * listings), and today's and the natural walk never below it. Throws on a difference.
 */
export function selfcheck(trials = 3000) {
  let seed = 7;
  const rng = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  for (let trial = 0; trial < trials; trial++) {
    const entries = [];
    let ndirs = 1;
    const walk = (prefix, depth) => {
      for (let i = 0, k = 1 + Math.floor(rng() * 4); i < k; i++) {
        const name = `${prefix}${prefix ? '/' : ''}n${i}`;
        const tree = depth < 4 && ndirs < 6 && rng() < 0.45;
        entries.push({ path: name, type: tree ? 'tree' : 'blob' });
        if (tree) {
          ndirs += 1;
          walk(name, depth + 1);
        }
      }
    };
    walk('', 0);
    const limit = 1 + Math.floor(rng() * 6);
    const dirs = buildTree(entries);
    const index = new Map(dirs.map((d, i) => [d.path, i]));
    const own = dirs.map(() => []);
    entries.forEach((e, i) => own[index.get(e.path.includes('/') ? e.path.slice(0, e.path.lastIndexOf('/')) : '')].push(i));
    const listings = [];
    dirs.forEach((d, i) => {
      listings.push(Array.from({ length: Math.min(d.size, limit) }, (_, q) => d.start + q));
      if (own[i].length <= limit) listings.push(own[i]);
    });
    let best = Infinity;
    for (let m = 0; m < 1 << listings.length; m++) {
      let count = 0;
      for (let j = 0; j < listings.length; j++) count += (m >> j) & 1;
      if (count >= best) continue;
      const held = new Uint8Array(entries.length);
      for (let j = 0; j < listings.length; j++) if ((m >> j) & 1) for (const q of listings[j]) held[q] = 1;
      if (held.every(Boolean)) best = count;
    }
    const f = floor(dirs, limit);
    const walks = best === Infinity ? [] : [today(dirs, limit), natural(dirs, limit)];
    if (f !== best || walks.some((w) => w < f)) {
      throw new Error(`selfcheck: limit ${limit}, exhaustive ${best}, floor ${f}, walks ${walks}: ${JSON.stringify(entries)}`);
    }
  }
  return trials;
}

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
