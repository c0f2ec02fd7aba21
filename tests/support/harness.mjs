// End-to-end harness for Project Sync.
//
// Owns: one "world" per test file: a GitHub emulator (in this process, serving git
// repositories under a fresh temp root), a fresh local D1/Durable Object state dir with the
// migrations applied, and `wrangler dev` serving the prebuilt worker (build/) on 127.0.0.1.
// Plus the client helpers the tests share: JSON API calls, an SSE reader, pagination,
// waiting for syncs, triggering the cron handler, and git -> contract comparisons.
//
// Never builds: wrangler runs with PROJECT_SYNC_PREBUILT=1, which makes scripts/build a no-op.
// Stops only what it started: the wrangler process (SIGTERM by PID) and, if wrangler left
// them behind, its own child processes (by PID).

import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test as nodeTest } from 'node:test';
import assert from 'node:assert/strict';

import { startGitHubEmulator } from './github-emulator.mjs';
export * from './gitfixture.mjs';

export const PROJECT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN_DIR = path.join(PROJECT_DIR, 'node_modules', '.bin');

export const TERMINAL = Object.freeze(['COMPLETE', 'FAILED', 'CANCELLED']);
export const STATUS_ORDER = Object.freeze([
  'QUEUED', 'FETCHING', 'DIFFING', 'PROCESSING', 'PERSISTING', 'COMPLETE', 'FAILED', 'CANCELLED',
]);
export const SYNC_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------

/** Environment for every wrangler call: local node/wrangler first, nothing phones home. */
export function wranglerEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith('CLOUDFLARE_') || k.startsWith('CF_')) delete env[k];
  }
  return Object.assign(env, {
    PATH: `${BIN_DIR}${path.delimiter}${process.env.PATH ?? ''}`,
    WRANGLER_SEND_METRICS: 'false',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    NO_UPDATE_NOTIFIER: '1',
    PROJECT_SYNC_PREBUILT: '1',
    FORCE_COLOR: '0',
    NO_COLOR: '1',
    CI: '1',
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Whether `port` on 127.0.0.1 can be listened on right now. */
function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Run wrangler to completion; resolves its output, rejects on a non-zero exit. */
function runWrangler(args, { logFile, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(BIN_DIR, 'wrangler'), args, {
      cwd: PROJECT_DIR,
      env: wranglerEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (logFile) fs.appendFileSync(logFile, `$ wrangler ${args.join(' ')}\n${out}\n`);
      if (code === 0) resolve(out);
      else reject(new Error(`wrangler ${args.join(' ')} exited ${code ?? signal}:\n${out.slice(-4000)}`));
    });
  });
}

/** PIDs of every descendant of `pid` (from /proc), deepest last. */
function descendants(pid) {
  const children = new Map();
  let entries = [];
  try {
    entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  for (const e of entries) {
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(e));
    } catch {
      /* gone */
    }
  }
  const out = [];
  const walk = (p) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export { sleep };

// ---------------------------------------------------------------------------
// HTTP helpers
// ---------------------------------------------------------------------------

/**
 * One HTTP call. Returns { status, headers, text, json } (json undefined when the body is
 * not JSON). `body` objects are sent as JSON; strings/Buffers as they are.
 */
