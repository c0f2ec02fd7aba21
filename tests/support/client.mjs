// The API client of the tests: one HTTP call, the contract's error shape, and a client
// bound to one user's token with the list, sync and file helpers the tests share.

import assert from 'node:assert/strict';
import { sleep } from './processes.mjs';

export const TERMINAL = Object.freeze(['COMPLETE', 'FAILED', 'CANCELLED']);
export const STATUS_ORDER = Object.freeze([
  'QUEUED', 'FETCHING', 'DIFFING', 'PROCESSING', 'PERSISTING', 'COMPLETE', 'FAILED', 'CANCELLED',
]);
export const SYNC_TIMEOUT_MS = 60_000;

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
    // (undici reports it as a socket error, or as EPIPE when the write itself failed.)
    if (!['UND_ERR_SOCKET', 'EPIPE'].includes(e?.cause?.code)) throw e;
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
