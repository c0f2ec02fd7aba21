// The request pipeline: control API hand-off, then for API and codeload routes
// injected faults, the User-Agent / credential / rate-limit / API-version
// gates in that order, dispatch to a handler, ETag / 304 and the log entry.
// Per-request values travel in `rq` (built in onRequest); emulator state in `emu`.

import crypto from 'node:crypto';
import { HttpError, notFound, send, jsonBody, errorPayload, etagMatches } from './http.mjs';
import { splitPath, matchRoute } from './routes.mjs';
import { bucketFor, rateHeaders, rateLimitExceededMessage, parseAuth, RATE_LIMIT_DOCS_URL } from './limits.mjs';
import { takeFaults, faultReply } from './faults.mjs';
import { record } from './stats.mjs';
import { control } from './control.mjs';
import { locateRepo } from './git.mjs';
import { handlers } from './endpoints.mjs';
import { codeload } from './archives.mjs';
import { appHandlers, APP_ROUTES, mayRead } from './apps.mjs';

const DEFAULT_API_VERSION = '2022-11-28';
const USER_AGENT_REQUIRED =
  'Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.\n';

const elapsedMs = (started) => Number(process.hrtime.bigint() - started) / 1e6;

function baseUrlOf(emu, req) {
  return `http://${req.headers.host || `127.0.0.1:${emu.port}`}`;
}

/** Split the raw URL into path and query, taking off the GHES "/api/v3" prefix. */
function splitUrl(rawUrl) {
  const q = rawUrl.indexOf('?');
  let pathname = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
  const search = q >= 0 ? rawUrl.slice(q) : '';
  let prefix = '';
  if (pathname === '/api/v3' || pathname.startsWith('/api/v3/')) {
    prefix = '/api/v3';
    pathname = pathname.slice(prefix.length) || '/';
  }
  return { pathname, search, prefix };
}

/** The request log entry; status and ms are filled in when the answer is sent. */
function logEntry(req, rawUrl, route, auth) {
  return {
    method: req.method,
    path: rawUrl,
    route: route.name,
    // Which credential the request carried: none, token, jwt or installation:<id>.
    credential: auth.kind === 'installation' ? `installation:${auth.installation?.id ?? 'invalid'}` : auth.kind,
    status: 0,
    ms: 0,
    headers: {
      authorization: auth.present ? 'present' : 'absent',
      accept: req.headers.accept ?? null,
      'x-github-api-version': req.headers['x-github-api-version'] ?? null,
      'if-none-match': req.headers['if-none-match'] ?? null,
      'user-agent': req.headers['user-agent'] ?? null,
    },
  };
}

/** Headers on every API answer. */
function commonHeaders(req) {
  return {
    'content-type': 'application/json; charset=utf-8',
    'x-github-media-type': 'github.v3; format=json',
    'x-github-api-version-selected': req.headers['x-github-api-version'] ?? DEFAULT_API_VERSION,
    vary: 'Accept, Authorization, Cookie, X-GitHub-OTP',
    'access-control-allow-origin': '*',
  };
}

export async function onRequest(emu, req, res) {
  const started = process.hrtime.bigint();
  const rawUrl = req.url || '/';
  const { pathname, search, prefix } = splitUrl(rawUrl);
  if (pathname.startsWith('/_emulator/')) return control(emu, req, res, pathname);

  const route = matchRoute(splitPath(pathname));
  const auth = parseAuth(emu, req);
  const entry = logEntry(req, rawUrl, route, auth);
  const finish = (status, headers, body) => {
    entry.status = status;
    entry.ms = elapsedMs(started);
    record(emu, entry);
    send(req, res, status, headers, body);
  };
  /** Logs an answer that was written by other means (a stream). */
  const finishLogged = (status) => {
    entry.status = status;
    entry.ms = elapsedMs(started);
    record(emu, entry);
  };
  const rq = {
    req, res, method: req.method, rawUrl, pathname, search, prefix, route, auth, entry, started, finish, finishLogged,
    baseUrl: baseUrlOf(emu, req),
    // The App's JWT requests have a budget of their own, as on GitHub.
    // Installation tokens share their installation's budget, as on GitHub.
    bucketKey: auth.kind === 'jwt' ? 'app' : !auth.valid ? 'anonymous' : auth.kind === 'installation' ? `installation:${auth.installation.id}` : auth.token,
    common: commonHeaders(req),
  };
  try {
    return await serve(emu, rq);
  } catch (e) {
    return failed(emu, rq, e);
  }
}

