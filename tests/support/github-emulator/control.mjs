// The control API under /_emulator/* that lets other processes (e.g. the
// standalone CLI's clients) inject and list faults, read and reset stats and
// set options. Errors answer 400 with { message }; it is never rate limited or logged.

import { readBody, send, jsonBody } from './http.mjs';
import { injectFault, clearFaults, listFaults } from './faults.mjs';
import { snapshotStats, resetStats } from './stats.mjs';
import { setOption } from './state.mjs';

export async function control(emu, req, res, pathname) {
  const reply = (status, value) =>
    send(req, res, status, { 'content-type': 'application/json; charset=utf-8' }, jsonBody(value));
  try {
    const what = pathname.slice('/_emulator/'.length);
    const body = req.method === 'POST' ? await readBody(req) : null;
    const json = body && body.length ? JSON.parse(body.toString('utf8')) : null;
    if (what === 'faults' && req.method === 'POST') {
      const specs = Array.isArray(json) ? json : [json];
      return reply(200, { ok: true, ids: specs.map((spec) => injectFault(emu, spec)) });
    }
    if (what === 'faults' && req.method === 'DELETE') {
      clearFaults(emu);
      return reply(200, { ok: true });
    }
    if (what === 'faults' && req.method === 'GET') return reply(200, listFaults(emu));
    if (what === 'stats' && req.method === 'GET') return reply(200, snapshotStats(emu));
    if (what === 'reset-stats' && req.method === 'POST') {
      resetStats(emu);
      return reply(200, { ok: true });
    }
    if (what === 'options' && req.method === 'POST') {
      if (!json || typeof json.name !== 'string') throw new Error('body must be {name, value}');
      setOption(emu, json.name, json.value);
      return reply(200, { ok: true });
    }
    return reply(404, { message: 'Not Found' });
  } catch (e) {
    return reply(400, { message: e.message });
  }
}
