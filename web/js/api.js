// The dashboard's API client: the served client module (/client/project-sync.js) with the
// page's rules on top (errors as ApiError, a 401 signs out, cursor paging). No DOM here;
// `fetch` can be handed in, so `node --test` can drive it.

import { createClient, ProjectSyncError } from '../client/project-sync.js';

export const API_BASE = '/api/v1';
/** The largest page the API serves; fetchAll asks for it unless told otherwise. */
export const MAX_PAGE = 500;

/** An answer that was not 2xx (or none at all: status 0), with the server's error fields. */
export class ApiError extends Error {
  constructor(status, body) {
    const error = body && typeof body === 'object' && body.error && typeof body.error === 'object' ? body.error : {};
    const message = typeof error.message === 'string' && error.message
      ? error.message
      : status === 0
        ? 'Could not reach the server. Check the connection and try again.'
        : `The server answered with status ${status}.`;
    super(message);
    this.status = status;
    this.code = typeof error.code === 'string' ? error.code : status === 0 ? 'network' : `http_${status}`;
    this.field = typeof error.field === 'string' ? error.field : null;
    this.retryAfter = error.retryAfter ?? body?.retryAfter ?? null;
    this.body = body;
  }
}

// What a request dropped by its AbortSignal throws: the caller checks `signal.aborted`
// and shows nothing, but it is still an ApiError like every other failure.
const abortedError = () => new ApiError(0, { error: { code: 'aborted', message: 'The request was cancelled.' } });

/** The client module's error as the dashboard's (the same fields; aborted and unreachable
 * kept apart). */
function asApiError(err, signal) {
  if (signal?.aborted) return abortedError();
  if (err instanceof ProjectSyncError) return err.status === 0 ? new ApiError(0, null) : new ApiError(err.status, err.body);
  return new ApiError(0, null);
}

/**
 * One request, through the served client module (/client/project-sync.js). `opts.signal`
 * drops it when the project it is for is left; `opts.token` tries a token that is not the
 * session's yet (sign-in); `opts.signOutOn401: false` keeps a 401 from signing out.
 */
async function request(client, method, path, body, { signOutOn401 = true, signal, token } = {}) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  try {
    const data = await client.ps.call(method, client.base + path, { body, signal, headers, cache: 'no-store' });
    return data ?? null;
  } catch (err) {
    const e = asApiError(err, signal);
    if (e.status === 401 && signOutOn401 && client.getToken?.()) client.onUnauthorized?.();
    throw e;
  }
}

/**
 * A GET whose answer is bytes, not JSON (a file's content): the Blob and its content type.
 * Errors are ApiErrors as for every other call.
 */
async function bytes(client, path, { signal } = {}) {
  let response;
  try {
    response = await client.ps.call('GET', client.base + path, { signal, expect: 'bytes', cache: 'no-store' });
    return { blob: await response.blob(), type: response.headers.get('content-type') ?? '' };
  } catch (err) {
    const e = asApiError(err, signal);
    if (e.status === 401 && client.getToken?.()) client.onUnauthorized?.();
    throw e;
  }
}

/**
 * Follows nextCursor until the end; `onPage` sees the running total. Returns null when
 * `signal` was aborted meanwhile (the caller's project is gone: nothing to show).
 */
async function fetchAll(client, path, { limit = MAX_PAGE, onPage, signal } = {}) {
  const items = [];
  let cursor = null;
  for (let guard = 0; guard < 10000; guard += 1) {
    const q = new URLSearchParams({ limit: String(limit) });
    if (cursor) q.set('cursor', cursor);
    const sep = path.includes('?') ? '&' : '?';
    let page;
    try {
      page = await request(client, 'GET', `${path}${sep}${q}`, undefined, { signal });
    } catch (err) {
      if (signal?.aborted) return null;
      throw err;
    }
    if (signal?.aborted) return null;
    items.push(...(page?.items ?? []));
    onPage?.(items.length);
    cursor = page?.nextCursor ?? null;
    if (!cursor) break;
  }
  return items;
}

/**
 * The client: `getToken()` gives the signed-in user's token (or null); `onUnauthorized()`
 * runs when the API refuses it (401) so the page can sign out. `fetchImpl` is for tests.
 */
export function createApi({ getToken, onUnauthorized, base = API_BASE, fetchImpl } = {}) {
  const fetchNow = fetchImpl ?? ((url, init) => fetch(url, init));
  // Paths are the page's own (base '/api/v1'): the client module adds no origin.
  const ps = createClient({ baseUrl: '', token: () => getToken?.() ?? null, fetch: fetchNow });
  const client = { getToken, onUnauthorized, base, ps };
  return {
    request: (method, path, body, opts) => request(client, method, path, body, opts),
    fetchAll: (path, opts) => fetchAll(client, path, opts),
    bytes: (path, opts) => bytes(client, path, opts),
  };
}