export async function request(base, method, p, { token, body, headers = {}, timeoutMs = 30_000 } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    if (typeof body === 'string' || Buffer.isBuffer(body)) payload = body;
    else {
      payload = JSON.stringify(body);
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['content-type'] = 'application/json';
    }
  }
  const url = /^https?:/.test(p) ? p : base + p;
  const send = () => fetch(url, { method, headers: h, body: payload, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  let res;
  try {
    res = await send();
  } catch (e) {
    // The local dev proxy closes keep-alive connections that sat idle (e.g. while a test
    // builds a large repository); a request sent on one dies before any answer. Once more,
    // on a fresh connection.
    if (e?.cause?.code !== 'UND_ERR_SOCKET') throw e;
    res = await send();
  }
  const text = await res.text();
  let json;
  try {
    json = text.length ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Assert the contract's error shape and status/code. Returns the error object. */
export function assertError(res, status, code, what = '') {
  const ctx = `${what} -> ${res.status} ${res.text.slice(0, 500)}`;
  assert.equal(res.status, status, `status: ${ctx}`);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/, `content-type: ${ctx}`);
  assert.ok(res.json && typeof res.json === 'object' && res.json.error && typeof res.json.error === 'object', `error shape: ${ctx}`);
  assert.equal(res.json.error.code, code, `error code: ${ctx}`);
  assert.equal(typeof res.json.error.message, 'string', `error message: ${ctx}`);
  assert.ok(res.json.error.message.length > 0, `error message not empty: ${ctx}`);
  return res.json.error;
}

// ---------------------------------------------------------------------------
// Server-sent events
// ---------------------------------------------------------------------------

/**
 * Read an SSE stream until the server closes it (or `timeoutMs`, which throws).
 * `url` may be relative to `base`. Options: lastEventId, token (Bearer), headers,
 * onEvent(ev) called as each event arrives.
 * Returns { status, headers, events: [{id, event, data, raw}], times: [ms since request],
 *   comments: [text], closed: true }.
 */
export async function readEvents(base, url, { lastEventId, token, headers = {}, timeoutMs = SYNC_TIMEOUT_MS, onEvent } = {}) {
  const h = { accept: 'text/event-stream', ...headers };
  if (lastEventId !== undefined && lastEventId !== null) h['last-event-id'] = String(lastEventId);
  if (token) h.authorization = `Bearer ${token}`;
  const full = /^https?:/.test(url) ? url : base + url;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const started = Date.now();
  const result = { status: 0, headers: null, events: [], times: [], comments: [], closed: false };
  try {
    const res = await fetch(full, { headers: h, signal: controller.signal });
    result.status = res.status;
    result.headers = res.headers;
    if (res.status !== 200) {
      const text = await res.text();
      const e = new Error(`event stream ${url} answered ${res.status}: ${text.slice(0, 500)}`);
      e.status = res.status;
      e.text = text;
      throw e;
    }
    const decoder = new TextDecoder();
    let buf = '';
    let cur = { id: undefined, event: undefined, data: [] , has: false };
    const dispatch = () => {
      if (cur.has) {
        const raw = cur.data.join('\n');
        let data = raw;
        try {
          data = JSON.parse(raw);
        } catch {
          /* keep the text */
        }
        const ev = { id: cur.id, event: cur.event ?? 'message', data, raw };
        result.events.push(ev);
        result.times.push(Date.now() - started);
        if (onEvent) onEvent(ev);
      }
      cur = { id: undefined, event: undefined, data: [], has: false };
    };
    const line = (l) => {
      if (l === '') return dispatch();
      if (l.startsWith(':')) return void result.comments.push(l.slice(1).trim());
      const i = l.indexOf(':');
      const field = i < 0 ? l : l.slice(0, i);
      let value = i < 0 ? '' : l.slice(i + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'id') cur.id = value;
      else if (field === 'event') cur.event = value;
      else if (field === 'data') cur.data.push(value);
      else return;
      cur.has = true;
    };
    for await (const chunk of res.body) {
      buf += decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
        const sep = buf[nl] === '\r' && buf[nl + 1] === '\n' ? 2 : 1;
        line(buf.slice(0, nl));
        buf = buf.slice(nl + sep);
      }
    }
    buf += decoder.decode();
    if (buf.length) line(buf);
    // An unterminated final frame is not an event (per the SSE spec); we keep it out.
    result.closed = true;
    return result;
  } catch (e) {
    if (timedOut) {
      const err = new Error(
        `event stream ${url} did not close within ${timeoutMs} ms; got ${result.events.length} events: ` +
          JSON.stringify(result.events.map((ev) => [ev.id, ev.event, ev.data?.status, ev.data?.progress])),
      );
      err.partial = result;
      throw err;
    }
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------
// The world
// ---------------------------------------------------------------------------

/**
 * Start an emulator and a worker with fresh state.
 * Options: webhookSecret, githubToken (default 'e2e-github-token'; null for none),
 * emulatorTokens (null: the emulator accepts any token), keepState (keep the temp dir).
 */
export async function startWorld({
  webhookSecret,
  githubToken = 'e2e-github-token',
  emulatorTokens = null,
  apiPath = '',
  keepState = !!process.env.E2E_KEEP_STATE,
  vars = {},
} = {}) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'project-sync-e2e-'));
  const root = path.join(tmp, 'github');
  const state = path.join(tmp, 'state');
  const logFile = path.join(tmp, 'wrangler.log');
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(logFile, '');
  const adminToken = crypto.randomBytes(24).toString('hex');
  // The service refuses to run without its secrets; each world has its own. `vars` adds
  // or overrides variables (a key rotation test changes them across a restart).
  const secrets = {
    ADMIN_TOKEN: adminToken,
    STREAM_TOKEN_SECRET: crypto.randomBytes(24).toString('hex'),
    TOKEN_ENCRYPTION_KEY: crypto.randomBytes(24).toString('hex'),
    // Tests arm faults at named points (POST /api/v1/_test/faults) and reap lost starts
    // after 3 s instead of a minute.
    FAULT_INJECTION: 'true',
    REAPER_GRACE_MS: '3000',
  };

  const emulator = await startGitHubEmulator({ root, tokens: emulatorTokens });
  let child = null;
  let childExit = null;
  const world = {
    tmp,
    root,
    state,
    logFile,
    adminToken,
    secrets,
    vars: { ...vars },
    emulator,
    webhookSecret,
    githubToken,
    base: null,
    pid: null,
  };

  const logSize = () => {
    try {
      return fs.statSync(logFile).size;
    } catch {
      return 0;
    }
  };
  world.logSize = logSize;
  /** Log text written since byte `from` (or the last `maxLines` lines of the whole log). */
  world.logSince = (from = 0, maxLines = 150) => {
    let text = '';
    try {
      const fd = fs.openSync(logFile, 'r');
      const size = fs.fstatSync(fd).size;
      const b = Buffer.alloc(Math.max(0, size - from));
      fs.readSync(fd, b, 0, b.length, from);
      fs.closeSync(fd);
      text = b.toString('utf8');
    } catch {
      /* no log */
    }
    // eslint-disable-next-line no-control-regex
    const lines = text.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
    return (lines.length > maxLines ? [`... (${lines.length - maxLines} earlier lines)`, ...lines.slice(-maxLines)] : lines).join('\n');
  };
  world.logTail = (maxLines = 80) => world.logSince(0, maxLines);
  /** Waits until the log written since byte `from` matches `pattern` (the runtime writes it late). */
  world.waitForLog = async (pattern, from = 0, timeoutMs = 10_000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const text = world.logSince(from, 100_000);
      if (pattern.test(text)) return text;
      if (Date.now() > until) throw new Error(`the wrangler log never matched ${pattern}; since the mark:\n${text.slice(-3000)}`);
      await sleep(100);
    }
  };

  /**
   * Start `wrangler dev` on `port` (a free one when not given) over the state dir and wait
   * until it answers /healthz. Sets world.base and world.pid. Never applies migrations.
   */
  async function launchWrangler(port) {
    if (!port) port = await freePort();
    const inspectorPort = await freePort();
    const args = [
      'dev',
      '--ip', '127.0.0.1',
      '--port', String(port),
      '--inspector-port', String(inspectorPort),
      '--persist-to', state,
      '--show-interactive-dev-session=false',
      '--test-scheduled',
      '--var', `GITHUB_API_URL:${emulator.url}${apiPath}`,
    ];
    if (webhookSecret) args.push('--var', `WEBHOOK_SECRET:${webhookSecret}`);
    if (githubToken) args.push('--var', `GITHUB_TOKEN:${githubToken}`);
    for (const [name, value] of Object.entries({ ...secrets, ...world.vars })) {
      if (value !== null && value !== undefined) args.push('--var', `${name}:${value}`);
    }
    const logFd = fs.openSync(logFile, 'a');
    const hidden = /^(ADMIN_TOKEN|STREAM_TOKEN_SECRET|TOKEN_ENCRYPTION_KEY[A-Z_]*):/;
    fs.writeSync(logFd, `$ wrangler ${args.map((a) => (hidden.test(a) ? `${a.split(':')[0]}:***` : a)).join(' ')}\n`);
    // Its own process group, so a kill test can take down wrangler and workerd together.
    child = spawn(path.join(BIN_DIR, 'wrangler'), args, {
      cwd: PROJECT_DIR,
      env: wranglerEnv(),
      stdio: ['ignore', logFd, logFd],
      detached: true,
    });
    fs.closeSync(logFd);
    world.pid = child.pid;
    childExit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    let exited = null;
    childExit.then((e) => (exited = e));
    world.base = `http://127.0.0.1:${port}`;

    const deadline = Date.now() + 90_000;
    const devLogStart = logSize();
    let errorSeenAt = null;
    for (;;) {
      if (exited) throw new Error(`wrangler dev exited (${exited.code ?? exited.signal}) before answering /healthz`);
      // wrangler reports a broken worker (e.g. wrangler.toml and build/ out of step) and keeps
      // running: give it a few seconds, then fail instead of waiting out the deadline.
      if (errorSeenAt === null && /\[ERROR\]/.test(world.logSince(devLogStart, 100_000))) errorSeenAt = Date.now();
      if (errorSeenAt !== null && Date.now() - errorSeenAt > 5000) {
        throw new Error('wrangler dev reported an [ERROR] while starting and does not answer /healthz (is build/ in step with wrangler.toml?)');
      }
      try {
        const res = await fetch(`${world.base}/healthz`, { signal: AbortSignal.timeout(5000) });
        await res.arrayBuffer();
        if (res.status === 200) break;
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline) throw new Error('wrangler dev did not answer /healthz with 200 within 90 s');
      await sleep(200);
    }
  }

  try {
    await runWrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', state], { logFile });
    await launchWrangler();
  } catch (e) {
    e.message += `\n--- wrangler log (${logFile}) ---\n${world.logTail(60)}`;
    await stopAll();
    if (!keepState) fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }

  /** Stop the wrangler process (SIGTERM by PID, SIGKILL after 10 s) and any child it left behind. */
  async function stopWrangler() {
    if (child && child.exitCode === null && child.signalCode === null) {
      const kids = descendants(child.pid);
      child.kill('SIGTERM');
      const done = await Promise.race([childExit.then(() => true), sleep(10_000).then(() => false)]);
      if (!done) {
        child.kill('SIGKILL');
        await Promise.race([childExit, sleep(5_000)]);
      }
      // wrangler normally stops workerd itself; stop any child it left behind (by PID).
      const left = kids.filter(alive);
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          /* gone */
        }
      }
      if (left.length) {
        const until = Date.now() + 5000;
        while (left.some(alive) && Date.now() < until) await sleep(100);
        for (const pid of left.filter(alive)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      }
    }
  }

  async function stopAll() {
    await stopWrangler();
    await emulator.close().catch(() => {});
  }

  /**
   * Restart the runtime: stop wrangler (as stop() does) and start a new `wrangler dev` over the
   * same state dir, without re-applying migrations; the emulator keeps running. The same port
   * is reused when it is free again within a few seconds, otherwise a new one is taken
   * (world.base follows). Resolves once the new process answers /healthz.
   */
  world.restart = async ({ newPort = false } = {}) => {
    const oldPort = Number(new URL(world.base).port);
    await stopWrangler();
    let port = null;
    if (!newPort) {
      const until = Date.now() + 5000;
      while (Date.now() < until) {
        if (await portFree(oldPort)) {
          port = oldPort;
          break;
        }
        await sleep(200);
      }
    }
    fs.appendFileSync(logFile, `\n[harness] restarting wrangler dev (port ${port ?? 'new'})\n`);
    try {
      await launchWrangler(port);
    } catch (e) {
      e.message += `\n--- wrangler log (${logFile}) ---\n${world.logTail(60)}`;
      throw e;
    }
    return world;
  };

  /**
   * SIGKILL the runtime: wrangler's whole process group (workerd included) and any
   * descendant that left it, with no chance to flush or shut down. Then start it again on
   * the same state dir (as `restart` does). Resolves when the new runtime answers.
   */
  world.killAndRestart = async () => {
    const oldPort = Number(new URL(world.base).port);
    if (child && child.exitCode === null && child.signalCode === null) {
      const kids = descendants(child.pid);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      for (const pid of kids.filter(alive)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await Promise.race([childExit, sleep(5_000)]);
      const until = Date.now() + 5_000;
      while (kids.some(alive) && Date.now() < until) await sleep(50);
    }
    let port = null;
    const until = Date.now() + 3_000;
    while (Date.now() < until) {
      if (await portFree(oldPort)) {
        port = oldPort;
        break;
      }
      await sleep(100);
    }
    fs.appendFileSync(logFile, `\n[harness] killed the runtime (SIGKILL); starting it again (port ${port ?? 'new'})\n`);
    await launchWrangler(port);
    return world;
  };

  world.stop = async () => {
    await stopAll();
    if (!keepState && !world.keep) fs.rmSync(tmp, { recursive: true, force: true });
    else process.stderr.write(`[harness] kept state in ${tmp}\n`);
  };

  // ----- API -----
  world.api = (method, p, opts = {}) => request(world.base, method, p, opts);
  world.readEvents = (url, opts = {}) => readEvents(world.base, url, opts);

  /** Create a user with the admin token; returns { id, name, token, api, ... } bound to it. */
  world.createUser = async (name) => {
    const res = await world.api('POST', '/api/v1/users', { token: adminToken, body: { name } });
    assert.equal(res.status, 201, `create user ${name}: ${res.status} ${res.text}`);
    return userClient(world, res.json);
  };

  /** Arm a fault at a named point of the worker (FAULT_INJECTION is on in tests). */
  world.armFault = async (point, times = 1) => {
    const res = await world.api('POST', '/api/v1/_test/faults', { token: adminToken, body: { point, times } });
    assert.equal(res.status, 200, `arm fault ${point}: ${res.status} ${res.text}`);
  };

  /** Trigger the scheduled (cron) handler once; returns the status of the trigger call. */
  world.triggerScheduled = async (cron = '*/5 * * * *') => {
    const q = `cron=${encodeURIComponent(cron).replace(/%20/g, '+')}`;
    let last;
    for (const p of ['/cdn-cgi/handler/scheduled', '/cdn-cgi/local/scheduled', '/__scheduled']) {
      last = await request(world.base, 'GET', `${p}?${q}`, { timeoutMs: 60_000 });
      if (last.status !== 404) return last;
    }
    throw new Error(`no scheduled trigger route answered: ${last.status} ${last.text.slice(0, 200)}`);
  };

  return world;
}

