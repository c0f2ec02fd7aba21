// The per-emulator state object ("emu") that every module receives explicitly:
// root, port, options, rate-limit buckets, codeload grants, faults, stats and the App.
// Owns its creation and setOption, the one way options change at run time.

import { freshStats } from './stats.mjs';
import { freshApps, setAppOption } from './apps.mjs';

/** State of one emulator instance; `port` is filled in once the server listens. */
export function createState(root, { tokens, maxTreeEntries }) {
  return {
    root,
    port: null,
    options: {
      tokens: tokens ? [...tokens] : null,
      maxTreeEntries,
      rateLimitRemaining: null, // default remaining for buckets created later
      rateLimitReset: null, // default reset (epoch seconds) for buckets created later
      requireUserAgent: true,
      supportedApiVersions: null, // e.g. ['2022-11-28']; null = accept any value
    },
    buckets: new Map(), // token | 'anonymous' -> { limit, remaining, reset }
    codeloadTokens: new Map(), // one-off ?token= for codeload when auth is on
    faults: [],
    faultSeq: 0,
    stats: freshStats(),
    apps: freshApps(), // the GitHub App, its installations and tokens (apps.mjs)
  };
}

export function setOption(emu, name, value) {
  const { options, buckets } = emu;
  switch (name) {
    case 'rateLimitRemaining':
      options.rateLimitRemaining = value;
      if (value !== null) for (const b of buckets.values()) b.remaining = Math.max(0, Math.min(b.limit, value));
      break;
    case 'rateLimitReset':
      options.rateLimitReset = value;
      if (value !== null) for (const b of buckets.values()) b.reset = value;
      break;
    case 'resetRateLimits':
      buckets.clear();
      options.rateLimitRemaining = null;
      options.rateLimitReset = null;
      break;
    case 'tokens':
      options.tokens = value ? [...value] : null;
      break;
    case 'maxTreeEntries':
    case 'requireUserAgent':
    case 'supportedApiVersions':
      options[name] = value;
      break;
    default:
      if (!setAppOption(emu, name, value)) throw new Error(`setOption: unknown option ${name}`);
  }
}
