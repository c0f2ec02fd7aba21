// The MCP server (issue 21; CONTRACT.md "MCP"): `/mcp` driven by the official TypeScript SDK
// client (`Client` + `StreamableHTTPClientTransport`, a bearer token in its request headers)
// over a real repository built with the git CLI through four synced commits: adds, edits, an
// exact rename, deletes, a binary file, a symlink, an empty file, a text over 256 KiB, a file of
// thousands of lines, unicode and space-containing paths, and 520 small files so listings take
// more than one page.
//   Transport: 401 with a Bearer challenge, Origin refused with 403, GET 405, an unsupported
//   MCP-Protocol-Version 400, a batch 400 -32600, a notification 202; initialize negotiates
//   2025-11-25 by default, 2025-06-18 when offered, 2025-11-25 for a revision it does not speak;
//   a 2026-07-28 request (the `_meta` envelope, mirrored headers) is served, a header that
//   disagrees with its body is 400 -32020.
//   Tools: every answer checked against git (`git ls-tree -r`, `git cat-file blob`,
//   `git diff -M --raw`, `git grep`) and, where the REST API answers the same question,
//   against it; every read tool (and a restore) costs no GitHub request; a wrong argument is
//   JSON-RPC -32602 naming it; another user's project or sync is the same "not found" tool
//   error as one that does not exist; start_sync (and its dry run), a tool call while a sync
//   runs, cancel_sync and restore.
//   Resources: the two URI templates, and a file read through each.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startWorld, worldTest, createRepo, byteCompare, sleep, BINARY_FIXTURE, expectedCounts } from '../support/harness.mjs';
import {
  EMPTY_TREE,
  INVALID_PARAMS,
  LATEST_HANDSHAKE,
  StreamableHTTPError,
  McpError,
  assertChanges,
  callOk,
  callRefused,
  callRejected,
  collect,
  connectMcp,
  gitBlob,
  gitChanges,
  gitFiles,
  modernHeaders,
  modernRequest,
  postMcp,
  splitLines,
  waitSyncMcp,
} from '../support/mcp.mjs';

const MAX_READ_BYTES = 256 * 1024;
const BULK = 520;
const NO_SUCH = '00000000-0000-0000-0000-000000000000';
const TOOLS = {
  list_projects: [],
  list_syncs: ['project'],
  list_files: ['project'],
  read_file: ['project', 'path'],
  search_text: ['project', 'query'],
  get_changes: ['sync'],
  compare: ['project'],
  file_history: ['project', 'path'],
  get_sync: ['sync'],
  start_sync: ['project'],
  cancel_sync: ['sync'],
  restore: ['project', 'sync'],
};
/** The optional arguments the issue names for each tool. */
const OPTIONAL = {
  list_syncs: ['cursor'],
  list_files: ['at', 'prefix', 'cursor'],
  read_file: ['at', 'startLine', 'endLine'],
  search_text: ['at', 'cursor'],
  get_changes: ['cursor'],
  compare: ['from', 'to', 'cursor'],
  start_sync: ['branch', 'dryRun'],
};
const CHANGING = ['start_sync', 'cancel_sync', 'restore'];
const W = Object.freeze({
  everywhere: 'zanzibarquill', // README (every state), the unicode note (as "Zanzibarquill"), big/long.txt
  first: 'marmaladeorbit', // only in the first README
});
const UNICODE = 'docs/ünïcödé/日本語 notes.md';
const UNICODE_RENAMED = 'docs/ünïcödé/renamed 日本語.md';

let world;
let repo;
let alice;
let bob;
let project;
/** [{ commit, syncId }] of the four syncs made before the tests, oldest first. */
const states = [];
const clients = [];
let aliceMcp;
/** The commit the MCP start_sync tests sync to. */
let fifth;
const test = worldTest(() => world);

const hex = (s) => crypto.createHash('sha256').update(s).digest('hex');
/** Lines no other file has, so git's -M pairs nothing but the exact renames made here. */
const unique = (seed, lines = 6) => Array.from({ length: lines }, (_, i) => `${seed}:${i} ${hex(`${seed}/${i}`)}\n`).join('');

/** A text of at least `bytes` bytes of distinct lines, some with multi-byte characters, `word` on line `wordLine`. */
function longText(seed, bytes, { word, wordLine }) {
  const parts = [];
  let length = 0;
  for (let i = 1; length < bytes; i++) {
    let line = `${seed} ${i} ${hex(`${seed}/${i}`)}`;
    if (i % 7 === 0) line += ' Grüße, 世界';
    if (i === wordLine) line += ` the ${word} is here`;
    line += '\n';
    parts.push(line);
    length += Buffer.byteLength(line);
  }
  return parts.join('');
}

/** Writes many files and stages them with one `git add`. */
function writeMany(files) {
  for (const [p, text] of files) {
    fs.mkdirSync(path.dirname(path.join(repo.dir, p)), { recursive: true });
    fs.writeFileSync(path.join(repo.dir, p), text);
  }
  repo.git(['add', '-A']);
}

async function commitAndSync(message) {
  const commit = repo.commit(message);
  project ??= await alice.createProject({ name: 'mcp', repository: 'acme/mcp' });
  const { done } = await alice.syncAndWait(project.id);
  assert.equal(done.commitSha, commit);
  states.push({ commit, syncId: done.id });
}

