// Repository access, all through the `git` CLI.
// Owns: the git child-process runner and its clean environment, locating a
// repository on disk, refs, object lookups, commit parsing and the ls-tree
// cache and parser. Caches are keyed by immutable SHAs only, so tests may push
// between calls; they are module-wide (shared by every emulator in a process).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { isoDate, byteCompare } from './format.mjs';

export const HEX_SHA_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/; // sha1 or sha256 repos
const ABBREV_SHA_RE = /^[0-9a-f]{4,64}$/;
const NAME_RE = /^[A-Za-z0-9_.-]+$/; // GitHub owner / repository name charset

/** Environment for every git child: no user/system config, no inherited repo. */
export const GIT_ENV = (() => {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    // GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE, ... would redirect our commands.
    if (k.startsWith('GIT_')) delete env[k];
  }
  Object.assign(env, {
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: os.devNull,
    GIT_OPTIONAL_LOCKS: '0',
    LC_ALL: 'C',
  });
  return env;
})();

/**
 * Run `git --git-dir=<gitDir> ...args`. Resolves { code, stdout: Buffer, stderr };
 * rejects on a non-zero exit unless allowFail.
 */
export function runGit(gitDir, args, { input, allowFail = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn('git', [`--git-dir=${gitDir}`, ...args], {
      env: GIT_ENV,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      const result = { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') };
      if (code !== 0 && !allowFail) {
        const e = new Error(`git ${args.join(' ')} exited ${code}: ${result.stderr.trim()}`);
        e.result = result;
        reject(e);
      } else {
        resolve(result);
      }
    });
    child.stdin.on('error', () => {}); // git may exit before reading stdin
    child.stdin.end(input);
  });
}

/** Find a directory entry by exact name, falling back to a case-insensitive match. */
function findEntry(dir, name) {
  if (fs.existsSync(path.join(dir, name))) return name;
  let entries;
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return null;
  }
  const lower = name.toLowerCase();
  return entries.find((e) => e.toLowerCase() === lower) ?? null;
}

function isBareGitDir(dir) {
  try {
    return fs.statSync(path.join(dir, 'objects')).isDirectory() && fs.statSync(path.join(dir, 'HEAD')).isFile();
  } catch {
    return false;
  }
}

/**
 * Locate a repository on disk. Returns { owner, name, gitDir } using the
 * on-disk spelling (GitHub answers with the canonical casing) or null.
 */
export function locateRepo(root, owner, repo) {
  for (const n of [owner, repo]) {
    if (!NAME_RE.test(n) || n === '.' || n === '..') return null;
  }
  const ownerEntry = findEntry(root, owner);
  if (!ownerEntry) return null;
  const ownerDir = path.join(root, ownerEntry);
  // 1. bare repository "<repo>.git"
  const bare = findEntry(ownerDir, `${repo}.git`);
  if (bare && isBareGitDir(path.join(ownerDir, bare))) {
    return { owner: ownerEntry, name: bare.slice(0, -4), gitDir: path.join(ownerDir, bare) };
  }
  // 2. work tree "<repo>/.git" (a directory, or a gitfile for worktrees)
  const plain = findEntry(ownerDir, repo);
  if (plain) {
    const dir = path.join(ownerDir, plain);
    if (fs.existsSync(path.join(dir, '.git'))) return { owner: ownerEntry, name: plain, gitDir: path.join(dir, '.git') };
    if (isBareGitDir(dir)) return { owner: ownerEntry, name: plain, gitDir: dir };
  }
  return null;
}

/** All refs of a repository: Map refname -> { sha, type }. */
export async function listRefs(gitDir, patterns = []) {
  const { stdout } = await runGit(gitDir, [
    'for-each-ref', '--format=%(refname)%00%(objectname)%00%(objecttype)', ...patterns,
  ]);
  const refs = new Map();
  for (const line of stdout.toString('utf8').split('\n')) {
    if (!line) continue;
    const [refname, sha, type] = line.split('\0');
    refs.set(refname, { sha, type });
  }
  return refs;
}

export async function isEmptyRepo(gitDir) {
  const { stdout } = await runGit(gitDir, ['for-each-ref', '--count=1', '--format=%(refname)']);
  if (stdout.length > 0) return false;
  const head = await runGit(gitDir, ['rev-parse', '--verify', '-q', 'HEAD'], { allowFail: true });
  return head.code !== 0;
}

/** Object type ('commit'|'tree'|'blob'|'tag') and size of a full SHA, or null. */
export async function objectInfo(gitDir, sha) {
  if (!HEX_SHA_RE.test(sha)) return null;
  const { stdout } = await runGit(gitDir, ['cat-file', '--batch-check=%(objecttype) %(objectsize)'], {
    input: `${sha}\n`,
  });
  const line = stdout.toString('utf8').trim();
  if (line.endsWith(' missing') || line.endsWith(' ambiguous')) return null;
  const [type, size] = line.split(' ');
  return { type, size: Number(size) };
}

/** Peel a (hex) object name or HEAD to a commit or tree SHA; null if impossible. */
export async function peel(gitDir, hex, what) {
  if (hex !== 'HEAD' && !ABBREV_SHA_RE.test(hex)) return null;
  const r = await runGit(gitDir, ['rev-parse', '--verify', '-q', '--end-of-options', `${hex}^{${what}}`], {
    allowFail: true,
  });
  return r.code === 0 ? r.stdout.toString('utf8').trim() : null;
}

