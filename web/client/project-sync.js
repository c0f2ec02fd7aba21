// Project Sync's JavaScript client: one ES module, no dependencies, for browsers and Node 18+.
//
//   import { createClient } from '/client/project-sync.js';
//   const ps = createClient({ baseUrl: 'https://sync.example.com', token: 'psk_…' });
//   const { sync } = await ps.startSync(projectId);
//   await ps.watchSync(sync.id, { onEvent: (e) => console.log(e.event, e.data.progress) });
//   for await (const file of ps.paginate('listFiles', projectId)) console.log(file.path);
//
// Every operation of the OpenAPI document (/api/v1/openapi.json) is a method named by its
// operationId: path parameters first (in path order), then the JSON body where the
// operation takes one, then an options object with the query parameters (and `signal`).
// Lists answer `{items, nextCursor}`; errors throw a ProjectSyncError with the contract's
// `code`, `message`, `field` and `retryAfter`. Types: project-sync.d.ts beside this file.

/** [operationId, method, path, query parameters, takes a JSON body, what it answers]. */
export const OPERATIONS = [
  ['health', 'GET', '/healthz', [], false, 'json'],
  ['openapi', 'GET', '/api/v1/openapi.json', [], false, 'json'],
  ['createUser', 'POST', '/api/v1/users', [], true, 'json'],
  ['listProjects', 'GET', '/api/v1/projects', ['limit', 'cursor'], false, 'json'],
  ['createProject', 'POST', '/api/v1/projects', [], true, 'json'],
  ['getProject', 'GET', '/api/v1/projects/{projectId}', [], false, 'json'],
  ['updateProject', 'PATCH', '/api/v1/projects/{projectId}', [], true, 'json'],
  ['deleteProject', 'DELETE', '/api/v1/projects/{projectId}', [], false, 'none'],
  ['listBranches', 'GET', '/api/v1/projects/{projectId}/branches', ['limit', 'cursor'], false, 'json'],
  ['listSyncs', 'GET', '/api/v1/projects/{projectId}/syncs', ['limit', 'cursor'], false, 'json'],
  ['startSync', 'POST', '/api/v1/projects/{projectId}/syncs', [], true, 'json'],
  ['restore', 'POST', '/api/v1/projects/{projectId}/restore', [], true, 'json'],
  ['getSync', 'GET', '/api/v1/syncs/{syncId}', [], false, 'json'],
  ['cancelSync', 'POST', '/api/v1/syncs/{syncId}/cancel', [], false, 'json'],
  ['listChanges', 'GET', '/api/v1/syncs/{syncId}/changes', ['limit', 'cursor'], false, 'json'],
  ['getEventsUrl', 'GET', '/api/v1/syncs/{syncId}/events-url', [], false, 'json'],
  ['listFiles', 'GET', '/api/v1/projects/{projectId}/files', ['prefix', 'at', 'limit', 'cursor'], false, 'json'],
  ['fileHistory', 'GET', '/api/v1/projects/{projectId}/files/history', ['path', 'limit', 'cursor'], false, 'json'],
  ['getFileContent', 'GET', '/api/v1/projects/{projectId}/files/content', ['path', 'at'], false, 'bytes'],
  ['compareStates', 'GET', '/api/v1/projects/{projectId}/compare', ['from', 'to', 'limit', 'cursor'], false, 'json'],
  ['searchMemory', 'GET', '/api/v1/projects/{projectId}/memory', ['q', 'limit', 'cursor'], false, 'json'],
  ['diagnostics', 'GET', '/api/v1/_diagnostics', ['repository', 'project', 'sync'], false, 'json'],
  ['grantInstallation', 'POST', '/api/v1/installations', [], true, 'json'],
  ['listInstallations', 'GET', '/api/v1/installations', ['limit', 'cursor'], false, 'json'],
  ['listInstallationRepositories', 'GET', '/api/v1/installations/{installationId}/repositories', ['limit', 'cursor'], false, 'json'],
  ['createHook', 'POST', '/api/v1/projects/{projectId}/hooks', [], true, 'json'],
  ['listHooks', 'GET', '/api/v1/projects/{projectId}/hooks', ['limit', 'cursor'], false, 'json'],
  ['deleteHook', 'DELETE', '/api/v1/projects/{projectId}/hooks/{hookId}', [], false, 'none'],
  ['listDeliveries', 'GET', '/api/v1/projects/{projectId}/hooks/{hookId}/deliveries', ['limit', 'cursor'], false, 'json'],
];