/** Steps 1-7 for one API or codeload request; throws HttpError for error answers. */
async function serve(emu, rq) {
  const { req, route } = rq;
  // 1. injected faults (they model the network / GitHub edge, so they come first)
  const { delayMs, action } = takeFaults(emu, route.name, rq.rawUrl, rq.method);
  if (action) rq.entry.fault = action.kind;
  if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  if (action && applyFault(emu, rq, action)) return;

  // 2. User-Agent is mandatory on GitHub
  if (emu.options.requireUserAgent && !req.headers['user-agent'] && route.name !== 'codeload') {
    return rq.finish(403, { 'content-type': 'text/plain; charset=utf-8' }, Buffer.from(USER_AGENT_REQUIRED));
  }

  // 3. codeload is not part of the API: no auth header needed, not rate limited
  if (route.name === 'codeload') return serveCodeload(emu, rq);

  // 4.-6. credentials, primary rate limit, API version
  const bucket = admit(emu, rq);
  if (!bucket) return;

  // 7. dispatch
  return dispatch(emu, rq, bucket);
}

/** Answer with an injected (non-delay) fault; false if the kind answers nothing. */
function applyFault(emu, rq, action) {
  const b = bucketFor(emu, rq.bucketKey);
  if (action.kind === 'drop') {
    rq.entry.status = 0;
    rq.entry.ms = elapsedMs(rq.started);
    record(emu, rq.entry);
    rq.req.socket.destroy();
    return true;
  }
  const reply = faultReply(action, b, rq);
  if (!reply) return false;
  rq.finish(reply.status, reply.headers, reply.body);
  return true;
}

async function serveCodeload(emu, rq) {
  const { method, route } = rq;
  if (method !== 'GET' && method !== 'HEAD') throw notFound();
  const url = new URL(rq.baseUrl + rq.pathname + rq.search);
  const result = await codeload(emu, rq.req, url, route);
  if (!result.stream) return answer(rq, result, { bucket: bucketFor(emu, rq.bucketKey), consume: false });
  // Streamed (chunked, no ETag: the bytes are not known up front); logged when it ends.
  const bucket = bucketFor(emu, rq.bucketKey);
  const headers = { ...rq.common, ...result.headers, 'content-type': result.contentType, ...rateHeaders(bucket) };
  rq.res.writeHead(200, { 'x-github-request-id': crypto.randomBytes(8).toString('hex').toUpperCase(), ...headers });
  if (method === 'HEAD') {
    result.stream.destroy();
    return rq.finishLogged(200);
  }
  result.stream.on('error', () => rq.res.destroy());
  result.stream.on('end', () => rq.finishLogged(200));
  result.stream.pipe(rq.res);
}

/**
 * Gates 4-6. Returns the caller's bucket, or null once a 401 / 403 was sent;
 * throws for an unsupported API version (which costs one request).
 */
function admit(emu, rq) {
  const { req, common, bucketKey, finish } = rq;
  // 4. credentials (the App's endpoints check their JWT themselves)
  if (rq.auth.present && !rq.auth.valid && !APP_ROUTES.has(rq.route.name)) {
    const b = bucketFor(emu, 'anonymous');
    finish(401, { ...common, ...rateHeaders(b) }, errorPayload(new HttpError(401, 'Bad credentials')));
    return null;
  }

  // 5. primary rate limit
  const bucket = bucketFor(emu, bucketKey);
  if (bucket.remaining <= 0) {
    finish(
      403,
      { ...common, ...rateHeaders(bucket) },
      errorPayload(new HttpError(403, rateLimitExceededMessage(bucketKey, req), { documentationUrl: RATE_LIMIT_DOCS_URL })),
    );
    return null;
  }

  // 6. API version (only when a supported list is configured)
  const version = req.headers['x-github-api-version'];
  const supported = emu.options.supportedApiVersions;
  if (version && supported && !supported.includes(version)) {
    bucket.remaining -= 1;
    throw new HttpError(400, `API version ${version} is not supported.`);
  }
  return bucket;
}

