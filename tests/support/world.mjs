// A world: one GitHub emulator (in this process, serving git repositories under a fresh
// temp root), a fresh local state with the migrations applied, and one runtime serving the
// prebuilt worker against them, with the secrets and variables the service needs. Plus what
// tests do with a world: users, armed faults, the cron trigger, the log of a failing test.
//
// Never builds: wrangler runs with PROJECT_SYNC_PREBUILT=1, which makes scripts/build a no-op.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test as nodeTest } from 'node:test';
import { request, userClient } from './client.mjs';
import { startGitHubEmulator } from './github-emulator.mjs';
import { PROJECT_DIR, sleep } from './processes.mjs';
import { Runtime } from './runtime.mjs';
import { readEvents } from './sse.mjs';
import { makeAppKeys } from './github-app.mjs';

/** Secrets and test settings of a world; `vars` adds to or overrides them (null removes). */
function worldVars({ emulatorUrl, apiPath, webhookSecret, githubToken, adminToken }) {
  return {
    GITHUB_API_URL: `${emulatorUrl}${apiPath}`,
    WEBHOOK_SECRET: webhookSecret,
    GITHUB_TOKEN: githubToken,
    // The service refuses to run without its secrets; each world has its own.
    ADMIN_TOKEN: adminToken,
    STREAM_TOKEN_SECRET: crypto.randomBytes(24).toString('hex'),
    TOKEN_ENCRYPTION_KEY: crypto.randomBytes(24).toString('hex'),
    // Tests arm faults at named points (POST /api/v1/_test/faults) and reap lost starts
    // after 3 s instead of a minute.
    FAULT_INJECTION: 'true',
    REAPER_GRACE_MS: '3000',
    // Hooks deliver to loopback receivers over http://, and retry after 0.1 s, 0.2 s, ...
    // (the queue rounds each delay up to whole seconds).
    ALLOW_HTTP_HOOKS: 'true',
    HOOK_RETRY_BASE_MS: '100',
  };
}

// The configuration copies this process wrote, removed when it exits. Each is its own (named
// by the process and a count), so no world reads, or rewrites under a running wrangler,
// another's copy, whatever order or concurrency the test files run in.
const configCopies = new Set();
process.on('exit', () => {
  for (const file of configCopies) fs.rmSync(file, { force: true });
});

/**
 * D1 bindings for a world of `n` databases: wrangler.toml as it is for one; for more, a
 * copy of it (in the project directory, so its relative paths hold) that binds DB2, DB3 …
 * as well, and PROJECT_DATABASES naming them all.
 */
export function databaseConfig(n) {
  if (n <= 1) return { bindings: ['DB'], config: null, vars: {} };
  const bindings = ['DB', ...Array.from({ length: n - 1 }, (_, i) => `DB${i + 2}`)];
  const extra = bindings.slice(1).map((b, i) =>
    `\n[[d1_databases]]\nbinding = "${b}"\ndatabase_name = "project-sync-${i + 2}"\n` +
    `database_id = "00000000-0000-0000-0000-00000000000${i + 2}"\nmigrations_dir = "migrations"\n`);
  const config = path.join(PROJECT_DIR, `.wrangler-e2e-${process.pid}-${configCopies.size + 1}-${n}-databases.toml`);
  fs.writeFileSync(config, fs.readFileSync(path.join(PROJECT_DIR, 'wrangler.toml'), 'utf8') + extra.join(''));
  configCopies.add(config);
  return { bindings, config, vars: { PROJECT_DATABASES: bindings.join(',') } };
}

/**
 * Start an emulator and a worker with fresh state.
 * Options: webhookSecret, githubToken (default 'e2e-github-token'; null for none),
 * emulatorTokens (null: the emulator accepts any token), apiPath (e.g. '/api/v3'),
 * vars (more or other variables; a test may change `world.vars` before a restart),
 * keepState (keep the temp dir), databases (how many D1 databases hold projects),
 * app ({ id, keyFormat: 'pkcs1' | 'pkcs8' }: a GitHub App the emulator knows and the worker
 * is configured with; `world.app` then holds its id and keys).
 */
