// The API client: JSON over fetch with the user's bearer token, errors as ApiError, and
// cursor paging. No DOM here; `fetch` can be handed in, so `node --test` can drive it.

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

function parseJson(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/**
 * One request. `opts.signal` drops it when the project it is for is left; `opts.token`
 * tries a token that is not the session's yet (sign-in); `opts.signOutOn401: false` keeps
 * a 401 from signing out.
 */
async function request(client, method, path, body, { signOutOn401 = true, signal, token } = {}) {
  const { getToken, onUnauthorized } = client;
  const bearer = token ?? getToken?.();
  const headers = { accept: 'application/json' };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const init = { method, headers, cache: 'no-store' };
  if (signal) init.signal = signal;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  let text;
  try {
    response = await client.fetch(client.base + path, init);
    if (response.status === 204) return null;
    text = await response.text();
  } catch {
    throw signal?.aborted ? abortedError() : new ApiError(0, null);
  }
  const data = parseJson(text);
  if (!response.ok) {
    const err = new ApiError(response.status, data);
    if (response.status === 401 && signOutOn401 && getToken?.()) onUnauthorized?.();
    throw err;
  }
  return data;
}

/**
 * A GET whose answer is bytes, not JSON (a file's content): the Blob and its content type.
 * Errors are ApiErrors as for every other call.
 */
async function bytes(client, path, { signal } = {}) {
  const bearer = client.getToken?.();
  const init = { method: 'GET', headers: bearer ? { authorization: `Bearer ${bearer}` } : {}, cache: 'no-store' };
  if (signal) init.signal = signal;
  let response;
  try {
    response = await client.fetch(client.base + path, init);
  } catch {
    throw signal?.aborted ? abortedError() : new ApiError(0, null);
  }
  if (!response.ok) {
    const err = new ApiError(response.status, parseJson(await response.text().catch(() => '')));
    if (response.status === 401 && bearer) client.onUnauthorized?.();
    throw err;
  }
  return { blob: await response.blob(), type: response.headers.get('content-type') ?? '' };
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
  const client = { getToken, onUnauthorized, base, fetch: fetchImpl ?? ((url, init) => fetch(url, init)) };
  return {
    request: (method, path, body, opts) => request(client, method, path, body, opts),
    fetchAll: (path, opts) => fetchAll(client, path, opts),
    bytes: (path, opts) => bytes(client, path, opts),
  };
}
