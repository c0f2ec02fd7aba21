// Fault injection: validating and storing fault specs in emu.faults, consuming
// the ones that match a request, and the responses that status and rate-limit
// faults answer with (the pipeline in request.mjs handles drop and delay).

import http from 'node:http';
import crypto from 'node:crypto';
import { DOCS_URL, jsonBody } from './http.mjs';
import { ROUTE_NAME_SET } from './routes.mjs';
import { rateHeaders, rateLimitExceededMessage, RATE_LIMIT_DOCS_URL } from './limits.mjs';
import { nowSeconds } from './format.mjs';

const SECONDARY_RATE_LIMIT_DOCS_URL =
  'https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits';
const FAULT_KINDS = new Set(['status', 'drop', 'secondaryRateLimit', 'primaryRateLimit', 'delay']);

export function injectFault(emu, spec) {
  if (!spec || typeof spec !== 'object') throw new Error('injectFault: spec object required');
  const kind = spec.kind ?? 'status';
  if (!FAULT_KINDS.has(kind)) throw new Error(`injectFault: unknown kind ${kind}`);
  const route = spec.route ?? '*';
  let times = spec.times ?? 1;
  if (times === -1 || times === 'always' || times === null) times = Infinity;
  if (!(times > 0)) throw new Error('injectFault: times must be > 0 (or -1/Infinity for always)');
  if (kind === 'status' && !Number.isInteger(spec.status)) throw new Error('injectFault: status fault needs an integer status');
  if (kind === 'delay' && !(spec.ms >= 0)) throw new Error('injectFault: delay fault needs ms');
  const fault = {
    ...spec,
    id: ++emu.faultSeq,
    kind,
    route,
    times,
    regex: route === '*' || ROUTE_NAME_SET.has(route) ? null : new RegExp(route),
  };
  emu.faults.push(fault);
  return fault.id;
}

export function clearFaults(emu) {
  emu.faults = [];
}

/** Pending faults as the control API lists them (no regex; "always" as -1). */
export function listFaults(emu) {
  return emu.faults.map(({ regex, ...f }) => ({ ...f, times: f.times === Infinity ? -1 : f.times }));
}

function faultMatches(f, routeName, rawPath, method) {
  if (f.method && String(f.method).toUpperCase() !== method) return false;
  if (f.route === '*') return true;
  if (f.regex) return f.regex.test(rawPath);
  return f.route === routeName;
}

/** Consume matching faults: all matching delays add up; the first other kind wins. */
export function takeFaults(emu, routeName, rawPath, method) {
  let delayMs = 0;
  let action = null;
  for (const f of emu.faults) {
    if (f.times <= 0 || !faultMatches(f, routeName, rawPath, method)) continue;
    if (f.kind === 'delay') {
      delayMs += f.ms;
      f.times -= 1;
    } else if (!action) {
      action = f;
      delayMs += f.ms ?? 0;
      f.times -= 1;
    }
  }
  emu.faults = emu.faults.filter((f) => f.times > 0);
  return { delayMs, action };
}

/**
 * The { status, headers, body } a status / secondary / primary rate-limit fault
 * answers with, or null for any other kind. `b` is the caller's bucket.
 */
export function faultReply(action, b, { common, bucketKey, req }) {
  if (action.kind === 'status') {
    const message = action.message ?? http.STATUS_CODES[action.status] ?? 'Error';
    const body = action.body !== undefined
      ? Buffer.from(typeof action.body === 'string' ? action.body : JSON.stringify(action.body))
      : jsonBody({ message, documentation_url: DOCS_URL, status: String(action.status) });
    return { status: action.status, headers: { ...common, ...rateHeaders(b), ...(action.headers ?? {}) }, body };
  }
  if (action.kind === 'secondaryRateLimit') {
    const retryAfter = action.retryAfter ?? 60;
    const id = crypto.randomBytes(8).toString('hex').toUpperCase();
    return {
      status: action.status ?? 403,
      headers: { ...common, ...rateHeaders(b), 'retry-after': String(retryAfter) },
      body: jsonBody({
        message: `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ${id}.`,
        documentation_url: SECONDARY_RATE_LIMIT_DOCS_URL,
        status: String(action.status ?? 403),
      }),
    };
  }
  if (action.kind === 'primaryRateLimit') {
    const reset = nowSeconds() + (action.resetIn ?? 60);
    return {
      status: action.status ?? 403,
      headers: { ...common, ...rateHeaders(b, { remaining: 0, reset }) },
      body: jsonBody({ message: rateLimitExceededMessage(bucketKey, req), documentation_url: RATE_LIMIT_DOCS_URL, status: String(action.status ?? 403) }),
    };
  }
  return null;
}