export async function startWorld({
  webhookSecret,
  githubToken = 'e2e-github-token',
  emulatorTokens = null,
  apiPath = '',
  keepState = !!process.env.E2E_KEEP_STATE,
  vars = {},
  databases = 1,
  app = null,
} = {}) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'project-sync-e2e-'));
  const root = path.join(tmp, 'github');
  const logFile = path.join(tmp, 'wrangler.log');
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(logFile, '');
  const adminToken = crypto.randomBytes(24).toString('hex');
  const emulator = await startGitHubEmulator({ root, tokens: emulatorTokens });
  const base = worldVars({ emulatorUrl: emulator.url, apiPath, webhookSecret, githubToken, adminToken });
  const world = { tmp, root, logFile, adminToken, emulator, webhookSecret, githubToken, vars: { ...vars } };
  if (app) {
    const keys = makeAppKeys();
    const id = app.id ?? 31337;
    emulator.setOption('app', { id, publicKey: keys.publicKey });
    world.app = { id, keys };
    base.GITHUB_APP_ID = String(id);
    base.GITHUB_APP_PRIVATE_KEY = app.keyFormat === 'pkcs8' ? keys.pkcs8 : keys.pkcs1;
  }
  const placement = databaseConfig(databases);
  const runtime = new Runtime({
    state: path.join(tmp, 'state'),
    logFile,
    vars: () => ({ ...base, ...placement.vars, ...world.vars }),
    config: placement.config,
    databases: placement.bindings,
  });
  world.runtime = runtime;
  world.state = runtime.state;
  Object.defineProperty(world, 'base', { get: () => runtime.base });
  Object.defineProperty(world, 'pid', { get: () => runtime.pid });
  Object.defineProperty(world, 'inspectorPort', { get: () => runtime.inspectorPort });

  const stopAll = async () => {
    await runtime.stop();
    await emulator.close().catch(() => {});
  };
  try {
    await runtime.migrate();
    await runtime.launch();
  } catch (e) {
    e.message += `\n--- wrangler log (${logFile}) ---\n${runtime.logSince(0, 60)}`;
    await stopAll();
    if (!keepState) fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  addLog(world, runtime);
  world.restart = async ({ newPort = false } = {}) => (await runtime.restart({ newPort }), world);
  world.killAndRestart = async () => (await runtime.restart({ kill: true }), world);
  world.stop = async () => {
    await stopAll();
    if (!keepState && !world.keep) fs.rmSync(tmp, { recursive: true, force: true });
    else process.stderr.write(`[harness] kept state in ${tmp}\n`);
  };
  addApi(world);
  return world;
}

function addLog(world, runtime) {
  world.logSize = () => runtime.logSize();
  world.logSince = (from = 0, maxLines = 150) => runtime.logSince(from, maxLines);
  world.logTail = (maxLines = 80) => runtime.logSince(0, maxLines);
  /** Waits until the log written since byte `from` matches `pattern` (the runtime writes it late). */
  world.waitForLog = async (pattern, from = 0, timeoutMs = 10_000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const text = runtime.logSince(from, 100_000);
      if (pattern.test(text)) return text;
      if (Date.now() > until) throw new Error(`the wrangler log never matched ${pattern}; since the mark:\n${text.slice(-3000)}`);
      await sleep(100);
    }
  };
}

function addApi(world) {
  world.api = (method, p, opts = {}) => request(world.base, method, p, opts);
  world.readEvents = (url, opts = {}) => readEvents(world.base, url, opts);

  /** Create a user with the admin token; returns { id, name, token, api, ... } bound to it. */
  world.createUser = async (name) => {
    const res = await world.api('POST', '/api/v1/users', { token: world.adminToken, body: { name } });
    assert.equal(res.status, 201, `create user ${name}: ${res.status} ${res.text}`);
    return userClient(world, res.json);
  };

  /** Arm a fault at a named point of the worker (FAULT_INJECTION is on in tests). */
  world.armFault = async (point, times = 1) => {
    const res = await world.api('POST', '/api/v1/_test/faults', { token: world.adminToken, body: { point, times } });
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
}

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
