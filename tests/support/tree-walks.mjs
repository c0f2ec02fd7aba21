// Tree walks under GitHub's truncation, simulated from `git ls-tree -r -t` (no runtime): how
// many tree requests the engine's walk makes, the fewest any client could make, and the
// cost with tarball proofs. Used by bench/tree-floor.mjs (which explains each figure) and
// by the end-to-end test of truncated trees (the engine makes exactly the requests its
// simulated walk does).

import { execFileSync } from 'node:child_process';

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