/** A client bound to one user's token. */
export function userClient(world, user) {
  const u = { ...user, world };
  u.api = (method, p, opts = {}) => world.api(method, p, { token: user.token, ...opts });
  u.get = (p, opts) => u.api('GET', p, opts);
  u.post = (p, body, opts = {}) => u.api('POST', p, { body, ...opts });

  /** GET and assert 200, returning the JSON. */
  u.getJson = async (p) => {
    const res = await u.get(p);
    assert.equal(res.status, 200, `GET ${p}: ${res.status} ${res.text.slice(0, 500)}`);
    return res.json;
  };

  /** Every item of a paginated list, following nextCursor; checks the page shape. */
  u.listAll = async (p, { limit } = {}) => {
    const items = [];
    let cursor = null;
    const seen = new Set();
    for (let pages = 0; pages < 10_000; pages++) {
      const params = new URLSearchParams();
      if (limit) params.set('limit', String(limit));
      if (cursor) params.set('cursor', cursor);
      const sep = p.includes('?') ? '&' : '?';
      const q = params.toString();
      const page = await u.getJson(q ? `${p}${sep}${q}` : p);
      assert.ok(Array.isArray(page.items), `${p}: items is an array`);
      assert.ok('nextCursor' in page, `${p}: page has nextCursor`);
      if (limit) assert.ok(page.items.length <= limit, `${p}: page of ${page.items.length} > limit ${limit}`);
      items.push(...page.items);
      if (page.nextCursor === null) return items;
      assert.equal(typeof page.nextCursor, 'string', `${p}: nextCursor is a string or null`);
      assert.ok(!seen.has(page.nextCursor), `${p}: nextCursor repeats (${page.nextCursor})`);
      seen.add(page.nextCursor);
      cursor = page.nextCursor;
    }
    throw new Error(`${p}: too many pages`);
  };

  u.createProject = async (body) => {
    const res = await u.post('/api/v1/projects', body);
    assert.equal(res.status, 201, `create project ${JSON.stringify(body)}: ${res.status} ${res.text}`);
    return res.json;
  };

  /** POST /syncs and assert 202; returns { sync, eventsUrl }. */
  u.startSync = async (projectId, body = {}) => {
    const res = await u.post(`/api/v1/projects/${projectId}/syncs`, body);
    assert.equal(res.status, 202, `start sync: ${res.status} ${res.text}`);
    return res.json;
  };

  /** Poll GET /syncs/{id} until a terminal status; returns the sync. */
  u.waitSync = async (syncId, { timeoutMs = SYNC_TIMEOUT_MS } = {}) => {
    const until = Date.now() + timeoutMs;
    let last;
    while (Date.now() < until) {
      last = await u.getJson(`/api/v1/syncs/${syncId}`);
      if (TERMINAL.includes(last.status)) return last;
      await sleep(150);
    }
    throw new Error(`sync ${syncId} did not finish within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
  };

  /** Start a sync and wait for it to finish (asserting COMPLETE unless told otherwise). */
  u.syncAndWait = async (projectId, body = {}, { expect = 'COMPLETE' } = {}) => {
    const started = await u.startSync(projectId, body);
    const done = await u.waitSync(started.sync.id);
    if (expect) assert.equal(done.status, expect, `sync ${done.id}: ${JSON.stringify(done)}`);
    return { ...started, done };
  };

  u.files = (projectId, { at, prefix, limit } = {}) => {
    const q = new URLSearchParams();
    if (at) q.set('at', at);
    if (prefix) q.set('prefix', prefix);
    const s = q.toString();
    return u.listAll(`/api/v1/projects/${projectId}/files${s ? `?${s}` : ''}`, { limit });
  };
  return u;
}

// ---------------------------------------------------------------------------
// Tests with the wrangler log on failure
// ---------------------------------------------------------------------------

/**
 * `test` that prints the wrangler log lines written during a failing test (and attaches
 * them to the error). Usage: const test = worldTest(() => world).
 */
export function worldTest(getWorld) {
  const wrapped = (name, opts, fn) => {
    if (typeof opts === 'function') {
      fn = opts;
      opts = {};
    }
    return nodeTest(name, opts, async (t) => {
      const world = getWorld();
      const mark = world ? world.logSize() : 0;
      try {
        return await fn(t);
      } catch (e) {
        if (world) {
          const log = world.logSince(mark, 120);
          if (/Reloading local server|Detected changes, restarted server/.test(world.logSince(mark, 100_000))) {
            const note = 'NOTE: wrangler reloaded the worker during this test (build/ or src/ changed under it); the failure may come from the reload.';
            process.stderr.write(`\n${note}\n`);
            try {
              e.message = `${note}\n${e.message}`;
            } catch {
              /* read-only message */
            }
          }
          process.stderr.write(`\n--- wrangler log during "${name}" ---\n${log}\n--- end of wrangler log ---\n`);
          try {
            e.message = `${e.message}\n--- wrangler log during this test (tail) ---\n${world.logSince(mark, 40)}`;
          } catch {
            /* read-only message */
          }
        }
        throw e;
      }
    });
  };
  wrapped.skip = (name, opts, fn) => nodeTest.skip(name, typeof opts === 'function' ? {} : opts, typeof opts === 'function' ? opts : fn);
  wrapped.todo = (name, opts, fn) => nodeTest.todo(name, typeof opts === 'function' ? {} : opts, typeof opts === 'function' ? opts : fn);
  return wrapped;
}

// ---------------------------------------------------------------------------
// Git -> contract
// ---------------------------------------------------------------------------

export function byteCompare(a, b) {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function kindOfMode(mode) {
  if (mode === '120000') return 'symlink';
  if (mode === '160000') return 'submodule';
  return 'file';
}

/** The files a sync of `ref` must hold: [{path, mode, kind, sha, size}] sorted by path bytes. */
export function expectedFiles(repo, ref) {
  return repo
    .lsTree(ref)
    .map((e) => ({ path: e.path, mode: e.mode, kind: kindOfMode(e.mode), sha: e.sha, size: e.mode === '160000' ? null : e.size }))
    .sort((a, b) => byteCompare(a.path, b.path));
}

/** API file rows reduced to the fields git can check. */
export function fileShape(files) {
  return files.map((f) => ({ path: f.path, mode: f.mode, kind: f.kind, sha: f.sha, size: f.size }));
}

/** Counts a sync from commit a to commit b must report, from `git diff --name-status -M`. */
export function expectedCounts(repo, a, b) {
  const counts = { added: 0, modified: 0, removed: 0, unchanged: 0, renamed: 0 };
  const diff = repo.diffNameStatus(a, b);
  for (const d of diff) {
    if (d.status === 'A') counts.added++;
    else if (d.status === 'M' || d.status === 'T') counts.modified++;
    else if (d.status === 'D') counts.removed++;
    else if (d.status === 'R') counts.renamed++;
    else throw new Error(`unexpected diff status ${d.status} for ${d.path}`);
  }
  const before = new Map(repo.lsTree(a).map((e) => [e.path, e]));
  for (const e of repo.lsTree(b)) {
    const o = before.get(e.path);
    if (o && o.sha === e.sha && o.mode === e.mode) counts.unchanged++;
  }
  return { counts, diff };
}

/** The change list a sync from a to b must report: [{path, change, previousPath?, sha, previousSha?}]. */
export function expectedChanges(repo, a, b) {
  const before = new Map(repo.lsTree(a).map((e) => [e.path, e]));
  const after = new Map(repo.lsTree(b).map((e) => [e.path, e]));
  const names = { A: 'added', M: 'modified', T: 'modified', D: 'removed', R: 'renamed' };
  return repo
    .diffNameStatus(a, b)
    .map((d) => {
      const change = names[d.status];
      if (d.status === 'D') return { path: d.path, change, sha: before.get(d.path).sha, previousSha: before.get(d.path).sha };
      if (d.status === 'A') return { path: d.path, change, sha: after.get(d.path).sha };
      if (d.status === 'R') return { path: d.path, change, previousPath: d.previousPath, sha: after.get(d.path).sha, previousSha: before.get(d.previousPath).sha };
      return { path: d.path, change, sha: after.get(d.path).sha, previousSha: before.get(d.path).sha };
    })
    .sort((x, y) => byteCompare(x.path, y.path));
}

/** `git for-each-ref refs/heads` -> [{name, commitSha}] sorted by name bytes. */
export function gitBranches(repo) {
  const out = repo.git(['for-each-ref', '--format=%(refname:strip=2)%00%(objectname)', 'refs/heads']);
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [name, commitSha] = l.split('\0');
      return { name, commitSha };
    })
    .sort((a, b) => byteCompare(a.name, b.name));
}

/** GitHub's push webhook signature header value for `raw` (a string or Buffer). */
export function signWebhook(secret, raw) {
  return `sha256=${crypto.createHmac('sha256', secret).update(raw).digest('hex')}`;
}

/** Check the SSE event list of one sync against the contract; returns the terminal event. */
export function assertEventStream(result, { syncId, terminal }) {
  const evs = result.events;
  const summary = JSON.stringify(evs.map((e) => [e.id, e.event, e.data?.status, e.data?.progress]));
  assert.ok(evs.length >= 2, `at least two events: ${summary}`);
  evs.forEach((e, i) => {
    assert.equal(e.id, String(i + 1), `event ids are 1, 2, 3 ...: ${summary}`);
    assert.ok(['progress', 'complete', 'failed', 'cancelled'].includes(e.event), `event name ${e.event}: ${summary}`);
    assert.equal(typeof e.data, 'object', `data is JSON: ${e.raw}`);
    for (const k of ['syncId', 'status', 'progress', 'message', 'counts', 'stats']) {
      assert.ok(k in e.data, `event ${e.id} data has ${k}: ${e.raw}`);
    }
    assert.equal(e.data.syncId, syncId, `event ${e.id} syncId`);
    assert.ok(STATUS_ORDER.includes(e.data.status), `event ${e.id} status ${e.data.status}`);
    assert.ok(Number.isInteger(e.data.progress) && e.data.progress >= 0 && e.data.progress <= 100, `event ${e.id} progress ${e.data.progress}`);
    for (const k of ['added', 'modified', 'removed', 'unchanged', 'renamed']) {
      assert.ok(Number.isInteger(e.data.counts[k]), `event ${e.id} counts.${k}: ${e.raw}`);
    }
    for (const k of ['githubRequests', 'githubNotModified', 'd1RowsWritten', 'bytesDownloaded', 'durationMs']) {
      assert.ok(Number.isInteger(e.data.stats[k]), `event ${e.id} stats.${k}: ${e.raw}`);
    }
    if (i > 0) {
      const p = evs[i - 1];
      assert.ok(e.data.progress >= p.data.progress, `progress never goes down (${p.data.progress} -> ${e.data.progress}): ${summary}`);
      assert.ok(STATUS_ORDER.indexOf(e.data.status) >= STATUS_ORDER.indexOf(p.data.status), `statuses in contract order: ${summary}`);
    }
  });
  const terminals = evs.filter((e) => e.event !== 'progress');
  assert.equal(terminals.length, 1, `exactly one terminal event: ${summary}`);
  const last = evs[evs.length - 1];
  assert.equal(last.event, terminal, `terminal event: ${summary}`);
  assert.equal(last.data.status, terminal.toUpperCase(), `terminal status: ${summary}`);
  for (const e of evs.slice(0, -1)) assert.ok(!TERMINAL.includes(e.data.status), `only the last event is terminal: ${summary}`);
  assert.equal(result.closed, true, 'the server closed the stream');
  return last;
}

// ---------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------

export const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Check a project object's fields and types; never a stored token. */
export function assertProjectShape(p) {
  const ctx = JSON.stringify(p);
  for (const k of ['id', 'name', 'repository', 'branch', 'createdAt']) assert.equal(typeof p[k], 'string', `project.${k}: ${ctx}`);
  assert.equal(typeof p.tracked, 'boolean', `project.tracked: ${ctx}`);
  for (const k of ['currentSyncId', 'currentCommitSha']) {
    assert.ok(p[k] === null || typeof p[k] === 'string', `project.${k}: ${ctx}`);
  }
  assert.match(p.createdAt, RFC3339_UTC, `project.createdAt: ${ctx}`);
  assert.ok(!('githubToken' in p), `project never returns githubToken: ${ctx}`);
}

/** Check a sync object's fields and types. */
export function assertSyncShape(s) {
  const ctx = JSON.stringify(s);
  for (const k of ['id', 'projectId', 'branch', 'status', 'message', 'startedAt']) assert.equal(typeof s[k], 'string', `sync.${k}: ${ctx}`);
  assert.ok(['sync', 'restore'].includes(s.kind), `sync.kind: ${ctx}`);
  assert.ok(['api', 'cron', 'webhook'].includes(s.trigger), `sync.trigger: ${ctx}`);
  assert.ok(STATUS_ORDER.includes(s.status), `sync.status: ${ctx}`);
  assert.ok(Number.isInteger(s.progress) && s.progress >= 0 && s.progress <= 100, `sync.progress: ${ctx}`);
  for (const k of ['commitSha', 'previousSyncId', 'restoredFromSyncId', 'error', 'completedAt']) {
    assert.ok(k in s && (s[k] === null || typeof s[k] === 'string'), `sync.${k}: ${ctx}`);
  }
  for (const k of ['added', 'modified', 'removed', 'unchanged', 'renamed']) assert.ok(Number.isInteger(s.counts?.[k]), `sync.counts.${k}: ${ctx}`);
  for (const k of ['githubRequests', 'githubNotModified', 'd1RowsWritten', 'bytesDownloaded', 'durationMs']) {
    assert.ok(Number.isInteger(s.stats?.[k]), `sync.stats.${k}: ${ctx}`);
  }
  assert.match(s.startedAt, RFC3339_UTC, `sync.startedAt: ${ctx}`);
  if (s.completedAt !== null) assert.match(s.completedAt, RFC3339_UTC, `sync.completedAt: ${ctx}`);
  if (TERMINAL.includes(s.status)) assert.notEqual(s.completedAt, null, `a finished sync has completedAt: ${ctx}`);
}

export const ZERO_COUNTS = Object.freeze({ added: 0, modified: 0, removed: 0, unchanged: 0, renamed: 0 });

/**
 * Compare GET /syncs/{id}/changes rows with expectedChanges: same paths in path order, same
 * change kinds, previousPath on renames, `sha` = the new version (the removed version for a
 * removal), and previousSha, when given, = the version before.
 */
export function assertChanges(rows, expected) {
  const key = (r) => [r.path, r.change, r.change === 'renamed' ? r.previousPath : null];
  assert.deepEqual(rows.map(key), expected.map(key), `changes: paths, kinds and previous paths; got ${JSON.stringify(rows)}`);
  rows.forEach((r, i) => {
    const e = expected[i];
    assert.equal(r.sha, e.sha, `changes: sha of ${r.path} (${r.change})`);
    if (r.previousSha !== undefined && r.previousSha !== null) assert.equal(r.previousSha, e.previousSha, `changes: previousSha of ${r.path}`);
    if (r.change === 'modified' || r.change === 'renamed') {
      assert.ok(r.previousSha === undefined || r.previousSha === null || typeof r.previousSha === 'string');
    }
  });
}