before(async () => {
  world = await startWorld();
  repo = createRepo(world.root, 'acme', 'mcp');
  alice = await world.createUser('alice');
  bob = await world.createUser('bob');

  repo.write('README.md', `# mcp fixture\n\nThe ${W.everywhere} note.\nAn old ${W.first} line.\n`);
  repo.write('src/app.js', `export const answer = 42;\n${unique('app')}`);
  repo.write('src/util.js', unique('util'));
  repo.write('src/empty.txt', '');
  repo.write('docs/guide.md', unique('guide'));
  repo.write(UNICODE, `Grüße, 世界\n${W.everywhere[0].toUpperCase()}${W.everywhere.slice(1)} am Ende der Zeile.\n${unique('unicode')}`);
  repo.write('assets/logo.bin', BINARY_FIXTURE);
  repo.symlink('link-to-readme', 'README.md');
  repo.write('big/long.txt', longText('long', 600_000, { word: W.everywhere, wordLine: 3001 }));
  repo.write('many/lines.txt', Array.from({ length: 5000 }, (_, i) => `row ${i + 1}\n`).join(''));
  writeMany(Array.from({ length: BULK }, (_, i) => [`bulk/f${String(i).padStart(4, '0')}.txt`, `bulk ${i} ${hex(`bulk/${i}`)}\n`]));
  await commitAndSync('first: every kind of file');

  repo.write('README.md', `# mcp fixture\n\nThe ${W.everywhere} note.\nSecond revision.\n${unique('readme2', 3)}`);
  repo.move('src/util.js', 'lib/util.js');
  repo.remove('docs/guide.md');
  repo.write('docs/new.md', unique('new'));
  const long = gitBlob(repo, 'HEAD', 'big/long.txt').text.split('\n');
  long[9] = `${long[9]} edited in the second commit`;
  repo.write('big/long.txt', long.join('\n'));
  repo.write('assets/logo.bin', Buffer.from(BINARY_FIXTURE).reverse());
  await commitAndSync('second: edit, rename, delete, add, a binary changed');

  repo.move(UNICODE, UNICODE_RENAMED);
  repo.write('many/lines.txt', Array.from({ length: 5200 }, (_, i) => `row ${i + 1}\n`).join(''));
  repo.write('notes/todo.md', unique('todo'));
  await commitAndSync('third: a unicode rename, a longer file, a note');

  repo.write('README.md', `# mcp fixture\n\nThe ${W.everywhere} note.\nFourth revision.\n${unique('readme4', 3)}`);
  repo.remove('bulk/f0007.txt');
  await commitAndSync('fourth: the branch moves on');
});

after(async () => {
  for (const c of clients) await c.client.close().catch(() => {});
  await world?.stop();
});

/** A connected SDK client for `user`, closed after the file. */
async function connect(user, options) {
  const connection = await connectMcp(world.base, user.token, options);
  clients.push(connection);
  return connection;
}

/** Alice's client, connected once, its tools listed (so the SDK validates every structured result against its tool's output schema). */
async function mcp() {
  if (!aliceMcp) {
    aliceMcp = await connect(alice);
    await aliceMcp.client.listTools();
  }
  return aliceMcp.client;
}

const githubRequests = () => world.emulator.stats().total;

/** Runs `fn` and asserts it cost no GitHub request. */
async function noGitHub(what, fn) {
  const before = githubRequests();
  const result = await fn();
  assert.equal(githubRequests() - before, 0, `${what}: answered from what the service holds, no GitHub request`);
  return result;
}

const current = () => states[states.length - 1];
const files = (items) => items.map((f) => ({ path: f.path, sha: f.sha, kind: f.kind, size: f.size })).sort((a, b) => byteCompare(a.path, b.path));
const blobAt = (commit, p) => {
  try {
    return repo.git(['rev-parse', '--verify', '-q', `${commit}:${p}`]).trim();
  } catch {
    return null;
  }
};

/** Paths at `commit` holding `word` as a word, in any case (`git grep -l -i -w`). */
function gitGrep(commit, word) {
  let out;
  try {
    out = repo.git(['grep', '-l', '-i', '-w', '-z', '-e', word, commit, '--']);
  } catch {
    return [];
  }
  return out.split('\0').filter(Boolean).map((p) => p.slice(commit.length + 1)).sort(byteCompare);
}

// ---------------------------------------------------------------------------------------------
// The transport
// ---------------------------------------------------------------------------------------------

test('no token or a wrong one is 401 with a Bearer challenge, to the SDK client and on the wire', async () => {
  for (const token of [undefined, `psk_${crypto.randomBytes(24).toString('hex')}`, 'not-a-token']) {
    await assert.rejects(connectMcp(world.base, token), (e) => {
      assert.ok(e instanceof StreamableHTTPError, `${e?.name}: ${e?.message}`);
      assert.equal(e.code, 401, e.message);
      return true;
    });
    const res = await postMcp(
      world.base,
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LATEST_HANDSHAKE, capabilities: {}, clientInfo: { name: 'e2e', version: '0' } } },
      { token },
    );
    assert.equal(res.status, 401, `${token}: ${res.status} ${res.text.slice(0, 200)}`);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b/, `${token}: WWW-Authenticate`);
  }
});

