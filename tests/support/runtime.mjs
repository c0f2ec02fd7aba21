// The local runtime: one `wrangler dev` (and the workerd it starts) serving the prebuilt
// worker over a state directory, with its log. It can be stopped, restarted on the same
// state, or SIGKILLed — its whole process group — and started again.
//
// Stops only what it started: its wrangler process (by PID) and, if wrangler left them
// behind, that process's own descendants (by PID).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  BIN_DIR,
  PROJECT_DIR,
  alive,
  descendants,
  freePort,
  reusablePort,
  runWrangler,
  signalAll,
  sleep,
  waitGone,
  wranglerEnv,
} from './processes.mjs';

/** Variables whose values never reach the log. */
const HIDDEN = /^(ADMIN_TOKEN|STREAM_TOKEN_SECRET|TOKEN_ENCRYPTION_KEY[A-Z_]*|GITHUB_APP_PRIVATE_KEY):/;

export class Runtime {
  /**
   * `vars()` gives the variables of each launch (read anew, so a restart can change them);
   * `config` a wrangler configuration other than wrangler.toml, `databases` its D1 bindings.
   */
  constructor({ state, logFile, vars, config = null, databases = ['DB'] }) {
    Object.assign(this, { state, logFile, vars, config, databases, child: null, exit: null, base: null, pid: null });
  }

  configArgs() {
    return this.config ? ['--config', this.config] : [];
  }

  /** Applies the D1 migrations to every database in the state directory (before the first launch). */
  async migrate() {
    for (const binding of this.databases) {
      await runWrangler(['d1', 'migrations', 'apply', binding, '--local', '--persist-to', this.state, ...this.configArgs()], { logFile: this.logFile });
    }
  }

  logSize() {
    try {
      return fs.statSync(this.logFile).size;
    } catch {
      return 0;
    }
  }

  /** Log text written since byte `from` (the last `maxLines` lines of it). */
  logSince(from = 0, maxLines = 150) {
    let text = '';
    try {
      const fd = fs.openSync(this.logFile, 'r');
      const b = Buffer.alloc(Math.max(0, fs.fstatSync(fd).size - from));
      fs.readSync(fd, b, 0, b.length, from);
      fs.closeSync(fd);
      text = b.toString('utf8');
    } catch {
      /* no log */
    }
    // eslint-disable-next-line no-control-regex
    const lines = text.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
    return (lines.length > maxLines ? [`... (${lines.length - maxLines} earlier lines)`, ...lines.slice(-maxLines)] : lines).join('\n');
  }

  note(text) {
    fs.appendFileSync(this.logFile, `\n[harness] ${text}\n`);
  }

  running() {
    return Boolean(this.child && this.child.exitCode === null && this.child.signalCode === null);
  }

  /**
   * Starts `wrangler dev` on `port` (a free one when null) and waits for /healthz. Ports
   * chosen here, or by wrangler for workerd's own sockets, can be taken by another process
   * before workerd binds them: that start is stopped and tried again on new ones (twice at
   * most), even after asking for `port` (callers read the address from `base`).
   */
  async launch(port = null) {
    for (let attempt = 1; ; attempt++) {
      const from = this.logSize();
      try {
        return await this.launchOn(port ?? (await freePort()));
      } catch (e) {
        const taken = /Address already in use/.test(this.logSince(from, 100_000));
        if (!taken || attempt >= 3) throw e;
        await this.stop();
        this.note(`an address was taken while starting (attempt ${attempt}); starting again on new ports`);
        port = null;
      }
    }
  }

  async launchOn(port) {
    this.inspectorPort = await freePort();
    const args = [
      'dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(this.inspectorPort),
      '--persist-to', this.state, '--show-interactive-dev-session=false', '--test-scheduled', ...this.configArgs(),
    ];
    for (const [name, value] of Object.entries(this.vars())) {
      if (value !== null && value !== undefined) args.push('--var', `${name}:${value}`);
    }
    const logFd = fs.openSync(this.logFile, 'a');
    fs.writeSync(logFd, `$ wrangler ${args.map((a) => (HIDDEN.test(a) ? `${a.split(':')[0]}:***` : a)).join(' ')}\n`);
    // Its own process group, so a kill takes down wrangler and workerd together.
    const child = spawn(path.join(BIN_DIR, 'wrangler'), args, { cwd: PROJECT_DIR, env: wranglerEnv(), stdio: ['ignore', logFd, logFd], detached: true });
    fs.closeSync(logFd);
    this.child = child;
    this.pid = child.pid;
    this.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    this.base = `http://127.0.0.1:${port}`;
    await this.untilHealthy();
  }

  async untilHealthy() {
    let exited = null;
    this.exit.then((e) => (exited = e));
    const deadline = Date.now() + 90_000;
    const start = this.logSize();
    let errorSeenAt = null;
    for (;;) {
      if (exited) throw new Error(`wrangler dev exited (${exited.code ?? exited.signal}) before answering /healthz`);
      // wrangler reports a broken worker (e.g. wrangler.toml and build/ out of step) and keeps
      // running: give it a few seconds, then fail instead of waiting out the deadline.
      if (errorSeenAt === null && /\[ERROR\]/.test(this.logSince(start, 100_000))) errorSeenAt = Date.now();
      if (errorSeenAt !== null && Date.now() - errorSeenAt > 5000) {
        throw new Error('wrangler dev reported an [ERROR] while starting and does not answer /healthz (is build/ in step with wrangler.toml?)');
      }
      try {
        const res = await fetch(`${this.base}/healthz`, { signal: AbortSignal.timeout(5000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline) throw new Error('wrangler dev did not answer /healthz with 200 within 90 s');
      await sleep(200);
    }
  }

  /** SIGTERM to wrangler (SIGKILL after 10 s), then any child it left behind. */
  async stop() {
    if (!this.running()) return;
    const kids = descendants(this.child.pid);
    this.child.kill('SIGTERM');
    const done = await Promise.race([this.exit.then(() => true), sleep(10_000).then(() => false)]);
    if (!done) {
      this.child.kill('SIGKILL');
      await Promise.race([this.exit, sleep(5_000)]);
    }
    // wrangler normally stops workerd itself; stop any child it left behind (by PID).
    const left = kids.filter(alive);
    signalAll(left, 'SIGTERM');
    await waitGone(left, 5_000);
    signalAll(left.filter(alive), 'SIGKILL');
  }

  /** SIGKILL: the whole process group and any descendant that left it, no shutdown at all. */
  async kill() {
    if (!this.running()) return;
    const kids = descendants(this.child.pid);
    signalAll([-this.child.pid], 'SIGKILL');
    signalAll(kids.filter(alive), 'SIGKILL');
    await Promise.race([this.exit, sleep(5_000)]);
    await waitGone(kids, 5_000);
  }

  /** Stops (or, with `kill`, SIGKILLs) and starts again on the same state and, if it frees up, port. */
  async restart({ kill = false, newPort = false } = {}) {
    const oldPort = Number(new URL(this.base).port);
    await (kill ? this.kill() : this.stop());
    const port = newPort ? null : await reusablePort(oldPort, 5_000);
    this.note(`${kill ? 'killed the runtime (SIGKILL)' : 'stopped the runtime'}; starting it again (port ${port ?? 'new'})`);
    try {
      await this.launch(port);
    } catch (e) {
      e.message += `\n--- wrangler log (${this.logFile}) ---\n${this.logSince(0, 60)}`;
      throw e;
    }
  }
}
