// The MCP side of the e2e tests: the official TypeScript SDK client (`Client` +
// `StreamableHTTPClientTransport`) connected to a world's `/mcp` with a user's bearer token,
// tool calls that check the result's envelope, listings followed to their last page, raw
// JSON-RPC posts for what the SDK never sends (a bad header, a batch, the 2026-07-28 era),
// and git's own answers (`git ls-tree -r`, `git cat-file blob`, `git diff -M --raw`) that the
// tools are checked against.

import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { request, TERMINAL } from './client.mjs';
import { byteCompare, kindOfMode } from './expect.mjs';

export { McpError, StreamableHTTPError };

/** The revision the TypeScript SDK offers, and the one a server answers an unknown offer with. */
export const LATEST_HANDSHAKE = '2025-11-25';
export const MODERN = '2026-07-28';
export const INVALID_PARAMS = -32602;
/** git's empty tree: the state before a first sync. */
export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

/**
 * The SDK's transport, offering `offer` in `initialize` instead of the SDK's latest (the
 * client has no option for it; the server's answer then names the revision used).
 */
class OfferingTransport extends StreamableHTTPClientTransport {
  constructor(url, options, offer) {
    super(url, options);
    this.offer = offer;
  }

  async send(message, options) {
    if (this.offer && message.method === 'initialize') {
      message = { ...message, params: { ...message.params, protocolVersion: this.offer } };
    }
    return super.send(message, options);
  }
}

/**
 * A connected SDK client for `token` (none: no Authorization header). Returns
 * { client, transport }; `transport.protocolVersion` is the negotiated revision.
 */
export async function connectMcp(base, token, { offer } = {}) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const transport = new OfferingTransport(new URL('/mcp', base), { requestInit: { headers } }, offer);
  const client = new Client({ name: 'project-sync-e2e', version: '0.0.0' });
  await client.connect(transport);
  return { client, transport };
}

