// HTTP plumbing shared by every route.
// Owns: the GitHub-shaped error type (HttpError and its common instances),
// request body reading, ETag matching and the buffered response writer.

import crypto from 'node:crypto';

export const DOCS_URL = 'https://docs.github.com/rest';

/** An error that becomes a GitHub-shaped JSON error response. */
export class HttpError extends Error {
  constructor(status, message, { headers = {}, documentationUrl = DOCS_URL } = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
    this.documentationUrl = documentationUrl;
  }
}
export const notFound = (message = 'Not Found') => new HttpError(404, message);
export const emptyRepository = () => new HttpError(409, 'Git Repository is empty.');

export function readBody(req, limit = 1 << 20) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) reject(new HttpError(413, 'Payload too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Does an If-None-Match header value match this ETag? (weak comparison, like GitHub) */
export function etagMatches(ifNoneMatch, etag) {
  if (!ifNoneMatch) return false;
  const strip = (t) => t.trim().replace(/^W\//, '');
  const want = strip(etag);
  return ifNoneMatch.split(',').some((t) => t.trim() === '*' || strip(t) === want);
}

/** Write a fully buffered response with Content-Length framing. */
export function send(req, res, status, headers, body = Buffer.alloc(0)) {
  if (!Buffer.isBuffer(body)) body = Buffer.from(body);
  const h = { 'x-github-request-id': crypto.randomBytes(8).toString('hex').toUpperCase(), ...headers };
  if (status !== 304) h['content-length'] = String(body.length);
  res.writeHead(status, h);
  res.end(status === 304 || req.method === 'HEAD' ? undefined : body);
}

export function jsonBody(value) {
  return Buffer.from(JSON.stringify(value));
}

export function errorPayload(err) {
  return jsonBody({ message: err.message, documentation_url: err.documentationUrl, status: String(err.status) });
}
