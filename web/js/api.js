// The dashboard's API client: the served client module (/client/project-sync.js), whose
// operation methods are the only way the page reaches the API, with the page's rules on top
// (errors as ApiError, a 401 signs out, every answer fresh, cursor paging). No DOM here;
// `fetch` can be handed in, so `node --test` can drive it.
//
//   api.getProject(id, { signal })             one operation, as the client names it
//   api.all('listBranches', id, { signal, onPage })   every page of a list operation
//   api.withToken(candidate).listProjects({ limit: 1 })   a token that is not the session's

import { createClient, OPERATIONS, ProjectSyncError } from '../client/project-sync.js';

/** The largest page the API serves; `all` asks for it unless told otherwise. */
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

/** Where an operation's options object (query, `signal`) sits among its arguments. */
const optionsIndex = ([, , template, , takesBody]) => [...template.matchAll(/\{\w+\}/g)].length + (takesBody ? 1 : 0);

/**
 * The dashboard's methods over client `ps`: one per operation of the client's table, each
 * answering the JSON (or null), `{blob, type}` for bytes; a failure is an ApiError, and a
 * 401 calls `unauthorized()`.
 */
function operations(ps, unauthorized) {
  const api = {};
  for (const op of OPERATIONS) {
    const [id, , , , , expect] = op;
    const at = optionsIndex(op);
    api[id] = async (...args) => {
      const signal = args[at]?.signal;
      try {
        const answer = await ps[id](...args);
        if (expect === 'bytes') return { blob: await answer.blob(), type: answer.headers.get('content-type') ?? '' };
        return answer ?? null;
      } catch (err) {
        // The client's own argument check (a path parameter missing): the page's bug, not the API's.
        if (err instanceof TypeError && !signal?.aborted) throw err;
        const e = asApiError(err, signal);
        if (e.status === 401) unauthorized();
        throw e;
      }
    };
  }

  /**
   * Every item of list operation `id`, following nextCursor; `onPage` sees the running total.
   * Returns null when `signal` was aborted meanwhile (the caller's project is gone).
   */
  api.all = async (id, ...args) => {
    const op = OPERATIONS.find((o) => o[0] === id);
    if (!op || !op[3].includes('cursor')) throw new TypeError(`${id} is not a list operation`);
    const at = optionsIndex(op);
    const { onPage, limit = MAX_PAGE, ...options } = args[at] ?? {};
    const { signal } = options;
    const items = [];
    let cursor = null;
    for (let guard = 0; guard < 10000; guard += 1) {
      let page;
      try {
        page = await api[id](...args.slice(0, at), { ...options, limit, ...(cursor ? { cursor } : {}) });
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
  };
  return api;
}

/**
 * The client: `getToken()` gives the signed-in user's token (or null); `onUnauthorized()`
 * runs when the API refuses it (401) so the page can sign out. `fetchImpl` is for tests.
 */
export function createApi({ getToken, onUnauthorized, fetchImpl } = {}) {
  const fetchNow = fetchImpl ?? ((url, init) => fetch(url, init));
  // The page's own origin (the client adds none); every answer fresh, never the HTTP cache's.
  const fresh = (url, init) => fetchNow(url, { ...init, cache: 'no-store' });
  const ps = createClient({ baseUrl: '', token: () => getToken?.() ?? null, fetch: fresh });
  const api = operations(ps, () => {
    if (getToken?.()) onUnauthorized?.();
  });
  /** The client itself, for the embeddable elements (web/client/elements.js). */
  api.client = ps;
  /** The same methods with `token` instead of the session's; a 401 signs nobody out (sign-in). */
  api.withToken = (token) => operations(createClient({ baseUrl: '', token, fetch: fresh }), () => {});
  return api;
}