/** The text blocks of a tool result, joined. */
export function resultText(result) {
  return (result.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}

/** Calls a tool that must succeed; returns its structuredContent. */
export async function callOk(client, name, args = {}) {
  const result = await client.callTool({ name, arguments: args });
  const ctx = `${name} ${JSON.stringify(args)}`;
  assert.notEqual(result.isError, true, `${ctx} failed: ${resultText(result).slice(0, 500)}`);
  assert.ok(Array.isArray(result.content) && result.content.length > 0, `${ctx}: a content block for clients that read no structure`);
  assert.ok(result.structuredContent && typeof result.structuredContent === 'object', `${ctx}: structuredContent`);
  return result.structuredContent;
}

/**
 * Calls a tool that must fail as a tool result (`isError: true`) with a sentence, not as a
 * protocol error nor an HTTP error; returns the sentence.
 */
export async function callRefused(client, name, args = {}) {
  const result = await client.callTool({ name, arguments: args });
  const text = resultText(result);
  assert.equal(result.isError, true, `${name} ${JSON.stringify(args)} should fail as a tool result: ${JSON.stringify(result).slice(0, 500)}`);
  assert.ok(text.trim().length > 0, `${name}: the failure says why in a sentence`);
  return text;
}

/** Calls a tool whose arguments are wrong: a JSON-RPC error; returns the McpError. */
export async function callRejected(client, name, args) {
  try {
    const result = await client.callTool({ name, arguments: args });
    assert.fail(`${name} ${JSON.stringify(args)} should be refused, got ${JSON.stringify(result).slice(0, 300)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    assert.ok(e instanceof McpError, `${name}: a JSON-RPC error, not ${e?.name}: ${e?.message}`);
    return e;
  }
}

/**
 * Every item of a paged tool (`key` names the array), following `nextCursor` to the end.
 * Returns { items, pages, first } (first: the first page's whole result).
 */
export async function collect(client, name, args, key) {
  const items = [];
  const seen = new Set();
  let first;
  let cursor;
  for (let pages = 1; pages <= 1000; pages++) {
    const page = await callOk(client, name, cursor ? { ...args, cursor } : args);
    first ??= page;
    assert.ok(Array.isArray(page[key]), `${name}: ${key} is an array`);
    items.push(...page[key]);
    if (page.nextCursor === undefined || page.nextCursor === null) return { items, pages, first };
    assert.equal(typeof page.nextCursor, 'string', `${name}: nextCursor is a string`);
    assert.ok(!seen.has(page.nextCursor), `${name}: nextCursor repeats`);
    assert.ok(page[key].length > 0, `${name}: a page that is not the last holds something`);
    seen.add(page.nextCursor);
    cursor = page.nextCursor;
  }
  throw new Error(`${name}: more than 1000 pages`);
}

/** Polls get_sync until the sync ends; returns its view. */
export async function waitSyncMcp(client, syncId, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    last = await callOk(client, 'get_sync', { sync: syncId });
    if (TERMINAL.includes(last.status)) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`sync ${syncId} did not end within ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

/** One raw POST to /mcp with the transport's headers; returns { status, headers, text, json }. */
export function postMcp(base, body, { token, headers = {} } = {}) {
  return request(base, 'POST', '/mcp', {
    token,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { accept: 'application/json, text/event-stream', 'content-type': 'application/json', ...headers },
  });
}

/** A 2026-07-28 request: the `_meta` envelope in its params. */
export function modernRequest(id, method, params = {}) {
  const meta = {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientInfo': { name: 'project-sync-e2e', version: '0.0.0' },
    'io.modelcontextprotocol/clientCapabilities': {},
  };
  return { jsonrpc: '2.0', id, method, params: { ...params, _meta: meta } };
}

/** The headers a 2026-07-28 request mirrors its body in. */
export function modernHeaders(method, name) {
  return { 'mcp-protocol-version': MODERN, 'mcp-method': method, ...(name ? { 'mcp-name': name } : {}) };
}

// ---------------------------------------------------------------------------------------------
// git's answers
// ---------------------------------------------------------------------------------------------

/** `git ls-tree -r` at `commit`: [{path, sha, kind, size}] sorted by path bytes. */
export function gitFiles(repo, commit) {
  return repo
    .lsTree(commit)
    .map((e) => ({ path: e.path, sha: e.sha, kind: kindOfMode(e.mode), size: e.size }))
    .sort((a, b) => byteCompare(a.path, b.path));
}

/** `git cat-file blob` of `path` at `commit`: { sha, bytes, text }. */
export function gitBlob(repo, commit, path) {
  const sha = repo.git(['rev-parse', `${commit}:${path}`]).trim();
  const bytes = repo.git(['cat-file', 'blob', sha], { encoding: 'buffer' });
  return { sha, bytes, text: bytes.toString('utf8') };
}

const CHANGE = { A: 'added', M: 'modified', T: 'modified', D: 'removed', R: 'renamed' };

/**
 * `git diff -M --raw` from commit `a` to `b`, as the change items a tool answers:
 * [{path, change, sha, previousPath?, previousSha?}] sorted by path bytes.
 */
export function gitChanges(repo, a, b) {
  const out = repo.git(['diff', '--raw', '-M', '-z', '--no-abbrev', '--no-ext-diff', '--no-color', a, b, '--']);
  const tokens = out.split('\0');
  const changes = [];
  for (let i = 0; i < tokens.length && tokens[i]; ) {
    const [, , oldSha, newSha, status] = tokens[i++].slice(1).split(' ');
    const letter = status[0];
    assert.ok(CHANGE[letter], `git diff: unexpected status ${status}`);
    if (letter === 'R') {
      const previousPath = tokens[i++];
      // git's score of the pair (`R087`: 87).
      changes.push({ path: tokens[i++], change: 'renamed', previousPath, sha: newSha, previousSha: oldSha, similarity: Number(status.slice(1)) });
    } else {
      const path = tokens[i++];
      if (letter === 'A') changes.push({ path, change: 'added', sha: newSha });
      else if (letter === 'D') changes.push({ path, change: 'removed', sha: oldSha });
      else changes.push({ path, change: 'modified', sha: newSha, previousSha: oldSha });
    }
  }
  return changes.sort((x, y) => byteCompare(x.path, y.path));
}

/**
 * A tool's change items equal git's: the same paths (in any order), and for each the same
 * kind, blob id and, for a rename, previous path and similarity (none on anything else); a
 * `previousSha` where both give one.
 */
export function assertChanges(items, expected, what) {
  const sorted = [...items].sort((x, y) => byteCompare(x.path, y.path));
  assert.deepEqual(sorted.map((c) => c.path), expected.map((c) => c.path), `${what}: the paths git diff -M names`);
  sorted.forEach((c, i) => {
    const e = expected[i];
    const ctx = `${what}: ${c.path} ${JSON.stringify(c)}`;
    assert.equal(c.change, e.change, ctx);
    assert.equal(c.sha, e.sha, ctx);
    if (e.change === 'renamed') assert.equal(c.previousPath, e.previousPath, ctx);
    assert.equal(c.similarity, e.similarity, ctx);
    if (e.previousSha !== undefined && c.previousSha !== undefined && c.previousSha !== null) assert.equal(c.previousSha, e.previousSha, ctx);
  });
}

/** Lines as editors count them: a final line without a newline is a line. */
export function splitLines(text) {
  return text === '' ? [] : text.split(/(?<=\n)/);
}