/**
 * Resolve a GitHub "ref" path parameter (branch, tag, full or abbreviated SHA,
 * or HEAD) to a commit SHA, or null. Refs are looked up exactly in the ref list,
 * so revision syntax like `main~1` is never interpreted.
 */
export async function resolveCommitish(gitDir, name, { allowAbbrev = true } = {}) {
  if (HEX_SHA_RE.test(name)) {
    const c = await peel(gitDir, name, 'commit');
    if (c) return c;
  }
  const refs = await listRefs(gitDir, ['refs/heads', 'refs/tags']);
  const stripped = name.replace(/^refs\//, '');
  for (const candidate of [`refs/heads/${name}`, `refs/tags/${name}`, `refs/${stripped}`]) {
    const hit = refs.get(candidate);
    if (hit) return peel(gitDir, hit.sha, 'commit');
  }
  if (name === 'HEAD') return peel(gitDir, 'HEAD', 'commit');
  if (allowAbbrev && ABBREV_SHA_RE.test(name) && name.length >= 7) return peel(gitDir, name, 'commit');
  return null;
}

/** Name of the default branch: what HEAD names, else the first branch by bytes, else "main". */
export async function defaultBranch(gitDir) {
  const r = await runGit(gitDir, ['symbolic-ref', '-q', '--short', 'HEAD'], { allowFail: true });
  if (r.code === 0) return r.stdout.toString('utf8').trim();
  const heads = [...(await listRefs(gitDir, ['refs/heads'])).keys()].sort(byteCompare);
  return heads.length ? heads[0].slice('refs/heads/'.length) : 'main';
}

// Parsed commits keyed by SHA only (immutable, so safe to cache across requests).
const commitCache = new Map();

/** Parse `git cat-file commit <sha>`. */
export async function readCommit(gitDir, sha) {
  const cached = commitCache.get(sha);
  if (cached) return cached;
  const { stdout } = await runGit(gitDir, ['cat-file', 'commit', sha]);
  const text = stdout.toString('utf8');
  const split = text.indexOf('\n\n');
  const header = split >= 0 ? text.slice(0, split) : text;
  const message = split >= 0 ? text.slice(split + 2) : '';
  const commit = { sha, tree: null, parents: [], author: null, committer: null, signed: false, message: '' };
  const person = (v) => {
    const m = /^(.*) <(.*)> (\d+) ([+-]\d{4})$/.exec(v);
    return m ? { name: m[1], email: m[2], date: isoDate(m[3]) } : { name: v, email: '', date: isoDate(0) };
  };
  for (const line of header.split('\n')) {
    if (line.startsWith(' ')) continue; // continuation of gpgsig / mergetag
    const sp = line.indexOf(' ');
    const key = line.slice(0, sp);
    const value = line.slice(sp + 1);
    if (key === 'tree') commit.tree = value;
    else if (key === 'parent') commit.parents.push(value);
    else if (key === 'author') commit.author = person(value);
    else if (key === 'committer') commit.committer = person(value);
    else if (key === 'gpgsig' || key === 'gpgsig-sha256') commit.signed = true;
  }
  // GitHub returns the message without git's trailing newline.
  commit.message = message.replace(/\n$/, '');
  if (commitCache.size > 5000) commitCache.clear();
  commitCache.set(sha, commit);
  return commit;
}

// Raw `git ls-tree` output keyed by tree SHA (immutable, so safe to cache
// across requests; `git ls-tree -l` on a big tree is slow: it reads every blob header).
const lsTreeCache = new Map();
let lsTreeCacheBytes = 0;
const LS_TREE_CACHE_BUDGET = 64 << 20;

export async function lsTreeCached(gitDir, treeSha, recursive) {
  const key = `${treeSha}:${recursive ? 'r' : '1'}`;
  const hit = lsTreeCache.get(key);
  if (hit) {
    lsTreeCache.delete(key); // refresh LRU position
    lsTreeCache.set(key, hit);
    return hit;
  }
  const args = recursive ? ['ls-tree', '-r', '-t', '-l', '-z', treeSha] : ['ls-tree', '-l', '-z', treeSha];
  const { stdout } = await runGit(gitDir, args);
  if (stdout.length <= LS_TREE_CACHE_BUDGET / 4) {
    lsTreeCache.set(key, stdout);
    lsTreeCacheBytes += stdout.length;
    for (const [k, v] of lsTreeCache) {
      if (lsTreeCacheBytes <= LS_TREE_CACHE_BUDGET) break;
      lsTreeCache.delete(k);
      lsTreeCacheBytes -= v.length;
    }
  }
  return stdout;
}

/**
 * Parse `git ls-tree -l -z` output into GitHub tree entries.
 * Record format: "<mode> SP <type> SP <sha> SP+ <size|->\t<path>\0".
 */
export function parseLsTree(buf, api, limit) {
  const entries = [];
  let truncated = false;
  // NUL separators are ASCII, so decoding the whole buffer at once is UTF-8 safe.
  for (const rec of buf.toString('utf8').split('\0')) {
    if (!rec) continue;
    if (entries.length >= limit) {
      truncated = true;
      break;
    }
    const tab = rec.indexOf('\t');
    const [mode, type, sha, size] = rec.slice(0, tab).split(/ +/);
    const entry = { path: rec.slice(tab + 1), mode, type, sha };
    if (type === 'blob') {
      entry.size = Number(size);
      entry.url = `${api}/git/blobs/${sha}`;
    } else if (type === 'tree') {
      entry.url = `${api}/git/trees/${sha}`;
    } // submodules ("commit") carry neither size nor url on GitHub
    entries.push(entry);
  }
  return { entries, truncated };
}

