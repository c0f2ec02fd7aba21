// GitHub REST API emulator for Project Sync tests.
//
// Owns: an HTTP server (127.0.0.1 only, Node 20+ built-ins only, no npm
// dependencies) that answers the subset of the GitHub REST API the sync Worker
// uses, serving REAL git repositories from disk through the `git` CLI, so every
// SHA it hands out is real and can be checked against `git ls-tree`.
//
//   Repositories:  ${root}/${owner}/${repo}.git  (bare)   or
//                  ${root}/${owner}/${repo}      (work tree with .git, or bare)
//   Base URL:      http://127.0.0.1:PORT  acts as https://api.github.com; the
//                  same routes are also served under /api/v3 (GitHub Enterprise).
//   Control:       /_emulator/* (faults, stats, options) for other processes.
//   Codeload:      /_codeload/{owner}/{repo}/legacy.tar.gz/{sha} (tarball target).
//
// Nothing is cached across requests except data keyed by an immutable object
// SHA (parsed commits), so tests may push new commits between calls.
//
// Library use:   const gh = await startGitHubEmulator({ root });
// Standalone:    node tests/support/github-emulator.mjs --root DIR --port P
//                [--tokens a,b] [--max-tree-entries N]
//                prints "listening http://127.0.0.1:P" and serves until SIGTERM.

import http from 'node:http';
import { spawn } from 'node:child_process';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { pathToFileURL } from 'node:url';

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

const DOCS_URL = 'https://docs.github.com/rest';
const RATE_LIMIT_DOCS_URL =
  'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api';
const SECONDARY_RATE_LIMIT_DOCS_URL =
  'https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits';
const DEFAULT_API_VERSION = '2022-11-28';
const AUTHENTICATED_LIMIT = 5000;
const ANONYMOUS_LIMIT = 60;
const RATE_WINDOW_SECONDS = 3600;
const MAX_LOG_ENTRIES = 10000;
const HEX_SHA_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/; // sha1 or sha256 repos
const ABBREV_SHA_RE = /^[0-9a-f]{4,64}$/;
const NAME_RE = /^[A-Za-z0-9_.-]+$/; // GitHub owner / repository name charset

/** Route names used in stats().byRoute, the request log and fault specs. */
export const ROUTE_NAMES = Object.freeze([
  'repo', 'branches', 'branch', 'ref', 'refs', 'matchingRefs', 'commit',
  'gitCommit', 'tree', 'blob', 'tarball', 'zipball', 'codeload', 'rateLimit',
  'unknown',
]);
const ROUTE_NAME_SET = new Set(ROUTE_NAMES);
const FAULT_KINDS = new Set(['status', 'drop', 'secondaryRateLimit', 'primaryRateLimit', 'delay']);