test('the transport: Origin checked, GET 405, an unsupported revision 400, a batch 400 -32600, a notification 202', async () => {
  const token = alice.token;
  const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LATEST_HANDSHAKE, capabilities: {}, clientInfo: { name: 'e2e', version: '0' } } };
  const legacy = { 'mcp-protocol-version': LATEST_HANDSHAKE };

  for (const origin of ['https://evil.example', 'null', 'http://localhost.evil.example:8787']) {
    const res = await postMcp(world.base, init, { token, headers: { origin } });
    assert.equal(res.status, 403, `Origin ${origin}: ${res.status} ${res.text.slice(0, 200)}`);
  }
  const own = await postMcp(world.base, init, { token, headers: { origin: new URL(world.base).origin } });
  assert.equal(own.status, 200, `the service's own origin is allowed: ${own.text.slice(0, 200)}`);
  assert.equal(own.json?.result?.protocolVersion, LATEST_HANDSHAKE);

  const get = await world.api('GET', '/mcp', { token, headers: { accept: 'text/event-stream' } });
  assert.equal(get.status, 405, `GET: ${get.status} ${get.text.slice(0, 200)}`);

  const unsupported = await postMcp(world.base, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, { token, headers: { 'mcp-protocol-version': '1999-01-01' } });
  assert.equal(unsupported.status, 400, `MCP-Protocol-Version 1999-01-01: ${unsupported.text.slice(0, 200)}`);
  assert.equal(typeof unsupported.json?.error?.code, 'number', 'a JSON-RPC error body');

  const batch = await postMcp(world.base, [{ jsonrpc: '2.0', id: 3, method: 'tools/list' }], { token, headers: legacy });
  assert.equal(batch.status, 400, `a batch: ${batch.text.slice(0, 200)}`);
  assert.equal(batch.json?.error?.code, -32600);

  const note = await postMcp(world.base, { jsonrpc: '2.0', method: 'notifications/initialized' }, { token, headers: legacy });
  assert.equal(note.status, 202, `a notification: ${note.status} ${note.text.slice(0, 200)}`);
  assert.equal(note.text, '', 'no body');

  const parse = await postMcp(world.base, '{"jsonrpc": "2.0", "id": 4, "method": ', { token, headers: legacy });
  assert.equal(parse.status, 400);
  assert.equal(parse.json?.error?.code, -32700);
});

