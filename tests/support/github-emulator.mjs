// GitHub REST API emulator for Project Sync tests.
//
// Owns: an HTTP server (127.0.0.1 only, Node 20+ built-ins only, no npm
// dependencies) that answers the subset of the GitHub REST API the sync Worker
// uses, serving REAL git repositories from disk through the `git` CLI, so every
// SHA it hands out is real and can be checked against `git ls-tree`.
//
//   Repositories:  ${root}/${owner}/${repo}.git  (bare)   or
//                  ${root}/${owner}/${repo}      (work tree with .git, or bare)
//   Base URL:      http://127.0.0.1:PORT  acts as https://api.github.com; the
//                  same routes are also served under /api/v3 (GitHub Enterprise).
//   Control:       /_emulator/* (faults, stats, options) for other processes.
//   Codeload:      /_codeload/{owner}/{repo}/legacy.tar.gz/{sha} (tarball target).
//
// Nothing is cached across requests except data keyed by an immutable object
// SHA (parsed commits), so tests may push new commits between calls.
//
// Library use:   const gh = await startGitHubEmulator({ root });
// Standalone:    node tests/support/github-emulator.mjs --root DIR --port P
//                [--tokens a,b] [--max-tree-entries N]
//                prints "listening http://127.0.0.1:P" and serves until SIGTERM.
//
// Layout: this file is the entry module (public API and the standalone CLI);
// the implementation is split by concern under ./github-emulator/:
//   server.mjs    startGitHubEmulator: state, node:http server, library API
//   state.mjs     the per-emulator state object and setOption
//   request.mjs   the request pipeline (faults, gates, dispatch, ETag / 304)
//   routes.mjs    path splitting, route matching, ROUTE_NAMES
//   endpoints.mjs REST handlers;  payloads.mjs GitHub JSON shapes
//   archives.mjs  tarball / zipball redirects and codeload
//   git.mjs       git CLI and repository access;  format.mjs ids, base64, dates
//   limits.mjs    rate limits and auth;  faults.mjs fault injection
//   stats.mjs     request stats and log;  control.mjs /_emulator/* control API
//   apps.mjs      the GitHub App: JWT checks (RS256), installations, installation tokens
//   http.mjs      HttpError, body reading, ETag matching, response writer

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startGitHubEmulator } from './github-emulator/server.mjs';

export { startGitHubEmulator };
export { ROUTE_NAMES } from './github-emulator/routes.mjs';

// ---------------------------------------------------------------------------
// Standalone entry point
// ---------------------------------------------------------------------------

function parseArgs(argv) {
  const out = { root: null, port: 0, tokens: null, maxTreeEntries: 100000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--root') out.root = next();
    else if (a === '--port') out.port = Number(next());
    else if (a === '--tokens') out.tokens = next().split(',').filter(Boolean);
    else if (a === '--max-tree-entries') out.maxTreeEntries = Number(next());
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: github-emulator.mjs --root DIR [--port P] [--tokens a,b] [--max-tree-entries N]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!out.root) throw new Error('--root DIR is required');
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`github-emulator: ${e.message}\n`);
    process.exit(2);
  }
  const emu = await startGitHubEmulator(args);
  process.stdout.write(`listening ${emu.url}\n`);
  const stop = async () => {
    await emu.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