async function dispatch(emu, rq, bucket) {
  const { method, route } = rq;
  const handler = handlers[route.name] ?? appHandlers[route.name];
  const allowed = route.name === 'appAccessToken' ? method === 'POST' : method === 'GET' || method === 'HEAD';
  if (!handler || !allowed) {
    bucket.remaining -= 1;
    throw notFound();
  }
  const countsAgainstLimit = route.name !== 'rateLimit';
  let result;
  try {
    result = await handler(handlerContext(emu, rq, bucket));
  } catch (e) {
    if (countsAgainstLimit) bucket.remaining -= 1;
    throw e;
  }
  return answer(rq, result, { bucket, consume: countsAgainstLimit });
}

/** The ctx a handler receives (see endpoints.mjs); 404s a missing or hidden repository. */
function handlerContext(emu, rq, bucket) {
  const { req, route, baseUrl, prefix } = rq;
  const ctx = { emu, req, url: new URL(baseUrl + prefix + rq.pathname + rq.search), route, bucket, baseUrl, auth: rq.auth };
  if (route.owner === undefined) return ctx;
  const repo = locateRepo(emu.root, route.owner, route.repo);
  // With tokens configured, repos behave as private: 404 without credentials. An
  // installation token reaches its installation's repositories only; an App-private
  // repository is reached by installation tokens only.
  const hidden = !repo || (emu.options.tokens !== null && !rq.auth.present) || !mayRead(emu, rq.auth, repo.owner, repo.name);
  if (hidden) throw notFound();
  return {
    ...ctx,
    repo,
    host: req.headers.host ?? '127.0.0.1',
    apiBase: baseUrl + prefix,
    webBase: baseUrl,
  };
}

/** Any error: HttpError becomes its GitHub-shaped answer, anything else a logged 500. */
function failed(emu, rq, e) {
  const err = e instanceof HttpError ? e : null;
  if (!err) {
    process.stderr.write(`[github-emulator] ${rq.method} ${rq.rawUrl}: ${e.stack || e}\n`);
  }
  const status = err ? err.status : 500;
  const payload = err ? errorPayload(err) : jsonBody({ message: 'Server Error', emulator_error: String(e.message ?? e) });
  const b = bucketFor(emu, rq.bucketKey);
  return rq.finish(status, { ...rq.common, ...rateHeaders(b), ...(err?.headers ?? {}) }, payload);
}

/**
 * Serialize a handler result, apply ETag / If-None-Match and rate-limit
 * accounting. `bucket` supplies the rate-limit headers; `consume` says whether
 * a non-304 answer costs one request (codeload and /rate_limit do not).
 */
function answer(rq, result, { bucket, consume }) {
  const { req, route, common, finish } = rq;
  const body = Buffer.isBuffer(result.body) ? result.body : jsonBody(result.body);
  const headers = { ...common, ...(result.headers ?? {}) };
  if (result.contentType) headers['content-type'] = result.contentType;
  if (result.status === 200) {
    const etag = `"${crypto.createHash('sha256').update(body).digest('hex')}"`;
    headers.etag = etag;
    if (route.name !== 'codeload') headers['cache-control'] = 'private, max-age=60, s-maxage=60';
    if (etagMatches(req.headers['if-none-match'], etag)) {
      // A 304 does not count against the primary rate limit.
      const h304 = { etag, vary: headers.vary, ...rateHeaders(bucket) };
      if (headers['cache-control']) h304['cache-control'] = headers['cache-control'];
      return finish(304, h304, Buffer.alloc(0));
    }
  }
  if (consume) bucket.remaining = Math.max(0, bucket.remaining - 1);
  return finish(result.status, { ...headers, ...rateHeaders(bucket) }, body);
}
