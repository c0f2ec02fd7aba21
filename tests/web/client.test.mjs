// The JavaScript client (web/client/project-sync.js) against the OpenAPI document it is
// for: every operation is a method with the document's method, path, query and body; the
// declarations (project-sync.d.ts) are what the document makes, and they type-check real
// uses (tsc --strict). Run: node --test tests/web/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPERATIONS, NOT_METHODS, createClient, parseEvents } from '../../web/client/project-sync.js';
import { operations, render } from '../../scripts/gen-client-types.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const doc = JSON.parse(fs.readFileSync(path.join(root, 'web', 'openapi.json'), 'utf8'));

test('every operation of the OpenAPI document is a client method, as the document describes it', () => {
  const documented = operations(doc);
  const table = new Map(OPERATIONS.map((o) => [o[0], o]));
  for (const op of documented) {
    if (op.id in NOT_METHODS) continue;
    const row = table.get(op.id);
    assert.ok(row, `${op.id} (${op.method} ${op.path}) has no client method`);
    const [, method, p, query, takesBody, answer] = row;
    assert.equal(method, op.method, `${op.id}: method`);
    assert.equal(p, op.path, `${op.id}: path`);
    assert.deepEqual([...query].sort(), op.query.map((q) => q.name).sort(), `${op.id}: query parameters`);
    assert.equal(takesBody, op.body !== null, `${op.id}: JSON body`);
    assert.equal(answer, op.answer, `${op.id}: what it answers`);
  }
  const ids = new Set(documented.map((o) => o.id));
  for (const [id] of OPERATIONS) assert.ok(ids.has(id), `${id} is not in the OpenAPI document`);
  for (const id of Object.keys(NOT_METHODS)) assert.ok(ids.has(id), `${id} (not a method) is not in the document`);
  const client = createClient({ baseUrl: 'http://x' });
  for (const [id] of OPERATIONS) assert.equal(typeof client[id], 'function', id);
});

test('project-sync.d.ts is what the OpenAPI document makes, and it types real uses', () => {
  const committed = fs.readFileSync(path.join(root, 'web', 'client', 'project-sync.d.ts'), 'utf8');
  assert.equal(committed, render(doc, NOT_METHODS), 'run node scripts/gen-client-types.mjs');
  const tsc = path.join(root, 'node_modules', '.bin', 'tsc');
  const args = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'es2022', '--moduleResolution', 'bundler', '--lib', 'es2022,dom', '--skipLibCheck', 'false'];
  execFileSync(tsc, [...args, path.join(root, 'tests', 'web', 'client-usage.ts')], { cwd: root, stdio: 'pipe' });
});

