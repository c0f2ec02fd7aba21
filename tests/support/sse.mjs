// Server-sent events: a reader that frames the stream as the SSE spec does, and the
// contract's checks of one sync's event list.

import assert from 'node:assert/strict';
import { STATUS_ORDER, SYNC_TIMEOUT_MS, TERMINAL } from './client.mjs';

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