test('initialize negotiates: 2025-11-25 by default, 2025-06-18 when offered, 2025-11-25 for a revision it does not speak', async () => {
  const latest = await connect(alice);
  assert.equal(latest.transport.protocolVersion, '2025-11-25');
  assert.ok(latest.client.getServerCapabilities()?.tools, 'the server offers tools');
  assert.ok(latest.client.getServerCapabilities()?.resources, 'and resources');

  const older = await connect(alice, { offer: '2025-06-18' });
  assert.equal(older.transport.protocolVersion, '2025-06-18');
  const listed = await callOk(older.client, 'list_projects');
  assert.deepEqual(listed.projects.map((p) => p.id), [project.id], 'tools answer at 2025-06-18 too');

  const unknown = await connect(alice, { offer: '2024-01-01' });
  assert.equal(unknown.transport.protocolVersion, '2025-11-25');
  await callOk(unknown.client, 'list_projects');

  const raw = await postMcp(
    world.base,
    { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2031-01-01', capabilities: {}, clientInfo: { name: 'e2e', version: '0' } } },
    { token: alice.token },
  );
  assert.equal(raw.status, 200, raw.text.slice(0, 200));
  assert.equal(raw.json.result.protocolVersion, '2025-11-25');
});

test('2026-07-28: server/discover and a tool call with the _meta envelope; a header that disagrees is 400 -32020', async () => {
  const token = alice.token;
  const discover = await postMcp(world.base, modernRequest(1, 'server/discover'), { token, headers: modernHeaders('server/discover') });
  assert.equal(discover.status, 200, discover.text.slice(0, 300));
  const found = discover.json.result;
  for (const v of ['2026-07-28', '2025-11-25', '2025-06-18']) assert.ok(found.supportedVersions.includes(v), `supportedVersions has ${v}: ${JSON.stringify(found)}`);
  assert.equal(found.resultType, 'complete');

  const mismatch = await postMcp(world.base, modernRequest(2, 'server/discover'), { token, headers: modernHeaders('tools/list') });
  assert.equal(mismatch.status, 400, mismatch.text.slice(0, 300));
  assert.equal(mismatch.json?.error?.code, -32020);
  const call = modernRequest(3, 'tools/call', { name: 'read_file', arguments: { project: project.id, path: 'README.md' } });
  const misnamed = await postMcp(world.base, call, { token, headers: modernHeaders('tools/call', 'list_files') });
  assert.equal(misnamed.status, 400, misnamed.text.slice(0, 300));
  assert.equal(misnamed.json?.error?.code, -32020);

  const read = await noGitHub('a 2026-07-28 read_file', () => postMcp(world.base, call, { token, headers: modernHeaders('tools/call', 'read_file') }));
  assert.equal(read.status, 200, read.text.slice(0, 300));
  assert.equal(read.json.result.resultType, 'complete');
  assert.notEqual(read.json.result.isError, true, read.text.slice(0, 300));
  assert.equal(read.json.result.structuredContent.text, gitBlob(repo, current().commit, 'README.md').text);
});

// ---------------------------------------------------------------------------------------------
// The tools
// ---------------------------------------------------------------------------------------------

test('tools/list: the twelve tools, each with input and output schemas and every hint set', async () => {
  const client = await mcp();
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(), Object.keys(TOOLS).sort());
  for (const tool of tools) {
    const ctx = `${tool.name}: ${JSON.stringify(tool).slice(0, 400)}`;
    assert.equal(tool.inputSchema?.type, 'object', ctx);
    assert.equal(tool.outputSchema?.type, 'object', ctx);
    assert.ok(typeof tool.description === 'string' && tool.description.length > 0, ctx);
    assert.deepEqual([...(tool.inputSchema.required ?? [])].sort(), [...TOOLS[tool.name]].sort(), `${tool.name}: required arguments`);
    for (const arg of [...TOOLS[tool.name], ...(OPTIONAL[tool.name] ?? [])]) {
      assert.ok(tool.inputSchema.properties?.[arg], `${tool.name} takes ${arg}`);
    }
    const hints = tool.annotations ?? {};
    for (const key of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint']) assert.equal(typeof hints[key], 'boolean', `${tool.name}.${key}`);
    const changes = CHANGING.includes(tool.name);
    assert.equal(hints.readOnlyHint, !changes, `${tool.name}: readOnlyHint`);
    if (!changes) {
      assert.equal(hints.destructiveHint, false, `${tool.name}: a read destroys nothing`);
      assert.equal(hints.openWorldHint, false, `${tool.name}: a read does not reach GitHub`);
    }
  }
  for (const name of ['cancel_sync', 'restore']) assert.equal(tools.find((t) => t.name === name).annotations.destructiveHint, true, `${name} is destructive`);
});

test('list_projects, list_syncs (newest first, paged to the end) and get_sync equal git and the REST API', async () => {
  const client = await mcp();
  await noGitHub('list_projects, list_syncs, get_sync', async () => {
    const { items: projects } = await collect(client, 'list_projects', {}, 'projects');
    assert.equal(projects.length, 1, JSON.stringify(projects));
    const p = projects[0];
    assert.deepEqual(
      { id: p.id, name: p.name, repository: p.repository, branch: p.branch, currentSyncId: p.currentSyncId, currentCommitSha: p.currentCommitSha },
      { id: project.id, name: 'mcp', repository: 'acme/mcp', branch: 'main', currentSyncId: current().syncId, currentCommitSha: current().commit },
    );
    const rest = await alice.listAll('/api/v1/projects');
    assert.deepEqual(projects.map((x) => x.id), rest.map((x) => x.id));

    const { items: syncs } = await collect(client, 'list_syncs', { project: project.id }, 'syncs');
    const newestFirst = [...states].reverse();
    assert.deepEqual(syncs.map((s) => s.id), newestFirst.map((s) => s.syncId), 'every sync, newest first');
    assert.deepEqual(syncs.map((s) => s.commitSha), newestFirst.map((s) => s.commit));
    assert.deepEqual(syncs.map((s) => s.id), (await alice.listAll(`/api/v1/projects/${project.id}/syncs`)).map((s) => s.id));

    for (const [i, state] of states.entries()) {
      const view = await callOk(client, 'get_sync', { sync: state.syncId });
      const rest = await alice.getJson(`/api/v1/syncs/${state.syncId}`);
      for (const key of ['id', 'projectId', 'kind', 'status', 'progress', 'branch', 'commitSha', 'counts', 'startedAt', 'completedAt']) {
        assert.deepEqual(view[key], rest[key], `get_sync ${i}: ${key} as the REST API says`);
      }
      assert.equal(view.status, 'COMPLETE');
      assert.equal(view.commitSha, state.commit);
      const { counts } = expectedCounts(repo, i === 0 ? EMPTY_TREE : states[i - 1].commit, state.commit);
      for (const key of ['added', 'modified', 'removed', 'renamed']) assert.equal(view.counts[key], counts[key], `get_sync ${i}: counts.${key} as git diff -M counts`);
    }
  });
});

test('list_files: the state now, right after an earlier sync, under a prefix, paged to the end: git ls-tree -r', async () => {
  const client = await mcp();
  await noGitHub('list_files', async () => {
    const now = await collect(client, 'list_files', { project: project.id }, 'files');
    assert.deepEqual(files(now.items), gitFiles(repo, current().commit), 'the current state');
    assert.ok(now.items.length > BULK, `${now.items.length} files`);
    assert.ok(now.pages > 1, `a listing of ${now.items.length} files takes more than one page (output is bounded); it took ${now.pages}`);
    assert.equal(now.first.at, current().syncId, 'the state read is named');

    for (const state of states.slice(0, 3)) {
      const then = await collect(client, 'list_files', { project: project.id, at: state.syncId }, 'files');
      assert.deepEqual(files(then.items), gitFiles(repo, state.commit), `at ${state.syncId}`);
      assert.equal(then.first.at, state.syncId);
    }
    for (const [prefix, state] of [['docs/', current()], ['docs/ünïcödé/', states[1]], ['docs/ünïcödé/', states[2]], ['bulk/f01', current()], ['src/', states[0]]]) {
      const got = await collect(client, 'list_files', { project: project.id, prefix, at: state.syncId }, 'files');
      const want = gitFiles(repo, state.commit).filter((f) => f.path.startsWith(prefix));
      assert.ok(want.length > 0, prefix);
      assert.deepEqual(files(got.items), want, `prefix ${prefix} at ${state.syncId}`);
    }
    const rest = await alice.files(project.id, { at: states[1].syncId });
    const mine = await collect(client, 'list_files', { project: project.id, at: states[1].syncId }, 'files');
    assert.deepEqual(files(mine.items), files(rest), 'the REST API lists the same');
  });
});

test('read_file: whole, a range, at an earlier sync after the branch moved; a binary described; unicode paths', async () => {
  const client = await mcp();
  await noGitHub('read_file', async () => {
    for (const p of ['README.md', 'src/app.js', 'lib/util.js', UNICODE_RENAMED, 'many/lines.txt', 'src/empty.txt']) {
      const want = gitBlob(repo, current().commit, p);
      const got = await callOk(client, 'read_file', { project: project.id, path: p });
      const lines = splitLines(want.text).length;
      assert.equal(got.text, want.text, `${p}: the text git cat-file gives`);
      assert.equal(got.sha, want.sha, p);
      assert.equal(got.path, p);
      assert.equal(got.at, current().syncId);
      assert.equal(got.totalLines, lines, `${p}: lines`);
      assert.equal(got.startLine, 1, p);
      assert.equal(got.endLine, lines, p);
      assert.equal(got.truncated, undefined, `${p}: not cut`);
      const rest = await alice.get(`/api/v1/projects/${project.id}/files/content?path=${encodeURIComponent(p)}`);
      assert.equal(rest.text, got.text, `${p}: the REST API serves the same text`);
      assert.equal(rest.headers.get('etag'), `"${got.sha}"`);
    }

    const many = splitLines(gitBlob(repo, current().commit, 'many/lines.txt').text);
    for (const [startLine, endLine] of [[3, 5], [1, 1], [5190, 5200], [5195, 9999], [4000, undefined]]) {
      const args = { project: project.id, path: 'many/lines.txt', startLine, ...(endLine ? { endLine } : {}) };
      const got = await callOk(client, 'read_file', args);
      const last = Math.min(endLine ?? many.length, many.length);
      assert.equal(got.text, many.slice(startLine - 1, last).join(''), JSON.stringify(args));
      assert.deepEqual([got.startLine, got.endLine, got.totalLines], [startLine, last, many.length], JSON.stringify(args));
    }

    // The branch moved on three times since the first sync: its state still reads as git had it.
    for (const [p, state] of [['README.md', states[0]], ['src/util.js', states[0]], ['docs/guide.md', states[0]], [UNICODE, states[1]], ['many/lines.txt', states[1]]]) {
      const want = gitBlob(repo, state.commit, p);
      const got = await callOk(client, 'read_file', { project: project.id, path: p, at: state.syncId });
      assert.equal(got.text, want.text, `${p} at ${state.syncId}`);
      assert.equal(got.sha, want.sha);
      assert.equal(got.at, state.syncId);
    }
    const range = await callOk(client, 'read_file', { project: project.id, path: 'README.md', at: states[0].syncId, startLine: 3, endLine: 4 });
    assert.equal(range.text, splitLines(gitBlob(repo, states[0].commit, 'README.md').text).slice(2, 4).join(''));

    for (const state of [states[0], current()]) {
      const want = gitBlob(repo, state.commit, 'assets/logo.bin');
      const got = await callOk(client, 'read_file', { project: project.id, path: 'assets/logo.bin', at: state.syncId });
      assert.equal(got.text, undefined, 'no bytes of a binary file');
      assert.equal(got.sha, want.sha);
      assert.equal(got.size, want.bytes.length);
      assert.equal(got.kind, 'file');
      assert.equal(got.skipped, 'binary', 'it says why there is no text');
    }
    const link = await callOk(client, 'read_file', { project: project.id, path: 'link-to-readme' });
    assert.equal(link.kind, 'symlink');
    assert.equal(link.sha, gitBlob(repo, current().commit, 'link-to-readme').sha);
  });
});

test('read_file: a text over 256 KiB is cut at whole lines with a note and the next line; following it gives the text back', async () => {
  const client = await mcp();
  await noGitHub('read_file of a long text', async () => {
    for (const state of [states[0], current()]) {
      const want = gitBlob(repo, state.commit, 'big/long.txt');
      const lines = splitLines(want.text);
      assert.ok(want.bytes.length > 2 * MAX_READ_BYTES, 'the fixture is over two bounds long');
      const pieces = [];
      let startLine = 1;
      for (let calls = 0; ; calls++) {
        assert.ok(calls < 10, 'the ranges come to an end');
        const got = await callOk(client, 'read_file', { project: project.id, path: 'big/long.txt', at: state.syncId, ...(startLine > 1 ? { startLine } : {}) });
        assert.equal(got.sha, want.sha);
        assert.equal(got.totalLines, lines.length);
        assert.equal(got.startLine, startLine);
        assert.ok(Buffer.byteLength(got.text) <= MAX_READ_BYTES, `${Buffer.byteLength(got.text)} bytes in one answer`);
        assert.equal(got.text, lines.slice(startLine - 1, got.endLine).join(''), `lines ${startLine}-${got.endLine} as git has them`);
        pieces.push(got.text);
        if (got.endLine === lines.length) {
          assert.equal(got.truncated, undefined, 'the last range is not cut');
          break;
        }
        assert.ok(got.truncated, `cut at line ${got.endLine} of ${lines.length}: says so`);
        assert.equal(got.truncated.nextStartLine, got.endLine + 1, 'the range to ask for next');
        assert.ok(typeof got.truncated.note === 'string' && got.truncated.note.length > 0, 'with a note');
        assert.ok(got.text.endsWith('\n'), 'cut at a whole line');
        assert.ok(Buffer.byteLength(got.text) > MAX_READ_BYTES - 200, 'and filled to the bound');
        startLine = got.truncated.nextStartLine;
      }
      assert.ok(pieces.length >= 3, `${pieces.length} ranges`);
      assert.equal(pieces.join(''), want.text, 'the ranges put together are the text git has');
    }
  });
});

test('search_text: hits with the path, lines that hold the word and an excerpt; at an earlier sync too', async () => {
  const client = await mcp();
  const check = (hits, state, word) => {
    const want = gitGrep(state.commit, word);
    assert.deepEqual([...new Set(hits.map((h) => h.path))].sort(byteCompare), want, `${word} at ${state.syncId}: the files git grep finds`);
    for (const hit of hits) {
      const blob = gitBlob(repo, state.commit, hit.path);
      const ctx = `${word}: ${JSON.stringify(hit).slice(0, 300)}`;
      assert.equal(hit.sha, blob.sha, ctx);
      assert.ok(Number.isInteger(hit.startLine) && hit.startLine >= 1 && hit.endLine >= hit.startLine, ctx);
      const range = splitLines(blob.text).slice(hit.startLine - 1, hit.endLine);
      assert.ok(range.some((l) => l.toLowerCase().includes(word)), `${ctx}: the lines named hold the word`);
      assert.ok(hit.excerpt.toLowerCase().includes(word), `${ctx}: the excerpt shows it`);
      const bare = hit.excerpt.replace(/…/g, '');
      assert.ok(range.some((l) => l.includes(bare)), `${ctx}: the excerpt is the text of the line`);
      assert.ok([...hit.excerpt].length <= 500, `${ctx}: a short excerpt`);
    }
  };
  await noGitHub('search_text', async () => {
    const now = await collect(client, 'search_text', { project: project.id, query: W.everywhere }, 'hits');
    assert.equal(now.first.at, current().syncId);
    check(now.items, current(), W.everywhere);
    assert.ok(now.items.some((h) => h.path === 'big/long.txt' && h.startLine === 3001), 'the word deep in the long text, on its line');
    assert.ok(now.items.some((h) => h.path === UNICODE_RENAMED), 'in any case, under a unicode path');
    const memory = await alice.listAll(`/api/v1/projects/${project.id}/memory?q=${W.everywhere}`);
    assert.deepEqual([...new Set(now.items.map((h) => h.path))].sort(byteCompare), [...new Set(memory.map((m) => m.path))].sort(byteCompare), 'the REST memory search finds the same files');

    const gone = await collect(client, 'search_text', { project: project.id, query: W.first }, 'hits');
    assert.deepEqual(gone.items, [], `${W.first} left the README in the second commit`);
    const then = await collect(client, 'search_text', { project: project.id, query: W.first, at: states[0].syncId }, 'hits');
    assert.equal(then.first.at, states[0].syncId);
    check(then.items, states[0], W.first);
    assert.deepEqual(then.items.map((h) => [h.path, h.startLine]), [['README.md', 4]]);
    const before = await collect(client, 'search_text', { project: project.id, query: W.everywhere, at: states[1].syncId }, 'hits');
    check(before.items, states[1], W.everywhere);
    assert.ok(before.items.some((h) => h.path === UNICODE), 'the unicode note under its name before the rename');
  });
});

test('get_changes and compare: git diff -M --raw between the right commits, renames as renames', async () => {
  const client = await mcp();
  await noGitHub('get_changes, compare', async () => {
    for (const [i, state] of states.entries()) {
      const { items } = await collect(client, 'get_changes', { sync: state.syncId }, 'changes');
      const want = gitChanges(repo, i === 0 ? EMPTY_TREE : states[i - 1].commit, state.commit);
      assertChanges(items, want, `get_changes of sync ${i}`);
      const rest = await alice.listAll(`/api/v1/syncs/${state.syncId}/changes`);
      assertChanges(rest, want, `REST changes of sync ${i}`);
    }
    const renames = gitChanges(repo, states[0].commit, states[2].commit).filter((c) => c.change === 'renamed');
    assert.deepEqual(renames.map((c) => [c.previousPath, c.path]), [['src/util.js', 'lib/util.js'], [UNICODE, UNICODE_RENAMED]].sort((a, b) => byteCompare(a[1], b[1])), 'the fixture renames');

    const cases = [
      [{ from: states[0].syncId, to: states[2].syncId }, states[0].commit, states[2].commit],
      [{ from: states[2].syncId, to: states[0].syncId }, states[2].commit, states[0].commit],
      [{ from: states[0].syncId }, states[0].commit, current().commit],
      [{ to: states[2].syncId }, states[1].commit, states[2].commit],
      [{}, states[2].commit, current().commit],
      [{ from: current().syncId, to: current().syncId }, current().commit, current().commit],
    ];
    for (const [args, a, b] of cases) {
      const { items } = await collect(client, 'compare', { project: project.id, ...args }, 'changes');
      assertChanges(items, gitChanges(repo, a, b), `compare ${JSON.stringify(args)}`);
    }
    const rest = await alice.listAll(`/api/v1/projects/${project.id}/compare?from=${states[0].syncId}&to=${states[2].syncId}`);
    const { items } = await collect(client, 'compare', { project: project.id, from: states[0].syncId, to: states[2].syncId }, 'changes');
    assertChanges(items, gitChanges(repo, states[0].commit, states[2].commit), 'compare');
    assert.deepEqual(items.map((c) => c.path).sort(byteCompare), rest.map((c) => c.path).sort(byteCompare), 'the REST API compares the same');
  });
});

test('file_history: every version of a path with the sync that brought it and the one that replaced it', async () => {
  const client = await mcp();
  /** The versions git shows across the synced commits, newest first. */
  const expected = (p) => {
    const versions = [];
    let last = null;
    for (const state of states) {
      const sha = blobAt(state.commit, p);
      if (sha === last) continue;
      if (versions.length && last) versions[versions.length - 1].supersededBySyncId = state.syncId;
      if (sha) versions.push({ sha, syncId: state.syncId, supersededBySyncId: null });
      last = sha;
    }
    return versions.reverse();
  };
  await noGitHub('file_history', async () => {
    for (const p of ['README.md', 'docs/guide.md', 'lib/util.js', UNICODE, 'many/lines.txt', 'big/long.txt', 'bulk/f0007.txt', 'src/empty.txt']) {
      const { items } = await collect(client, 'file_history', { project: project.id, path: p }, 'versions');
      const want = expected(p);
      assert.ok(want.length > 0, p);
      assert.deepEqual(
        items.map((v) => ({ sha: v.sha, syncId: v.syncId, supersededBySyncId: v.supersededBySyncId ?? null })),
        want,
        `${p}: every version, newest first`,
      );
      for (const v of items) assert.equal(v.path, p);
      const rest = await alice.listAll(`/api/v1/projects/${project.id}/files/history?path=${encodeURIComponent(p)}`);
      assert.deepEqual(items.map((v) => v.sha), rest.map((v) => v.sha), `${p}: as the REST API lists it`);
    }
    assert.equal(expected('README.md').length, 3, 'the README changed in the second and the fourth commit');
  });
});

test('resources: the two file templates; resources/read gives the text of a file now and right after a sync', async () => {
  const client = await mcp();
  await noGitHub('resources', async () => {
    const { resourceTemplates } = await client.listResourceTemplates();
    assert.deepEqual(resourceTemplates.map((t) => t.uriTemplate).sort(), [
      'project-sync://projects/{project}/files/{+path}',
      'project-sync://projects/{project}/syncs/{sync}/files/{+path}',
    ]);
    const encode = (p) => p.split('/').map(encodeURIComponent).join('/');
    const cases = [
      [`project-sync://projects/${project.id}/files/README.md`, current().commit, 'README.md'],
      [`project-sync://projects/${project.id}/syncs/${states[0].syncId}/files/README.md`, states[0].commit, 'README.md'],
      [`project-sync://projects/${project.id}/files/${encode(UNICODE_RENAMED)}`, current().commit, UNICODE_RENAMED],
      [`project-sync://projects/${project.id}/syncs/${states[1].syncId}/files/${encode(UNICODE)}`, states[1].commit, UNICODE],
    ];
    for (const [uri, commit, p] of cases) {
      const { contents } = await client.readResource({ uri });
      assert.equal(contents.length, 1, uri);
      assert.equal(contents[0].text, gitBlob(repo, commit, p).text, uri);
    }
    await assert.rejects(client.readResource({ uri: `project-sync://projects/${project.id}/files/no/such/file.md` }), (e) => {
      assert.ok(e instanceof McpError, `${e?.name}: ${e?.message}`);
      return true;
    });
  });
});

test('a wrong argument is JSON-RPC -32602 naming it', async () => {
  const client = await mcp();
  const cases = [
    ['list_files', {}, 'project'],
    ['read_file', { project: project.id }, 'path'],
    ['list_syncs', { project: project.id, limit: 5 }, 'limit'],
    ['read_file', { project: project.id, path: 'README.md', startLine: 0 }, 'startLine'],
    ['read_file', { project: project.id, path: 'README.md', startline: 2 }, 'startline'],
    ['search_text', { project: project.id }, 'query'],
    ['restore', { project: project.id }, 'sync'],
    ['start_sync', { project: project.id, dryRun: 'yes' }, 'dryRun'],
    ['drop_tables', {}, 'drop_tables'],
  ];
  await noGitHub('refused arguments', async () => {
    for (const [name, args, field] of cases) {
      const e = await callRejected(client, name, args);
      assert.equal(e.code, INVALID_PARAMS, `${name} ${JSON.stringify(args)}: ${e.message}`);
      assert.ok(e.message.includes(field), `${name} ${JSON.stringify(args)}: the message names ${field}: ${e.message}`);
    }
  });
  assert.deepEqual((await alice.listAll(`/api/v1/projects/${project.id}/syncs`)).length, states.length, 'nothing was started');
});

test("another user's project or sync is the same not-found tool error as one that does not exist", async () => {
  const { client } = await connect(bob);
  assert.deepEqual((await callOk(client, 'list_projects')).projects, [], 'bob has no project');
  const s1 = states[0].syncId;
  const byProject = {
    list_syncs: {},
    list_files: {},
    read_file: { path: 'README.md' },
    search_text: { query: W.everywhere },
    compare: {},
    file_history: { path: 'README.md' },
    start_sync: {},
    restore: { sync: s1 },
  };
  const bySync = { get_sync: {}, get_changes: {}, cancel_sync: {} };
  for (const [name, extra] of Object.entries(byProject)) {
    const theirs = await callRefused(client, name, { project: project.id, ...extra });
    const none = await callRefused(client, name, { project: NO_SUCH, ...extra });
    assert.match(theirs, /not found/i, `${name}: ${theirs}`);
    assert.equal(theirs.replaceAll(project.id, '<id>'), none.replaceAll(NO_SUCH, '<id>'), `${name}: nothing tells the two apart`);
  }
  for (const [name, extra] of Object.entries(bySync)) {
    const theirs = await callRefused(client, name, { sync: s1, ...extra });
    const none = await callRefused(client, name, { sync: NO_SUCH, ...extra });
    assert.match(theirs, /not found/i, `${name}: ${theirs}`);
    assert.equal(theirs.replaceAll(s1, '<id>'), none.replaceAll(NO_SUCH, '<id>'), `${name}: nothing tells the two apart`);
  }
  // Alice's own calls with an end of another project: not found either.
  const alices = await mcp();
  assert.match(await callRefused(alices, 'read_file', { project: project.id, path: 'README.md', at: NO_SUCH }), /not found/i);
  assert.match(await callRefused(alices, 'read_file', { project: project.id, path: 'no/such/file.md' }), /not found/i);
  assert.equal((await alice.listAll(`/api/v1/projects/${project.id}/syncs`)).length, states.length, "bob started nothing on alice's project");
});

// ---------------------------------------------------------------------------------------------
// The tools that change state (in order: each builds on the last)
// ---------------------------------------------------------------------------------------------

test('start_sync with dryRun reports what would change and changes nothing', async () => {
  const client = await mcp();
  repo.write('notes/fifth.md', unique('fifth'));
  repo.write('src/app.js', `export const answer = 43;\n${unique('app5')}`);
  fifth = repo.commit('fifth');
  const started = await callOk(client, 'start_sync', { project: project.id, dryRun: true });
  assert.equal(typeof started.follow, 'string');
  assert.ok(started.follow.length > 0, 'says how to follow it');
  const done = await waitSyncMcp(client, started.sync.id);
  assert.equal(done.status, 'COMPLETE', JSON.stringify(done));
  const { items } = await collect(client, 'get_changes', { sync: done.id }, 'changes');
  assertChanges(items, gitChanges(repo, current().commit, fifth), 'the dry run reports git diff -M to the new head');
  const { projects } = await callOk(client, 'list_projects');
  assert.equal(projects[0].currentSyncId, current().syncId, 'the current state did not move');
  const now = await collect(client, 'list_files', { project: project.id }, 'files');
  assert.deepEqual(files(now.items), gitFiles(repo, current().commit), 'the files are what they were');
});

test('start_sync syncs the branch; get_sync follows it to the commit git has', async () => {
  const client = await mcp();
  const started = await callOk(client, 'start_sync', { project: project.id });
  assert.equal(typeof started.follow, 'string');
  assert.equal(started.sync.projectId, project.id);
  const done = await waitSyncMcp(client, started.sync.id);
  assert.equal(done.status, 'COMPLETE', JSON.stringify(done));
  assert.equal(done.commitSha, fifth);
  states.push({ commit: fifth, syncId: done.id });
  await noGitHub('reads after a sync', async () => {
    const now = await collect(client, 'list_files', { project: project.id }, 'files');
    assert.deepEqual(files(now.items), gitFiles(repo, current().commit));
    const { items } = await collect(client, 'get_changes', { sync: done.id }, 'changes');
    assertChanges(items, gitChanges(repo, states[states.length - 2].commit, current().commit), 'its changes');
    const { syncs } = await callOk(client, 'list_syncs', { project: project.id });
    assert.equal(syncs[0].id, done.id, 'newest first');
  });
});

test('while a sync runs: reads answer the state before it, a second start and a restore are refused, cancel_sync ends it', async () => {
  const client = await mcp();
  repo.write('notes/sixth.md', unique('sixth'));
  repo.commit('sixth');
  const slow = 6000;
  const started = Date.now();
  world.emulator.injectFault({ kind: 'delay', route: 'tree', ms: slow, times: 1 });
  try {
    const { sync } = await callOk(client, 'start_sync', { project: project.id });
    const again = await callRefused(client, 'start_sync', { project: project.id });
    assert.doesNotMatch(again, /not found/i, `refused because one runs: ${again}`);
    await callRefused(client, 'restore', { project: project.id, sync: states[0].syncId });
    const mid = await callOk(client, 'get_sync', { sync: sync.id });
    assert.ok(!['COMPLETE', 'FAILED', 'CANCELLED'].includes(mid.status), `still running: ${mid.status}`);
    const readme = await callOk(client, 'read_file', { project: project.id, path: 'README.md' });
    assert.equal(readme.text, gitBlob(repo, current().commit, 'README.md').text, 'the current state, not the one being synced');
    assert.equal(readme.at, current().syncId);

    const cancelled = await callOk(client, 'cancel_sync', { sync: sync.id });
    assert.equal(cancelled.id, sync.id);
    const done = await waitSyncMcp(client, sync.id);
    assert.equal(done.status, 'CANCELLED', JSON.stringify(done));
    const now = await collect(client, 'list_files', { project: project.id }, 'files');
    assert.deepEqual(files(now.items), gitFiles(repo, current().commit), 'a cancelled sync changed nothing');
    assert.equal((await callOk(client, 'list_projects')).projects[0].currentSyncId, current().syncId);

    const finished = await callRefused(client, 'cancel_sync', { sync: sync.id });
    assert.doesNotMatch(finished, /not found/i, `a finished sync is not a missing one: ${finished}`);
    await callRefused(client, 'cancel_sync', { sync: states[0].syncId });
    // The slowed request is counted when it is answered: let it land before the next test counts.
    await sleep(Math.max(0, started + slow + 500 - Date.now()));
    for (let last = -1; last !== githubRequests(); ) {
      last = githubRequests();
      await sleep(1000);
    }
  } finally {
    world.emulator.clearFaults();
  }
});

test('restore makes the state right after an earlier sync current again, without GitHub', async () => {
  const client = await mcp();
  const target = states[0];
  const done = await noGitHub('restore', async () => {
    const started = await callOk(client, 'restore', { project: project.id, sync: target.syncId });
    assert.equal(typeof started.follow, 'string');
    return waitSyncMcp(client, started.sync.id);
  });
  assert.equal(done.status, 'COMPLETE', JSON.stringify(done));
  assert.equal(done.kind, 'restore');
  await noGitHub('reads after a restore', async () => {
    const now = await collect(client, 'list_files', { project: project.id }, 'files');
    assert.deepEqual(files(now.items), gitFiles(repo, target.commit), 'the files of the first state, as git ls-tree has them');
    for (const p of ['README.md', 'docs/guide.md', 'src/util.js', UNICODE]) {
      const got = await callOk(client, 'read_file', { project: project.id, path: p });
      assert.equal(got.text, gitBlob(repo, target.commit, p).text, `${p} is back`);
    }
    const { projects } = await callOk(client, 'list_projects');
    assert.equal(projects[0].currentSyncId, done.id);
    const hits = await collect(client, 'search_text', { project: project.id, query: W.first }, 'hits');
    assert.deepEqual(hits.items.map((h) => h.path), ['README.md'], 'search reads the restored state');
  });
});