test('methods build the request the operation needs', async () => {
  const seen = [];
  const fetch = async (url, init) => {
    seen.push({ url, init });
    return new Response(JSON.stringify({ items: [], nextCursor: null }), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  const ps = createClient({ baseUrl: 'https://sync.example.com/', token: 'psk_t', fetch });
  await ps.listFiles('p 1', { prefix: 'src/', at: 's-2', limit: 5, ignored: true });
  await ps.updateProject('p1', { exclude: ['vendor/'] });
  await ps.deleteHook('p1', 'h/1');
  assert.equal(seen[0].url, 'https://sync.example.com/api/v1/projects/p%201/files?prefix=src%2F&at=s-2&limit=5');
  assert.equal(seen[0].init.headers.authorization, 'Bearer psk_t');
  assert.equal(seen[1].init.method, 'PATCH');
  assert.equal(seen[1].init.body, '{"exclude":["vendor/"]}');
  assert.equal(seen[2].url, 'https://sync.example.com/api/v1/projects/p1/hooks/h%2F1');
  assert.throws(() => ps.getProject(), /projectId/);
  const failing = createClient({ fetch: async () => new Response('{"error":{"code":"not_found","message":"project not found"}}', { status: 404 }) });
  await assert.rejects(failing.getProject('x'), (e) => e.name === 'ProjectSyncError' && e.code === 'not_found' && e.status === 404);
});

test('parseEvents reads server-sent events, keeps what is unfinished, skips comments', () => {
  const { events, rest } = parseEvents(': keep-alive\n\nid: 1\nevent: progress\ndata: {"progress":5}\n\nid: 2\nevent: comp');
  assert.deepEqual(events, [{ id: '1', event: 'progress', data: { progress: 5 } }]);
  assert.equal(rest, 'id: 2\nevent: comp');
  const more = parseEvents(`${rest}lete\ndata: {"progress":100}\r\n\r\n`);
  assert.deepEqual(more.events, [{ id: '2', event: 'complete', data: { progress: 100 } }]);
});

test('clients/js packs the served module and its types, with exports and types', () => {
  const dir = path.join(root, 'clients', 'js');
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--loglevel=error'], { cwd: dir, encoding: 'utf8' });
  const [packed] = JSON.parse(out);
  assert.deepEqual(packed.files.map((f) => f.path).sort(), ['README.md', 'package.json', 'project-sync.d.ts', 'project-sync.js']);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  assert.deepEqual(pkg.exports['.'], { types: './project-sync.d.ts', default: './project-sync.js' });
  assert.equal(pkg.types, './project-sync.d.ts');
  for (const file of ['project-sync.js', 'project-sync.d.ts']) {
    assert.equal(fs.readFileSync(path.join(dir, file), 'utf8'), fs.readFileSync(path.join(root, 'web', 'client', file), 'utf8'), `${file} is the served one`);
  }
});

test('watchSync: an error of the caller\'s handler is the caller\'s; an event that is not JSON is skipped', async () => {
  const stream = (text) => new Response(text, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  const body = 'id: 1\nevent: progress\ndata: {not json\n\nid: 2\nevent: progress\ndata: {"progress":50}\n\nid: 3\nevent: complete\ndata: {"progress":100}\n\n';
  const ps = createClient({ baseUrl: 'http://x', fetch: async () => stream(body) });
  const seen = [];
  const last = await ps.watchSync('s1', { eventsUrl: '/api/v1/events/project-sync/s1?access_token=t', onEvent: (e) => seen.push(e.id) });
  assert.equal(last.event, 'complete');
  assert.deepEqual(seen, ['2', '3'], 'the malformed event is skipped, the rest arrive once');
  const boom = new Error('handler failed');
  await assert.rejects(
    ps.watchSync('s1', { eventsUrl: '/e', onEvent: () => { throw boom; } }),
    (e) => e === boom,
    'the handler\'s own error reaches the caller at once',
  );
});

test('watchSync says when it reconnects: a dropped stream and a refused token, then open again', async () => {
  const stream = (text) => new Response(text, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  const answers = [
    () => { throw new TypeError('connection reset'); },
    () => new Response('{"error":{"code":"unauthorized","message":"expired"}}', { status: 401 }),
    () => new Response(JSON.stringify({ eventsUrl: '/api/v1/events/project-sync/s1?access_token=fresh' }), { status: 200 }),
    () => stream('id: 1\nevent: progress\ndata: {"progress":50}\n\n'),
    () => stream('id: 2\nevent: complete\ndata: {"progress":100}\n\n'),
  ];
  const urls = [];
  const ps = createClient({ baseUrl: 'http://x', fetch: async (url) => (urls.push(String(url)), answers.shift()()) });
  const seen = [];
  const last = await ps.watchSync('s1', {
    eventsUrl: '/api/v1/events/project-sync/s1?access_token=old',
    onEvent: (e) => seen.push(`event ${e.id}`),
    onConnection: (state) => seen.push(state),
  });
  assert.equal(last.event, 'complete');
  assert.deepEqual(seen, ['reconnecting', 'reconnecting', 'open', 'event 1', 'reconnecting', 'open', 'event 2']);
  assert.match(urls[2], /\/api\/v1\/syncs\/s1\/events-url$/, 'a refused stream token is replaced');
  assert.match(urls[3], /access_token=fresh/);
});