/** Environment for every git child: no user/system config, no inherited repo. */
const GIT_ENV = (() => {
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

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

/** An error that becomes a GitHub-shaped JSON error response. */
class HttpError extends Error {
  constructor(status, message, { headers = {}, documentationUrl = DOCS_URL } = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
    this.documentationUrl = documentationUrl;
  }
}
const notFound = (message = 'Not Found') => new HttpError(404, message);
const emptyRepository = () => new HttpError(409, 'Git Repository is empty.');

/**
 * Run `git --git-dir=<gitDir> ...args`. Resolves { code, stdout: Buffer, stderr };
 * rejects on a non-zero exit unless allowFail.
 */
function runGit(gitDir, args, { input, allowFail = false } = {}) {
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

/** Stable positive integer id derived from a string (repo ids, owner ids). */
function stableId(s) {
  return (parseInt(crypto.createHash('sha256').update(s).digest('hex').slice(0, 8), 16) % 900_000_000) + 1000;
}

/** GitHub-style node_id (opaque; only needs to be stable). */
function nodeId(kind, s) {
  return `${kind}_${Buffer.from(String(s)).toString('base64url')}`;
}

/** Ruby's Base64.encode64 as used by GitHub: a "\n" after every 60 chars and at the end. */
function encode64(buf) {
  const b64 = buf.toString('base64');
  let out = '';
  for (let i = 0; i < b64.length; i += 60) out += b64.slice(i, i + 60) + '\n';
  return out;
}

/** Epoch seconds (+ tz offset, ignored) -> "2026-01-01T00:00:00Z". */
function isoDate(epochSeconds) {
  return new Date(Number(epochSeconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Byte-order comparison of two strings (GitHub sorts names by bytes). */
function byteCompare(a, b) {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function readBody(req, limit = 1 << 20) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) reject(new HttpError(413, 'Payload too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Does an If-None-Match header value match this ETag? (weak comparison, like GitHub) */
function etagMatches(ifNoneMatch, etag) {
  if (!ifNoneMatch) return false;
  const strip = (t) => t.trim().replace(/^W\//, '');
  const want = strip(etag);
  return ifNoneMatch.split(',').some((t) => t.trim() === '*' || strip(t) === want);
}

// ---------------------------------------------------------------------------
// Repository access (all through the git CLI)
// ---------------------------------------------------------------------------

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
function locateRepo(root, owner, repo) {
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
async function listRefs(gitDir, patterns = []) {
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

async function isEmptyRepo(gitDir) {
  const { stdout } = await runGit(gitDir, ['for-each-ref', '--count=1', '--format=%(refname)']);
  if (stdout.length > 0) return false;
  const head = await runGit(gitDir, ['rev-parse', '--verify', '-q', 'HEAD'], { allowFail: true });
  return head.code !== 0;
}

/** Object type ('commit'|'tree'|'blob'|'tag') and size of a full SHA, or null. */
async function objectInfo(gitDir, sha) {
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
async function peel(gitDir, hex, what) {
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
async function resolveCommitish(gitDir, name, { allowAbbrev = true } = {}) {
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

// Parsed commits keyed by SHA only (immutable, so safe to cache across requests).
const commitCache = new Map();

/** Parse `git cat-file commit <sha>`. */
async function readCommit(gitDir, sha) {
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

async function lsTreeCached(gitDir, treeSha, recursive) {
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
function parseLsTree(buf, api, limit) {
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

// ---------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------

/** Decode path segments ("%2F" inside a segment becomes "/"). */
function splitPath(pathname) {
  return pathname
    .split('/')
    .filter((s) => s.length > 0)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}

/** Map decoded path segments to { name, owner, repo, arg }. */
function matchRoute(segments) {
  const s = segments;
  if (s.length === 1 && s[0] === 'rate_limit') return { name: 'rateLimit' };
  if (s[0] === '_codeload' && s.length >= 5) {
    return { name: 'codeload', owner: s[1], repo: s[2], format: s[3], arg: s.slice(4).join('/') };
  }
  if (s[0] !== 'repos' || s.length < 3) return { name: 'unknown' };
  const [, owner, repo, ...rest] = s;
  const r = (name, arg) => ({ name, owner, repo, arg });
  if (rest.length === 0) return r('repo');
  const [a, b] = rest;
  if (a === 'branches') return rest.length === 1 ? r('branches') : r('branch', rest.slice(1).join('/'));
  if (a === 'commits' && rest.length >= 2) return r('commit', rest.slice(1).join('/'));
  if (a === 'tarball') return r('tarball', rest.slice(1).join('/'));
  if (a === 'zipball') return r('zipball', rest.slice(1).join('/'));
  if (a === 'git') {
    if (b === 'ref' && rest.length >= 3) return r('ref', rest.slice(2).join('/'));
    if (b === 'refs') return r('refs', rest.slice(2).join('/'));
    if (b === 'matching-refs') return r('matchingRefs', rest.slice(2).join('/'));
    if (b === 'commits' && rest.length === 3) return r('gitCommit', rest[2]);
    if (b === 'trees' && rest.length >= 3) return r('tree', rest.slice(2).join('/'));
    if (b === 'blobs' && rest.length === 3) return r('blob', rest[2]);
  }
  return { name: 'unknown' };
}

// ---------------------------------------------------------------------------
// The emulator
// ---------------------------------------------------------------------------

/**
 * Start the emulator.
 * @param {object} o
 * @param {string} o.root            directory holding <owner>/<repo>(.git)
 * @param {number} [o.port=0]        0 picks a free port
 * @param {string[]|null} [o.tokens=null]  accepted tokens; null = public, any token accepted
 * @param {number} [o.maxTreeEntries=100000]  entries per tree answer before truncated:true
 * @returns {Promise<{url:string, port:number, close():Promise<void>, stats():object,
 *   resetStats():void, injectFault(spec:object):number, clearFaults():void,
 *   setOption(name:string, value:any):void}>}
 */
export async function startGitHubEmulator({ root, port = 0, tokens = null, maxTreeEntries = 100000 } = {}) {
  if (!root) throw new Error('startGitHubEmulator: root is required');
  root = path.resolve(root);

  const options = {
    tokens: tokens ? [...tokens] : null,
    maxTreeEntries,
    rateLimitRemaining: null, // default remaining for buckets created later
    rateLimitReset: null, // default reset (epoch seconds) for buckets created later
    requireUserAgent: true,
    supportedApiVersions: null, // e.g. ['2022-11-28']; null = accept any value
  };
  const buckets = new Map(); // token | 'anonymous' -> { limit, remaining, reset }
  const codeloadTokens = new Map(); // one-off ?token= for codeload when auth is on
  let faults = [];
  let faultSeq = 0;
  let stats = freshStats();

  function freshStats() {
    return { total: 0, notModified: 0, byRoute: {}, log: [] };
  }

  // ----- rate limiting ------------------------------------------------------

  function bucketFor(key) {
    const limit = key === 'anonymous' ? ANONYMOUS_LIMIT : AUTHENTICATED_LIMIT;
    const now = nowSeconds();
    let b = buckets.get(key);
    if (!b) {
      b = {
        limit,
        remaining: Math.min(limit, options.rateLimitRemaining ?? limit),
        reset: options.rateLimitReset ?? now + RATE_WINDOW_SECONDS,
      };
      buckets.set(key, b);
    }
    if (b.reset <= now) {
      // window elapsed: GitHub refills the budget
      b.remaining = b.limit;
      b.reset = now + RATE_WINDOW_SECONDS;
    }
    return b;
  }

  function rateHeaders(b, overrides = {}) {
    const remaining = overrides.remaining ?? b.remaining;
    return {
      'x-ratelimit-limit': String(b.limit),
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-used': String(b.limit - remaining),
      'x-ratelimit-reset': String(overrides.reset ?? b.reset),
      'x-ratelimit-resource': 'core',
    };
  }

  function rateLimitExceededMessage(key, req) {
    return key === 'anonymous'
      ? `API rate limit exceeded for ${req.socket.remoteAddress}. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)`
      : `API rate limit exceeded for user ID ${stableId(key)}.`;
  }

  // ----- auth ---------------------------------------------------------------

  /** -> { present, token, valid } from the Authorization header. */
  function parseAuth(req) {
    const h = req.headers.authorization;
    if (!h) return { present: false, token: null, valid: false };
    const m = /^(bearer|token|basic)\s+(.+)$/i.exec(h.trim());
    let token = null;
    if (m) {
      if (m[1].toLowerCase() === 'basic') {
        const decoded = Buffer.from(m[2], 'base64').toString('utf8');
        token = decoded.includes(':') ? decoded.slice(decoded.indexOf(':') + 1) : null;
      } else {
        token = m[2].trim();
      }
    }
    const valid = !!token && (options.tokens === null || options.tokens.includes(token));
    return { present: true, token, valid };
  }

  // ----- faults -------------------------------------------------------------

  function injectFault(spec) {
    if (!spec || typeof spec !== 'object') throw new Error('injectFault: spec object required');
    const kind = spec.kind ?? 'status';
    if (!FAULT_KINDS.has(kind)) throw new Error(`injectFault: unknown kind ${kind}`);
    const route = spec.route ?? '*';
    let times = spec.times ?? 1;
    if (times === -1 || times === 'always' || times === null) times = Infinity;
    if (!(times > 0)) throw new Error('injectFault: times must be > 0 (or -1/Infinity for always)');
    if (kind === 'status' && !Number.isInteger(spec.status)) throw new Error('injectFault: status fault needs an integer status');
    if (kind === 'delay' && !(spec.ms >= 0)) throw new Error('injectFault: delay fault needs ms');
    const fault = {
      ...spec,
      id: ++faultSeq,
      kind,
      route,
      times,
      regex: route === '*' || ROUTE_NAME_SET.has(route) ? null : new RegExp(route),
    };
    faults.push(fault);
    return fault.id;
  }

  function clearFaults() {
    faults = [];
  }

  function faultMatches(f, routeName, rawPath, method) {
    if (f.method && String(f.method).toUpperCase() !== method) return false;
    if (f.route === '*') return true;
    if (f.regex) return f.regex.test(rawPath);
    return f.route === routeName;
  }

  /** Consume matching faults: all matching delays add up; the first other kind wins. */
  function takeFaults(routeName, rawPath, method) {
    let delayMs = 0;
    let action = null;
    for (const f of faults) {
      if (f.times <= 0 || !faultMatches(f, routeName, rawPath, method)) continue;
      if (f.kind === 'delay') {
        delayMs += f.ms;
        f.times -= 1;
      } else if (!action) {
        action = f;
        delayMs += f.ms ?? 0;
        f.times -= 1;
      }
    }
    faults = faults.filter((f) => f.times > 0);
    return { delayMs, action };
  }

  // ----- options ------------------------------------------------------------

  function setOption(name, value) {
    switch (name) {
      case 'rateLimitRemaining':
        options.rateLimitRemaining = value;
        if (value !== null) for (const b of buckets.values()) b.remaining = Math.max(0, Math.min(b.limit, value));
        break;
      case 'rateLimitReset':
        options.rateLimitReset = value;
        if (value !== null) for (const b of buckets.values()) b.reset = value;
        break;
      case 'resetRateLimits':
        buckets.clear();
        options.rateLimitRemaining = null;
        options.rateLimitReset = null;
        break;
      case 'tokens':
        options.tokens = value ? [...value] : null;
        break;
      case 'maxTreeEntries':
      case 'requireUserAgent':
      case 'supportedApiVersions':
        options[name] = value;
        break;
      default:
        throw new Error(`setOption: unknown option ${name}`);
    }
  }

  // ----- response plumbing --------------------------------------------------

  function baseUrlOf(req) {
    return `http://${req.headers.host || `127.0.0.1:${actualPort}`}`;
  }

  /** Write a fully buffered response with Content-Length framing. */
  function send(req, res, status, headers, body = Buffer.alloc(0)) {
    if (!Buffer.isBuffer(body)) body = Buffer.from(body);
    const h = { 'x-github-request-id': crypto.randomBytes(8).toString('hex').toUpperCase(), ...headers };
    if (status !== 304) h['content-length'] = String(body.length);
    res.writeHead(status, h);
    res.end(status === 304 || req.method === 'HEAD' ? undefined : body);
  }

  function jsonBody(value) {
    return Buffer.from(JSON.stringify(value));
  }

  function errorPayload(err) {
    return jsonBody({ message: err.message, documentation_url: err.documentationUrl, status: String(err.status) });
  }

  // ----- endpoint handlers --------------------------------------------------
  // Each returns { status, body, headers?, contentType? }; body may be an object
  // (sent as JSON) or a Buffer.

  function repoUrls(ctx) {
    return {
      api: `${ctx.apiBase}/repos/${ctx.repo.owner}/${ctx.repo.name}`,
      html: `${ctx.webBase}/${ctx.repo.owner}/${ctx.repo.name}`,
    };
  }

  async function commitJson(ctx, sha) {
    const c = await readCommit(ctx.repo.gitDir, sha);
    const { api, html } = repoUrls(ctx);
    return {
      sha,
      node_id: nodeId('C', sha),
      commit: {
        author: c.author,
        committer: c.committer,
        message: c.message,
        tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
        url: `${api}/git/commits/${sha}`,
        comment_count: 0,
        verification: { verified: false, reason: c.signed ? 'unknown_key' : 'unsigned', signature: null, payload: null, verified_at: null },
      },
      url: `${api}/commits/${sha}`,
      html_url: `${html}/commit/${sha}`,
      comments_url: `${api}/commits/${sha}/comments`,
      author: null,
      committer: null,
      parents: c.parents.map((p) => ({ sha: p, url: `${api}/commits/${p}`, html_url: `${html}/commit/${p}` })),
    };
  }

  async function defaultBranch(gitDir) {
    const r = await runGit(gitDir, ['symbolic-ref', '-q', '--short', 'HEAD'], { allowFail: true });
    if (r.code === 0) return r.stdout.toString('utf8').trim();
    const heads = [...(await listRefs(gitDir, ['refs/heads'])).keys()].sort(byteCompare);
    return heads.length ? heads[0].slice('refs/heads/'.length) : 'main';
  }

  function refJson(ctx, refname, { sha, type }) {
    const { api } = repoUrls(ctx);
    const objUrl = type === 'tag' ? `${api}/git/tags/${sha}` : type === 'commit' ? `${api}/git/commits/${sha}` : `${api}/git/${type}s/${sha}`;
    return {
      ref: refname,
      node_id: nodeId('REF', `${ctx.repo.owner}/${ctx.repo.name}:${refname}`),
      url: `${api}/git/${refname}`,
      object: { sha, type, url: objUrl },
    };
  }

  const handlers = {
    async repo(ctx) {
      const { gitDir, owner, name } = ctx.repo;
      const { api, html } = repoUrls(ctx);
      const fullName = `${owner}/${name}`;
      const isPrivate = options.tokens !== null;
      const stamp = isoDate(0);
      return {
        status: 200,
        body: {
          id: stableId(fullName),
          node_id: nodeId('R', fullName),
          name,
          full_name: fullName,
          private: isPrivate,
          owner: {
            login: owner,
            id: stableId(owner),
            node_id: nodeId('U', owner),
            avatar_url: `${ctx.webBase}/${owner}.png`,
            url: `${ctx.apiBase}/users/${owner}`,
            html_url: `${ctx.webBase}/${owner}`,
            type: 'User',
            site_admin: false,
          },
          html_url: html,
          description: null,
          fork: false,
          url: api,
          branches_url: `${api}/branches{/branch}`,
          commits_url: `${api}/commits{/sha}`,
          git_refs_url: `${api}/git/refs{/sha}`,
          git_commits_url: `${api}/git/commits{/sha}`,
          trees_url: `${api}/git/trees{/sha}`,
          blobs_url: `${api}/git/blobs{/sha}`,
          archive_url: `${api}/{archive_format}{/ref}`,
          created_at: stamp,
          updated_at: stamp,
          pushed_at: stamp,
          git_url: `git://${ctx.host}/${fullName}.git`,
          ssh_url: `git@${ctx.host}:${fullName}.git`,
          clone_url: `${ctx.webBase}/${fullName}.git`,
          size: 0,
          default_branch: await defaultBranch(gitDir),
          visibility: isPrivate ? 'private' : 'public',
          archived: false,
          disabled: false,
          has_issues: false,
          has_wiki: false,
          is_template: false,
          permissions: { admin: false, maintain: false, push: false, triage: false, pull: true },
        },
      };
    },

    async branches(ctx) {
      const { gitDir } = ctx.repo;
      const q = ctx.url.searchParams;
      let perPage = parseInt(q.get('per_page') ?? '', 10);
      if (!(perPage > 0)) perPage = 30;
      perPage = Math.min(perPage, 100);
      let page = parseInt(q.get('page') ?? '', 10);
      if (!(page > 0)) page = 1;
      const { api } = repoUrls(ctx);
      let names = [...(await listRefs(gitDir, ['refs/heads'])).entries()].map(([ref, v]) => ({
        name: ref.slice('refs/heads/'.length),
        sha: v.sha,
      }));
      if (q.get('protected') === 'true') names = []; // nothing is protected here
      names.sort((a, b) => byteCompare(a.name, b.name));
      const lastPage = Math.max(1, Math.ceil(names.length / perPage));
      const items = names.slice((page - 1) * perPage, page * perPage).map((b) => ({
        name: b.name,
        commit: { sha: b.sha, url: `${api}/commits/${b.sha}` },
        protected: false,
      }));
      const headers = {};
      if (lastPage > 1) {
        // GitHub order: prev, next, last, first
        const link = (p, rel) => {
          const u = new URL(ctx.url.href);
          u.searchParams.delete('per_page');
          u.searchParams.delete('page');
          u.searchParams.append('per_page', String(perPage));
          u.searchParams.append('page', String(p));
          return `<${u.href}>; rel="${rel}"`;
        };
        const parts = [];
        if (page > 1) parts.push(link(Math.min(page - 1, lastPage), 'prev'));
        if (page < lastPage) parts.push(link(page + 1, 'next'), link(lastPage, 'last'));
        if (page > 1) parts.push(link(1, 'first'));
        headers.link = parts.join(', ');
      }
      return { status: 200, body: items, headers };
    },

    async branch(ctx) {
      const { gitDir, owner, name } = ctx.repo;
      if (await isEmptyRepo(gitDir)) throw emptyRepository();
      const branchName = ctx.route.arg;
      const hit = (await listRefs(gitDir, ['refs/heads'])).get(`refs/heads/${branchName}`);
      if (!hit) throw notFound('Branch not found');
      const { api, html } = repoUrls(ctx);
      const encoded = branchName.split('/').map(encodeURIComponent).join('/');
      return {
        status: 200,
        body: {
          name: branchName,
          commit: await commitJson(ctx, hit.sha),
          _links: { self: `${api}/branches/${encoded}`, html: `${ctx.webBase}/${owner}/${name}/tree/${encoded}` },
          protected: false,
          protection: { enabled: false, required_status_checks: { enforcement_level: 'off', contexts: [], checks: [] } },
          protection_url: `${api}/branches/${encoded}/protection`,
          html_url: `${html}/tree/${encoded}`,
        },
      };
    },

    async ref(ctx) {
      const { gitDir } = ctx.repo;
      if (await isEmptyRepo(gitDir)) throw emptyRepository();
      const refname = `refs/${ctx.route.arg.replace(/^refs\//, '')}`;
      const hit = (await listRefs(gitDir)).get(refname);
      if (!hit) throw notFound();
      return { status: 200, body: refJson(ctx, refname, hit) };
    },

    // Legacy GET /git/refs/{ref}: exact match -> object, else prefix matches -> array.
    async refs(ctx) {
      const { gitDir } = ctx.repo;
      if (await isEmptyRepo(gitDir)) throw emptyRepository();
      const all = await listRefs(gitDir);
      const arg = ctx.route.arg.replace(/^refs\//, '');
      const refname = arg ? `refs/${arg}` : 'refs/';
      if (arg && all.has(refname)) return { status: 200, body: refJson(ctx, refname, all.get(refname)) };
      const matches = [...all.entries()].filter(([r]) => r.startsWith(refname)).sort((a, b) => byteCompare(a[0], b[0]));
      if (!matches.length) throw notFound();
      return { status: 200, body: matches.map(([r, v]) => refJson(ctx, r, v)) };
    },

    async matchingRefs(ctx) {
      const { gitDir } = ctx.repo;
      if (await isEmptyRepo(gitDir)) throw emptyRepository();
      const prefix = `refs/${ctx.route.arg.replace(/^refs\//, '')}`;
      const all = await listRefs(gitDir);
      const matches = [...all.entries()].filter(([r]) => r.startsWith(prefix)).sort((a, b) => byteCompare(a[0], b[0]));
      return { status: 200, body: matches.map(([r, v]) => refJson(ctx, r, v)) };
    },

    async commit(ctx) {
      const { gitDir } = ctx.repo;
      if (await isEmptyRepo(gitDir)) throw emptyRepository();
      const ref = ctx.route.arg;
      const sha = await resolveCommitish(gitDir, ref);
      // GitHub answers an unknown ref on this endpoint with 422, not 404.
      if (!sha) throw new HttpError(422, `No commit found for SHA: ${ref}`);
      if (/application\/vnd\.github(?:\.v3)?\.sha/i.test(ctx.req.headers.accept ?? '')) {
        return {
          status: 200,
          body: Buffer.from(sha),
          contentType: 'application/vnd.github.sha; charset=utf-8',
          headers: { 'x-github-media-type': 'github.v3; param=sha' },
        };
      }
      return { status: 200, body: await commitJson(ctx, sha) };
    },

    async gitCommit(ctx) {
      const { gitDir } = ctx.repo;
      if (await isEmptyRepo(gitDir)) throw emptyRepository();
      const sha = ctx.route.arg.toLowerCase();
      const info = await objectInfo(gitDir, sha);
      if (!info || info.type !== 'commit') throw notFound();
      const c = await readCommit(gitDir, sha);
      const { api, html } = repoUrls(ctx);
      return {
        status: 200,
        body: {
          sha,
          node_id: nodeId('C', sha),
          url: `${api}/git/commits/${sha}`,
          html_url: `${html}/commit/${sha}`,
          author: c.author,
          committer: c.committer,
          tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
          message: c.message,
          parents: c.parents.map((p) => ({ sha: p, url: `${api}/git/commits/${p}`, html_url: `${html}/commit/${p}` })),
          verification: { verified: false, reason: c.signed ? 'unknown_key' : 'unsigned', signature: null, payload: null, verified_at: null },
        },
      };
    },

    async tree(ctx) {
      const { gitDir } = ctx.repo;
      if (await isEmptyRepo(gitDir)) throw emptyRepository();
      const treeish = ctx.route.arg;
      let treeSha = null;
      if (HEX_SHA_RE.test(treeish)) treeSha = await peel(gitDir, treeish, 'tree');
      if (!treeSha) {
        const commit = await resolveCommitish(gitDir, treeish, { allowAbbrev: false });
        if (commit) treeSha = (await readCommit(gitDir, commit)).tree;
      }
      if (!treeSha) throw notFound();
      const recursive = ctx.url.searchParams.has('recursive'); // any value, even 0/false
      const stdout = await lsTreeCached(gitDir, treeSha, recursive);
      const { api } = repoUrls(ctx);
      const { entries, truncated } = parseLsTree(stdout, api, options.maxTreeEntries);
      return { status: 200, body: { sha: treeSha, url: `${api}/git/trees/${treeSha}`, tree: entries, truncated } };
    },

    async blob(ctx) {
      const { gitDir } = ctx.repo;
      if (await isEmptyRepo(gitDir)) throw emptyRepository();
      const sha = ctx.route.arg.toLowerCase();
      const info = await objectInfo(gitDir, sha);
      if (!info || info.type !== 'blob') throw notFound();
      const { stdout } = await runGit(gitDir, ['cat-file', 'blob', sha]);
      const accept = ctx.req.headers.accept ?? '';
      if (/application\/vnd\.github(?:\.v3)?\.raw/i.test(accept)) {
        return {
          status: 200,
          body: stdout,
          contentType: 'application/vnd.github.raw',
          headers: { 'x-github-media-type': 'github.v3; param=raw' },
        };
      }
      const { api } = repoUrls(ctx);
      return {
        status: 200,
        body: { sha, node_id: nodeId('B', sha), size: info.size, url: `${api}/git/blobs/${sha}`, content: encode64(stdout), encoding: 'base64' },
      };
    },

    async tarball(ctx) {
      return archiveRedirect(ctx, 'legacy.tar.gz');
    },

    async zipball(ctx) {
      return archiveRedirect(ctx, 'legacy.zip');
    },

    async rateLimit(ctx) {
      const b = ctx.bucket;
      const res = { limit: b.limit, used: b.limit - b.remaining, remaining: b.remaining, reset: b.reset };
      return { status: 200, body: { resources: { core: res }, rate: res } };
    },
  };

  async function archiveRedirect(ctx, format) {
    const { gitDir, owner, name } = ctx.repo;
    const ref = ctx.route.arg || 'HEAD';
    const sha = (await isEmptyRepo(gitDir)) ? null : await resolveCommitish(gitDir, ref);
    if (!sha) throw notFound();
    let location = `${ctx.baseUrl}/_codeload/${owner}/${name}/${format}/${sha}`;
    if (options.tokens !== null) {
      // Like GitHub's signed codeload URLs for private repos: a one-off token.
      const t = crypto.randomBytes(12).toString('hex');
      codeloadTokens.set(t, { repo: `${owner}/${name}`, expires: Date.now() + 5 * 60_000 });
      location += `?token=${t}`;
    }
    return { status: 302, body: Buffer.alloc(0), contentType: 'text/html;charset=utf-8', headers: { location } };
  }

  async function codeload(req, url, route) {
    const repo = locateRepo(root, route.owner, route.repo);
    if (!repo) throw notFound();
    if (options.tokens !== null) {
      const t = url.searchParams.get('token');
      const grant = t && codeloadTokens.get(t);
      const auth = parseAuth(req);
      const ok = (grant && grant.expires > Date.now() && grant.repo === `${repo.owner}/${repo.name}`) || auth.valid;
      if (!ok) throw notFound();
    }
    const isZip = route.format === 'legacy.zip' || route.format === 'zip';
    if (!isZip && route.format !== 'legacy.tar.gz' && route.format !== 'tar.gz') throw notFound();
    const sha = (await isEmptyRepo(repo.gitDir)) ? null : await resolveCommitish(repo.gitDir, route.arg);
    if (!sha) throw notFound();
    const prefix = `${repo.owner}-${repo.name}-${sha.slice(0, 7)}/`;
    const { stdout } = await runGit(repo.gitDir, ['archive', `--format=${isZip ? 'zip' : 'tar'}`, `--prefix=${prefix}`, sha]);
    const body = isZip ? stdout : zlib.gzipSync(stdout);
    const filename = `${prefix.slice(0, -1)}.${isZip ? 'zip' : 'tar.gz'}`;
    return {
      status: 200,
      body,
      contentType: isZip ? 'application/zip' : 'application/x-gzip',
      headers: { 'content-disposition': `attachment; filename=${filename}` },
    };
  }

  // ----- control API (/_emulator/*) -----------------------------------------

  async function control(req, res, pathname) {
    const reply = (status, value) =>
      send(req, res, status, { 'content-type': 'application/json; charset=utf-8' }, jsonBody(value));
    try {
      const what = pathname.slice('/_emulator/'.length);
      const body = req.method === 'POST' ? await readBody(req) : null;
      const json = body && body.length ? JSON.parse(body.toString('utf8')) : null;
      if (what === 'faults' && req.method === 'POST') {
        const specs = Array.isArray(json) ? json : [json];
        return reply(200, { ok: true, ids: specs.map(injectFault) });
      }
      if (what === 'faults' && req.method === 'DELETE') {
        clearFaults();
        return reply(200, { ok: true });
      }
      if (what === 'faults' && req.method === 'GET') {
        return reply(200, faults.map(({ regex, ...f }) => ({ ...f, times: f.times === Infinity ? -1 : f.times })));
      }
      if (what === 'stats' && req.method === 'GET') return reply(200, snapshotStats());
      if (what === 'reset-stats' && req.method === 'POST') {
        resetStats();
        return reply(200, { ok: true });
      }
      if (what === 'options' && req.method === 'POST') {
        if (!json || typeof json.name !== 'string') throw new Error('body must be {name, value}');
        setOption(json.name, json.value);
        return reply(200, { ok: true });
      }
      return reply(404, { message: 'Not Found' });
    } catch (e) {
      return reply(400, { message: e.message });
    }
  }

  // ----- stats --------------------------------------------------------------

  function snapshotStats() {
    return structuredClone(stats);
  }

  function resetStats() {
    stats = freshStats();
  }

  function record(entry) {
    stats.total += 1;
    stats.byRoute[entry.route] = (stats.byRoute[entry.route] ?? 0) + 1;
    if (entry.status === 304) stats.notModified += 1;
    stats.log.push(entry);
    if (stats.log.length > MAX_LOG_ENTRIES) stats.log.splice(0, stats.log.length - MAX_LOG_ENTRIES);
  }

  // ----- main request handler -----------------------------------------------

  async function onRequest(req, res) {
    const started = process.hrtime.bigint();
    const rawUrl = req.url || '/';
    const q = rawUrl.indexOf('?');
    let pathname = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
    const search = q >= 0 ? rawUrl.slice(q) : '';
    let prefix = '';
    if (pathname === '/api/v3' || pathname.startsWith('/api/v3/')) {
      prefix = '/api/v3';
      pathname = pathname.slice(prefix.length) || '/';
    }
    if (pathname.startsWith('/_emulator/')) return control(req, res, pathname);

    const route = matchRoute(splitPath(pathname));
    const method = req.method;
    const auth = parseAuth(req);
    const entry = {
      method,
      path: rawUrl,
      route: route.name,
      status: 0,
      ms: 0,
      headers: {
        authorization: auth.present ? 'present' : 'absent',
        accept: req.headers.accept ?? null,
        'x-github-api-version': req.headers['x-github-api-version'] ?? null,
        'if-none-match': req.headers['if-none-match'] ?? null,
        'user-agent': req.headers['user-agent'] ?? null,
      },
    };
    const finish = (status, headers, body) => {
      entry.status = status;
      entry.ms = Number(process.hrtime.bigint() - started) / 1e6;
      record(entry);
      send(req, res, status, headers, body);
    };

    const baseUrl = baseUrlOf(req);
    const bucketKey = auth.valid ? auth.token : 'anonymous';
    const common = {
      'content-type': 'application/json; charset=utf-8',
      'x-github-media-type': 'github.v3; format=json',
      'x-github-api-version-selected': req.headers['x-github-api-version'] ?? DEFAULT_API_VERSION,
      vary: 'Accept, Authorization, Cookie, X-GitHub-OTP',
      'access-control-allow-origin': '*',
    };

    try {
      // 1. injected faults (they model the network / GitHub edge, so they come first)
      const { delayMs, action } = takeFaults(route.name, rawUrl, method);
      if (action) entry.fault = action.kind;
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      if (action) {
        const b = bucketFor(bucketKey);
        if (action.kind === 'drop') {
          entry.status = 0;
          entry.ms = Number(process.hrtime.bigint() - started) / 1e6;
          record(entry);
          req.socket.destroy();
          return;
        }
        if (action.kind === 'status') {
          const message = action.message ?? http.STATUS_CODES[action.status] ?? 'Error';
          const body = action.body !== undefined
            ? Buffer.from(typeof action.body === 'string' ? action.body : JSON.stringify(action.body))
            : jsonBody({ message, documentation_url: DOCS_URL, status: String(action.status) });
          return finish(action.status, { ...common, ...rateHeaders(b), ...(action.headers ?? {}) }, body);
        }
        if (action.kind === 'secondaryRateLimit') {
          const retryAfter = action.retryAfter ?? 60;
          const id = crypto.randomBytes(8).toString('hex').toUpperCase();
          return finish(
            action.status ?? 403,
            { ...common, ...rateHeaders(b), 'retry-after': String(retryAfter) },
            jsonBody({
              message: `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ${id}.`,
              documentation_url: SECONDARY_RATE_LIMIT_DOCS_URL,
              status: String(action.status ?? 403),
            }),
          );
        }
        if (action.kind === 'primaryRateLimit') {
          const reset = nowSeconds() + (action.resetIn ?? 60);
          return finish(
            action.status ?? 403,
            { ...common, ...rateHeaders(b, { remaining: 0, reset }) },
            jsonBody({ message: rateLimitExceededMessage(bucketKey, req), documentation_url: RATE_LIMIT_DOCS_URL, status: String(action.status ?? 403) }),
          );
        }
      }

      // 2. User-Agent is mandatory on GitHub
      if (options.requireUserAgent && !req.headers['user-agent'] && route.name !== 'codeload') {
        return finish(
          403,
          { 'content-type': 'text/plain; charset=utf-8' },
          Buffer.from(
            'Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.\n',
          ),
        );
      }

      // 3. codeload is not part of the API: no auth header needed, not rate limited
      if (route.name === 'codeload') {
        if (method !== 'GET' && method !== 'HEAD') throw notFound();
        const url = new URL(baseUrl + pathname + search);
        const result = await codeload(req, url, route);
        return answer(req, finish, route, result, common, { bucket: bucketFor(bucketKey), consume: false });
      }

      // 4. credentials
      if (auth.present && !auth.valid) {
        const b = bucketFor('anonymous');
        return finish(401, { ...common, ...rateHeaders(b) }, errorPayload(new HttpError(401, 'Bad credentials')));
      }

      // 5. primary rate limit
      const bucket = bucketFor(bucketKey);
      if (bucket.remaining <= 0) {
        return finish(
          403,
          { ...common, ...rateHeaders(bucket) },
          errorPayload(new HttpError(403, rateLimitExceededMessage(bucketKey, req), { documentationUrl: RATE_LIMIT_DOCS_URL })),
        );
      }

      // 6. API version (only when a supported list is configured)
      const version = req.headers['x-github-api-version'];
      if (version && options.supportedApiVersions && !options.supportedApiVersions.includes(version)) {
        bucket.remaining -= 1;
        throw new HttpError(400, `API version ${version} is not supported.`);
      }

      // 7. dispatch
      const handler = handlers[route.name];
      if (!handler || (method !== 'GET' && method !== 'HEAD')) {
        bucket.remaining -= 1;
        throw notFound();
      }
      const countsAgainstLimit = route.name !== 'rateLimit';
      let result;
      try {
        let ctx = { req, url: new URL(baseUrl + prefix + pathname + search), route, bucket, baseUrl };
        if (route.owner !== undefined) {
          const repo = locateRepo(root, route.owner, route.repo);
          // With tokens configured, repos behave as private: 404 without credentials.
          if (!repo || (options.tokens !== null && !auth.present)) throw notFound();
          ctx = {
            ...ctx,
            repo,
            host: req.headers.host ?? '127.0.0.1',
            apiBase: baseUrl + prefix,
            webBase: baseUrl,
          };
        }
        result = await handler(ctx);
      } catch (e) {
        if (countsAgainstLimit) bucket.remaining -= 1;
        throw e;
      }
      return answer(req, finish, route, result, common, { bucket, consume: countsAgainstLimit });
    } catch (e) {
      const err = e instanceof HttpError ? e : null;
      if (!err) {
        process.stderr.write(`[github-emulator] ${method} ${rawUrl}: ${e.stack || e}\n`);
      }
      const status = err ? err.status : 500;
      const payload = err ? errorPayload(err) : jsonBody({ message: 'Server Error', emulator_error: String(e.message ?? e) });
      const b = bucketFor(bucketKey);
      return finish(status, { ...common, ...rateHeaders(b), ...(err?.headers ?? {}) }, payload);
    }
  }

  /**
   * Serialize a handler result, apply ETag / If-None-Match and rate-limit
   * accounting. `bucket` supplies the rate-limit headers; `consume` says whether
   * a non-304 answer costs one request (codeload and /rate_limit do not).
   */
  function answer(req, finish, route, result, common, { bucket, consume }) {
    const body = Buffer.isBuffer(result.body) ? result.body : jsonBody(result.body);
    const headers = { ...common, ...(result.headers ?? {}) };
    if (result.contentType) headers['content-type'] = result.contentType;
    if (result.status === 200) {
      const etag = `"${crypto.createHash('sha256').update(body).digest('hex')}"`;
      headers.etag = etag;
      if (route.name !== 'codeload') headers['cache-control'] = 'private, max-age=60, s-maxage=60';
      if (etagMatches(req.headers['if-none-match'], etag)) {
        // A 304 does not count against the primary rate limit.
        const h304 = { etag, vary: headers.vary, ...rateHeaders(bucket) };
        if (headers['cache-control']) h304['cache-control'] = headers['cache-control'];
        return finish(304, h304, Buffer.alloc(0));
      }
    }
    if (consume) bucket.remaining = Math.max(0, bucket.remaining - 1);
    return finish(result.status, { ...headers, ...rateHeaders(bucket) }, body);
  }

  // ----- server -------------------------------------------------------------

  const server = http.createServer((req, res) => {
    onRequest(req, res).catch((e) => {
      process.stderr.write(`[github-emulator] unhandled: ${e.stack || e}\n`);
      try {
        res.destroy();
      } catch {
        /* ignore */
      }
    });
  });
  // workerd / undici keep connections alive; do not close idle sockets early.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = server.address().port;
  const url = `http://127.0.0.1:${actualPort}`;

  let closed = false;
  return {
    url,
    port: actualPort,
    root,
    async close() {
      if (closed) return;
      closed = true;
      const done = new Promise((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
    },
    stats: snapshotStats,
    resetStats,
    injectFault,
    clearFaults,
    setOption,
  };
}

// ---------------------------------------------------------------------------
// Standalone entry point
// ---------------------------------------------------------------------------

function parseArgs(argv) {
  const out = { root: null, port: 0, tokens: null, maxTreeEntries: 100000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--root') out.root = next();
    else if (a === '--port') out.port = Number(next());
    else if (a === '--tokens') out.tokens = next().split(',').filter(Boolean);
    else if (a === '--max-tree-entries') out.maxTreeEntries = Number(next());
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: github-emulator.mjs --root DIR [--port P] [--tokens a,b] [--max-tree-entries N]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!out.root) throw new Error('--root DIR is required');
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`github-emulator: ${e.message}\n`);
    process.exit(2);
  }
  const emu = await startGitHubEmulator(args);
  process.stdout.write(`listening ${emu.url}\n`);
  const stop = async () => {
    await emu.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
