// Primary rate limiting and credentials.
// Owns: the per-token / anonymous buckets in emu.buckets (creation, refill,
// the x-ratelimit-* headers, GitHub's exceeded message) and Authorization parsing.

import { stableId, nowSeconds } from './format.mjs';
import { installationOfToken, looksLikeJwt } from './apps.mjs';

export const RATE_LIMIT_DOCS_URL =
  'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api';
const AUTHENTICATED_LIMIT = 5000;
const ANONYMOUS_LIMIT = 60;
const RATE_WINDOW_SECONDS = 3600;

export function bucketFor(emu, key) {
  const { buckets, options } = emu;
  const limit = key === 'anonymous' ? ANONYMOUS_LIMIT : AUTHENTICATED_LIMIT;
  const now = nowSeconds();
  let b = buckets.get(key);
  if (!b) {
    b = {
      limit,
      remaining: Math.min(limit, options.rateLimitRemaining ?? limit),
      reset: options.rateLimitReset ?? now + RATE_WINDOW_SECONDS,
    };
    buckets.set(key, b);
  }
  if (b.reset <= now) {
    // window elapsed: GitHub refills the budget
    b.remaining = b.limit;
    b.reset = now + RATE_WINDOW_SECONDS;
  }
  return b;
}

export function rateHeaders(b, overrides = {}) {
  const remaining = overrides.remaining ?? b.remaining;
  return {
    'x-ratelimit-limit': String(b.limit),
    'x-ratelimit-remaining': String(remaining),
    'x-ratelimit-used': String(b.limit - remaining),
    'x-ratelimit-reset': String(overrides.reset ?? b.reset),
    'x-ratelimit-resource': 'core',
  };
}

export function rateLimitExceededMessage(key, req) {
  return key === 'anonymous'
    ? `API rate limit exceeded for ${req.socket.remoteAddress}. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)`
    : `API rate limit exceeded for user ID ${stableId(key)}.`;
}

/**
 * -> { present, token, valid, kind, installation } from the Authorization header. kind is
 * 'token' (a personal token), 'installation' (one the App minted; installation says whose),
 * or 'jwt' (the App itself: valid only on the App's endpoints, which verify it).
 */
export function parseAuth(emu, req) {
  const h = req.headers.authorization;
  if (!h) return { present: false, token: null, valid: false, kind: 'none' };
  const m = /^(bearer|token|basic)\s+(.+)$/i.exec(h.trim());
  let token = null;
  if (m) {
    if (m[1].toLowerCase() === 'basic') {
      const decoded = Buffer.from(m[2], 'base64').toString('utf8');
      token = decoded.includes(':') ? decoded.slice(decoded.indexOf(':') + 1) : null;
    } else {
      token = m[2].trim();
    }
  }
  if (token && token.startsWith('ghs_')) {
    const installation = installationOfToken(emu, token);
    return { present: true, token, valid: !!installation, kind: 'installation', installation };
  }
  if (token && looksLikeJwt(token)) return { present: true, token, valid: false, kind: 'jwt' };
  const valid = !!token && (emu.options.tokens === null || emu.options.tokens.includes(token));
  return { present: true, token, valid, kind: 'token' };
}
