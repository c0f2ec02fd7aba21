// What the benchmark reads from the running worker, never guesses:
// - the wasm linear memory (`memory.buffer.byteLength`, from the admin-only
//   GET /api/v1/_diagnostics) of the worker's isolate and, asked through the sync's own
//   object, of the isolate that object runs in; it only grows, so its value after a sync
//   is that sync's peak;
// - the isolate's JS heap, sampled over the V8 inspector that `wrangler dev` exposes
//   (`Runtime.getHeapUsage`; the heap shrinks when collected, hence the sampling);
// - D1's own database size and the content bucket's bytes for a repository (diagnostics);
// - the whole workerd process's RSS (both isolates and the local SQLite caches).

import WebSocket from 'ws';
import { workerdRssKb } from '../tests/support/processes.mjs';

/** The admin diagnostics; `repository` adds its R2 usage, `sync` its object's wasm memory. */
export async function diagnostics(world, { repository, sync } = {}) {
  const params = new URLSearchParams();
  if (repository) params.set('repository', repository);
  if (sync) params.set('sync', sync);
  const q = params.size ? `?${params}` : '';
  const res = await world.api('GET', `/api/v1/_diagnostics${q}`, { token: world.adminToken });
  if (res.status !== 200) throw new Error(`diagnostics: ${res.status} ${res.text}`);
  return res.json;
}

/** A connection to the isolate's inspector that answers `Runtime.getHeapUsage`. */
export async function openInspector(world) {
  const targets = await (await fetch(`http://127.0.0.1:${world.inspectorPort}/json`)).json();
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let next = 0;
  const waiting = new Map();
  ws.on('message', (data) => {
    const m = JSON.parse(data);
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  const call = (method) =>
    new Promise((resolve) => {
      const id = ++next;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ id, method }));
    });
  return {
    async heapUsedBytes() {
      const m = await call('Runtime.getHeapUsage');
      return m.result?.usedSize ?? null;
    },
    close: () => ws.close(),
  };
}

/** Samples `read()` every `everyMs` until stopped; resolves to the peak seen. */
export function samplePeak(read, everyMs) {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        peak = Math.max(peak, (await read()) ?? 0);
      } catch {
        /* a sample lost while the runtime is busy */
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return peak;
  };
}

export const rssBytes = (world) => workerdRssKb(world.pid) * 1024;
