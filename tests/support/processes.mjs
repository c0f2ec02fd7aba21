// Processes: the environment wrangler runs in, ports, one-shot wrangler commands, and the
// process tree below a PID (to stop only what we started, and to measure the runtime).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN_DIR = path.join(PROJECT_DIR, 'node_modules', '.bin');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

export function freePort() {
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
export function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** `port` once it is free again (within `withinMs`), else null. */
export async function reusablePort(port, withinMs) {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (await portFree(port)) return port;
    await sleep(100);
  }
  return null;
}

/** Run wrangler to completion; resolves its output, rejects on a non-zero exit. */
export function runWrangler(args, { logFile, timeoutMs = 120_000 } = {}) {
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
export function descendants(pid) {
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

export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` to each PID (those already gone are skipped). */
export function signalAll(pids, signal) {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      /* gone */
    }
  }
}

/** Waits until none of `pids` is alive (or `withinMs` passed). */
export async function waitGone(pids, withinMs) {
  const until = Date.now() + withinMs;
  while (pids.some(alive) && Date.now() < until) await sleep(50);
}

/** The summed resident memory of the workerd processes below `pid`, in kB. */
export function workerdRssKb(pid) {
  let total = 0;
  for (const p of descendants(pid)) {
    try {
      if (fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim() !== 'workerd') continue;
      const m = fs.readFileSync(`/proc/${p}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
      total += m ? Number(m[1]) : 0;
    } catch {
      /* gone */
    }
  }
  return total;
}
