// Starting and stopping one emulator instance: its state object (state.mjs),
// the node:http server (127.0.0.1 only) and the library API returned by
// startGitHubEmulator, which wraps the stats / faults / options functions.

import http from 'node:http';
import path from 'node:path';
import { createState, setOption } from './state.mjs';
import { snapshotStats, resetStats } from './stats.mjs';
import { injectFault, clearFaults } from './faults.mjs';
import { onRequest } from './request.mjs';

function createServer(emu) {
  const server = http.createServer((req, res) => {
    onRequest(emu, req, res).catch((e) => {
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
  return server;
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

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
  const emu = createState(path.resolve(root), { tokens, maxTreeEntries });
  const server = createServer(emu);
  await listen(server, port);
  emu.port = server.address().port;

  let closed = false;
  return {
    url: `http://127.0.0.1:${emu.port}`,
    port: emu.port,
    root: emu.root,
    async close() {
      if (closed) return;
      closed = true;
      const done = new Promise((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
    },
    stats: () => snapshotStats(emu),
    /** The claims of the app JWTs the emulator accepted (the last 50), each with receivedAt. */
    appJwtClaims: () => structuredClone(emu.apps.jwtClaims),
    resetStats: () => resetStats(emu),
    injectFault: (spec) => injectFault(emu, spec),
    clearFaults: () => clearFaults(emu),
    setOption: (name, value) => setOption(emu, name, value),
  };
}