/** Operations that are not plain methods, and what covers them. */
export const NOT_METHODS = {
  syncEvents: 'watchSync(syncId, { onEvent, signal }) follows the stream',
  githubWebhook: 'GitHub itself sends it, signed with the webhook secret',
};

/** The events that end a sync's stream. */
export const TERMINAL_EVENTS = ['complete', 'failed', 'cancelled'];

export class ProjectSyncError extends Error {
  constructor(status, body) {
    const error = body && typeof body === 'object' && body.error && typeof body.error === 'object' ? body.error : {};
    super(typeof error.message === 'string' && error.message ? error.message : `HTTP ${status}`);
    this.name = 'ProjectSyncError';
    this.status = status;
    this.code = typeof error.code === 'string' ? error.code : status === 0 ? 'network' : `http_${status}`;
    this.field = typeof error.field === 'string' ? error.field : null;
    this.retryAfter = error.retryAfter ?? body?.retryAfter ?? null;
    /** A 409 naming the running sync carries it here. */
    this.sync = body?.sync ?? null;
    this.body = body;
  }
}

const pathParams = (template) => [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);

/**
 * `baseUrl`: where the service answers (default: this page's origin); `token`: a user's API
 * token (or a function that returns one); `fetch`: another fetch (tests, proxies).
 */
export function createClient({ baseUrl = globalThis.location?.origin ?? '', token = null, fetch: fetchImpl } = {}) {
  const doFetch = fetchImpl ?? ((...args) => globalThis.fetch(...args));
  const base = String(baseUrl).replace(/\/+$/, '');
  const tokenNow = () => (typeof token === 'function' ? token() : token);

  /** Any request; `headers` win over the client's own (a token being tried, say). */
  async function call(method, path, { body, query, signal, headers = {}, expect = 'json', cache } = {}) {
    const url = new URL(base + path, globalThis.location?.href ?? 'http://localhost/');
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
    const t = tokenNow();
    const h = { accept: 'application/json', ...(t ? { authorization: `Bearer ${t}` } : {}), ...headers };
    let payload;
    if (body !== undefined) {
      h['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let res;
    try {
      const init = { method, headers: h };
      if (payload !== undefined) init.body = payload;
      if (signal) init.signal = signal;
      if (cache) init.cache = cache;
      res = await doFetch(base ? url.href : url.pathname + url.search, init);
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new ProjectSyncError(0, { error: { code: 'network', message: `Could not reach ${base || 'the service'}: ${err.message}` } });
    }
    if (expect === 'bytes' && (res.ok || res.status === 304)) return res;
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: kept as the error's body */
    }
    if (!res.ok) throw new ProjectSyncError(res.status, json ?? text);
    return expect === 'none' ? undefined : json;
  }

  const client = { call };
  for (const [id, method, template, queryNames, takesBody, expect] of OPERATIONS) {
    const names = pathParams(template);
    client[id] = (...args) => {
      const values = args.slice(0, names.length);
      if (values.length < names.length || values.some((v) => v === undefined || v === null || v === '')) {
        throw new TypeError(`${id}(${names.join(', ')}${takesBody ? ', body' : ''}${queryNames.length ? ', options' : ''}): ${names.join(' and ')} required`);
      }
      let path = template;
      names.forEach((n, i) => {
        path = path.replace(`{${n}}`, encodeURIComponent(String(values[i])));
      });
      const body = takesBody ? args[names.length] ?? {} : undefined;
      const options = args[names.length + (takesBody ? 1 : 0)] ?? {};
      const query = Object.fromEntries(queryNames.filter((q) => q in options).map((q) => [q, options[q]]));
      const headers = options.ifNoneMatch ? { 'if-none-match': options.ifNoneMatch } : {};
      return call(method, path, { body, query, signal: options.signal, headers, expect });
    };
  }

  /** Every item of a list operation, page after page (`options.limit` per page). */
  client.paginate = async function* paginate(operationId, ...args) {
    const op = OPERATIONS.find((o) => o[0] === operationId);
    if (!op || !op[3].includes('cursor')) throw new TypeError(`${operationId} is not a list operation`);
    const fixed = pathParams(op[2]).length;
    const options = { ...(args[fixed] ?? {}) };
    for (;;) {
      const page = await client[operationId](...args.slice(0, fixed), options);
      yield* page.items;
      if (!page.nextCursor) return;
      options.cursor = page.nextCursor;
    }
  };

  client.watchSync = (syncId, opts = {}) => watchSync(client, doFetch, base, syncId, opts);
  return client;
}

/** Parses SSE text: complete events out, the unfinished rest back. */
export function parseEvents(buffer) {
  const events = [];
  const blocks = buffer.split(/\r?\n\r?\n/);
  const rest = blocks.pop();
  for (const block of blocks) {
    const e = { id: null, event: 'message', data: '' };
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (!line || line.startsWith(':')) continue;
      const at = line.indexOf(':');
      const field = at < 0 ? line : line.slice(0, at);
      const value = at < 0 ? '' : line.slice(at + 1).replace(/^ /, '');
      if (field === 'id') e.id = value;
      else if (field === 'event') e.event = value;
      else if (field === 'data') data.push(value);
    }
    if (!data.length) continue;
    try {
      e.data = JSON.parse(data.join('\n'));
    } catch {
      continue; // not an event of ours: skipped, not a reason to reconnect for ever
    }
    events.push(e);
  }
  return { events, rest };
}

/**
 * Follows a sync's event stream until its terminal event: `onEvent({id, event, data})` for
 * each, in order, none twice. A dropped stream is reopened with `Last-Event-ID`; a stream
 * token that expired is replaced by a fresh one (`getEventsUrl`). `onConnection('reconnecting')`
 * when the stream dropped or was refused, `onConnection('open')` when one answers again.
 * Resolves with the last event; `signal` stops it (then it rejects with the abort reason).
 */
async function watchSync(client, doFetch, base, syncId, { onEvent = () => {}, onConnection = () => {}, signal, eventsUrl, maxRetries = 20 } = {}) {
  let url = eventsUrl ?? (await client.getEventsUrl(syncId, { signal })).eventsUrl;
  let lastId = null;
  let failures = 0;
  for (;;) {
    signal?.throwIfAborted();
    const headers = { accept: 'text/event-stream' };
    if (lastId !== null) headers['last-event-id'] = lastId;
    let res = null;
    try {
      res = await doFetch(/^https?:/.test(url) ? url : base + url, { headers, signal });
    } catch (err) {
      if (signal?.aborted) throw err;
    }
    if (res && (res.status === 401 || res.status === 403)) {
      await res.body?.cancel();
      if (++failures > maxRetries) throw new ProjectSyncError(res.status, null);
      onConnection('reconnecting');
      url = (await client.getEventsUrl(syncId, { signal })).eventsUrl; // the stream token expired
      await pause(failures, signal);
      continue;
    }
    if (res && !res.ok) {
      const text = await res.text();
      let body = null;
      try {
        body = JSON.parse(text);
      } catch {
        /* keep null */
      }
      if (res.status === 404 || res.status === 400) throw new ProjectSyncError(res.status, body);
    }
    if (res?.ok && res.body) {
      onConnection('open');
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const chunk = await readWithin(reader, IDLE_MS, signal);
        if (chunk.done) break; // ended, dropped, or silent past the keep-alives: reconnect
        buffer += decoder.decode(chunk.value, { stream: true });
        const parsed = parseEvents(buffer);
        buffer = parsed.rest;
        for (const e of parsed.events) {
          if (e.id !== null && lastId !== null && Number(e.id) <= Number(lastId)) continue;
          if (e.id !== null) lastId = e.id;
          failures = 0;
          // Outside any catch: an error of the caller's own handler is the caller's.
          onEvent(e);
          if (TERMINAL_EVENTS.includes(e.event)) {
            await reader.cancel().catch(() => {});
            return e;
          }
        }
      }
    }
    if (++failures > maxRetries) throw new ProjectSyncError(0, { error: { code: 'network', message: `the event stream of ${syncId} kept dropping` } });
    onConnection('reconnecting');
    await pause(failures, signal);
  }
}

/** The server sends a keep-alive at least every 15 s: a stream silent this long is dead. */
const IDLE_MS = 45_000;

/** The next chunk, or `done` when the stream ended, failed or stayed silent for `ms`. */
async function readWithin(reader, ms, signal) {
  let timer;
  const silent = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ done: true, silent: true }), ms);
  });
  try {
    const chunk = await Promise.race([reader.read().catch(() => ({ done: true })), silent]);
    if (chunk.done) await reader.cancel().catch(() => {});
    signal?.throwIfAborted();
    return chunk;
  } finally {
    clearTimeout(timer);
  }
}

/** The wait before reconnection number `failures`: 250 ms, doubling, at most 5 s. */
function pause(failures, signal) {
  signal?.throwIfAborted();
  return new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** (failures - 1), 5_000)));
}
