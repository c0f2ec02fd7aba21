// Foundation acceptance: health, users, projects, branches, a first and a second sync
// checked against git, re-sync, changes, history, isolation between users, 401/404s,
// PATCH and DELETE. One world (emulator + wrangler dev) for the whole file; the tests run
// in order and build on each other.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startWorld,
  worldTest,
  userClient,
  makeStandardRepo,
  STANDARD_PATHS as P,
  assertError,
  assertEventStream,
  assertProjectShape,
  assertSyncShape,
  assertChanges,
  expectedFiles,
  expectedCounts,
  expectedChanges,
  fileShape,
  gitBranches,
  byteCompare,
  ZERO_COUNTS,
} from '../support/harness.mjs';

let world;
let repo;
let alice;
let bob;
const s = {}; // state shared by the ordered tests

const test = worldTest(() => world);

before(async () => {
  world = await startWorld();
  repo = makeStandardRepo(world.root);
});

after(async () => {
  await world?.stop();
});

test('GET /healthz answers 200 {ok, version} without authentication', async () => {
  const res = await world.api('GET', '/healthz');
  assert.equal(res.status, 200);
  assert.equal(res.json.ok, true);
  assert.equal(typeof res.json.version, 'string');
  assert.ok(res.json.version.length > 0);
});

test('POST /api/v1/users needs the admin token and a valid body', async () => {
  const body = { name: 'alice' };
  assertError(await world.api('POST', '/api/v1/users', { body }), 401, 'unauthorized', 'no token');
  assertError(await world.api('POST', '/api/v1/users', { body, token: 'wrong-' + world.adminToken }), 401, 'unauthorized', 'wrong token');
  assertError(await world.api('POST', '/api/v1/users', { body, token: world.adminToken.slice(0, -1) }), 401, 'unauthorized', 'prefix of the token');

  for (const bad of [{}, { name: '' }, { name: 42 }, '{not json', '[]']) {
    const err = assertError(await world.api('POST', '/api/v1/users', { body: bad, token: world.adminToken, headers: { 'content-type': 'application/json' } }), 400, 'invalid_request', `body ${JSON.stringify(bad)}`);
    assert.ok(err.message.length > 3);
  }

  const res = await world.api('POST', '/api/v1/users', { body, token: world.adminToken });
  assert.equal(res.status, 201, res.text);
  assert.equal(res.json.name, 'alice');
  assert.equal(typeof res.json.id, 'string');
  assert.equal(typeof res.json.token, 'string');
  assert.ok(res.json.token.length >= 16, 'a real token');
  // The token works.
  const list = await world.api('GET', '/api/v1/projects', { token: res.json.token });
  assert.equal(list.status, 200, list.text);
  alice = userClient(world, res.json);
  bob = await world.createUser('bob');
  assert.notEqual(bob.token, alice.token);
  assert.notEqual(bob.id, alice.id);
});

test('POST /api/v1/projects validates fields and asks GitHub about the repository and branch', async () => {
  const create = (body) => alice.post('/api/v1/projects', body);
  const field = (err, f) => assert.ok(err.field === f || err.message.includes(f), `the error names ${f}: ${JSON.stringify(err)}`);

  field(assertError(await create({ repository: 'acme/widgets' }), 400, 'invalid_request', 'no name'), 'name');
  field(assertError(await create({ name: 'w' }), 400, 'invalid_request', 'no repository'), 'repository');
  field(assertError(await create({ name: 'w', repository: 'not-a-repo' }), 400, 'invalid_request', 'bad repository'), 'repository');
  field(assertError(await create({ name: 'w', repository: 'acme/widgets', tracked: 'yes' }), 400, 'invalid_request', 'bad tracked'), 'tracked');
  field(assertError(await create({ name: 'w', repository: 'acme/widgets', branch: 7 }), 400, 'invalid_request', 'bad branch'), 'branch');
  assertError(await alice.api('POST', '/api/v1/projects', { body: '{oops', headers: { 'content-type': 'application/json' } }), 400, 'invalid_request', 'not JSON');

  assertError(await create({ name: 'w', repository: 'acme/no-such-repo' }), 422, 'github_error', 'unknown repository');
  assertError(await create({ name: 'w', repository: 'nobody/widgets' }), 422, 'github_error', 'unknown owner');
  assertError(await create({ name: 'w', repository: 'acme/widgets', branch: 'no-such-branch' }), 422, 'github_error', 'unknown branch');

  // No branch: the repository's default branch.
  const res = await create({ name: 'Widgets', repository: 'acme/widgets' });
  assert.equal(res.status, 201, res.text);
  const p = res.json;
  assertProjectShape(p);
  assert.equal(p.name, 'Widgets');
  assert.equal(p.repository, 'acme/widgets');
  assert.equal(p.branch, 'main');
  assert.equal(p.tracked, false);
  assert.equal(p.currentSyncId, null);
  assert.equal(p.currentCommitSha, null);
  s.project = p;

  // A branch with slashes, and a project token that is never returned.
  const rel = await create({ name: 'Release', repository: 'acme/widgets', branch: 'release/2026/q4', tracked: true, githubToken: 'ghp_projectToken123' });
  assert.equal(rel.status, 201, rel.text);
  assertProjectShape(rel.json);
  assert.equal(rel.json.branch, 'release/2026/q4');
  assert.equal(rel.json.tracked, true);
  assert.ok(!rel.text.includes('ghp_projectToken123'), 'the stored token never comes back');
  s.releaseProject = rel.json;

  const got = await alice.getJson(`/api/v1/projects/${p.id}`);
  assert.deepEqual(got, p);
});

test('GET /api/v1/projects is paginated and shows only the caller\'s projects', async () => {
  const lib = await alice.createProject({ name: 'Lib', repository: 'acme/widget-lib' });
  assert.equal(lib.branch, 'main');
  s.libProject = lib;
  const all = await alice.listAll('/api/v1/projects', { limit: 1 });
  assert.deepEqual(all.map((p) => p.id).sort(), [s.project.id, s.releaseProject.id, lib.id].sort());
  all.forEach(assertProjectShape);
  const first = await alice.getJson('/api/v1/projects?limit=2');
  assert.equal(first.items.length, 2);
  assert.equal(typeof first.nextCursor, 'string');
  const whole = await alice.getJson('/api/v1/projects');
  assert.equal(whole.items.length, 3);
  assert.equal(whole.nextCursor, null);
  assert.deepEqual(await bob.listAll('/api/v1/projects'), []);
  assertError(await alice.get('/api/v1/projects?limit=0'), 400, 'invalid_request', 'limit=0');
  assertError(await alice.get('/api/v1/projects?limit=501'), 400, 'invalid_request', 'limit=501');
  assertError(await alice.get('/api/v1/projects?cursor=garbage!!'), 400, 'invalid_request', 'bad cursor');
});

test('GET /projects/{id}/branches lists every branch across GitHub\'s pages (121)', async () => {
  const want = gitBranches(repo);
  assert.equal(want.length, 121, 'fixture has 121 branches');
  const page1 = await alice.getJson(`/api/v1/projects/${s.project.id}/branches?limit=50`);
  assert.equal(page1.items.length, 50);
  assert.equal(typeof page1.nextCursor, 'string');
  const got = await alice.listAll(`/api/v1/projects/${s.project.id}/branches`, { limit: 50 });
  assert.equal(got.length, 121);
  for (const b of got) assert.equal(typeof b.protected, 'boolean', JSON.stringify(b));
  assert.deepEqual(got.map((b) => ({ name: b.name, commitSha: b.commitSha })).sort((a, b) => byteCompare(a.name, b.name)), want);
  const all = await alice.listAll(`/api/v1/projects/${s.project.id}/branches`, { limit: 500 });
  assert.equal(all.length, 121);
});

test('a first sync answers 202 and its event stream runs in order to exactly one complete', async () => {
  const t0 = Date.now();
  const res = await alice.post(`/api/v1/projects/${s.project.id}/syncs`, {});
  assert.equal(res.status, 202, res.text);
  assert.ok(Date.now() - t0 < 10_000, 'returns at once');
  const { sync, eventsUrl } = res.json;
  assertSyncShape(sync);
  assert.equal(sync.projectId, s.project.id);
  assert.equal(sync.kind, 'sync');
  assert.equal(sync.trigger, 'api');
  assert.equal(sync.branch, 'main');
  assert.equal(sync.previousSyncId, null);
  assert.equal(sync.restoredFromSyncId, null);
  assert.equal(typeof eventsUrl, 'string');
  assert.ok(eventsUrl.startsWith(`/api/v1/events/project-sync/${sync.id}?access_token=`), eventsUrl);
  s.first = sync.id;

  const stream = await world.readEvents(eventsUrl);
  assert.match(stream.headers.get('content-type'), /^text\/event-stream/);
  const last = assertEventStream(stream, { syncId: sync.id, terminal: 'complete' });
  assert.equal(last.data.progress, 100);
  const want = expectedFiles(repo, repo.fixture.mainSha);
  assert.deepEqual(last.data.counts, { ...ZERO_COUNTS, added: want.length });

  const done = await alice.getJson(`/api/v1/syncs/${sync.id}`);
  assertSyncShape(done);
  assert.equal(done.status, 'COMPLETE');
  assert.equal(done.progress, 100);
  assert.equal(done.commitSha, repo.fixture.mainSha);
  assert.equal(done.previousSyncId, null);
  assert.equal(done.error, null);
  assert.deepEqual(done.counts, last.data.counts);
  assert.ok(done.stats.githubRequests >= 2, `stats.githubRequests ${done.stats.githubRequests}`);
  assert.ok(done.stats.d1RowsWritten > 0);
  const p = await alice.getJson(`/api/v1/projects/${s.project.id}`);
  assert.equal(p.currentSyncId, sync.id);
  assert.equal(p.currentCommitSha, repo.fixture.mainSha);
});

test('the active files equal git ls-tree of the commit (mode, kind, sha, size)', async () => {
  const want = expectedFiles(repo, repo.fixture.mainSha);
  const got = await alice.files(s.project.id);
  assert.deepEqual(fileShape(got), want);
  assert.deepEqual(got.map((f) => f.path), [...got.map((f) => f.path)].sort(byteCompare), 'sorted by path');
  for (const f of got) assert.equal(f.syncId, s.first);
  const byPath = new Map(got.map((f) => [f.path, f]));
  assert.equal(byPath.get(P.submodule).kind, 'submodule');
  assert.equal(byPath.get(P.submodule).size, null);
  assert.equal(byPath.get(P.submodule).sha, repo.fixture.librarySha);
  assert.equal(byPath.get(P.symlink).kind, 'symlink');
  assert.equal(byPath.get(P.executable).mode, '100755');
  assert.equal(byPath.get(P.unicode).kind, 'file');
  // Small pages give the same list.
  assert.deepEqual(await alice.files(s.project.id, { limit: 4 }), got);
  assert.deepEqual(await alice.files(s.project.id, { limit: 1 }), got);
  // prefix filters.
  const docs = await alice.files(s.project.id, { prefix: 'docs/' });
  assert.deepEqual(fileShape(docs), want.filter((f) => f.path.startsWith('docs/')));
});

test('a second sync after a new commit reports exactly git diff --name-status -M', async () => {
  repo.write('src/lib.rs', 'pub mod net;\npub mod extra;\n'); // modify
  repo.write('src/extra.rs', '// brand new module, unlike anything else\npub fn extra() -> u32 { 42 }\n'); // add
  repo.remove('docs/CHANGELOG.md'); // delete
  repo.move(P.deep, 'src/net/http/client/backoff.rs'); // rename (same content)
  repo.chmod(P.spaces, 0o755); // mode change only
  s.secondSha = repo.commit('second sync: modify, add, delete, rename, chmod');
  const { counts } = expectedCounts(repo, repo.fixture.mainSha, s.secondSha);
  assert.deepEqual(counts, { added: 1, modified: 2, removed: 1, renamed: 1, unchanged: counts.unchanged }, 'fixture diff as intended');

  const { sync, eventsUrl } = await alice.startSync(s.project.id);
  s.second = sync.id;
  const stream = await world.readEvents(eventsUrl);
  const last = assertEventStream(stream, { syncId: sync.id, terminal: 'complete' });
  assert.deepEqual(last.data.counts, counts);

  const done = await alice.getJson(`/api/v1/syncs/${sync.id}`);
  assert.equal(done.status, 'COMPLETE');
  assert.deepEqual(done.counts, counts);
  assert.equal(done.commitSha, s.secondSha);
  assert.equal(done.previousSyncId, s.first);
  const p = await alice.getJson(`/api/v1/projects/${s.project.id}`);
  assert.equal(p.currentSyncId, s.second);
  assert.equal(p.currentCommitSha, s.secondSha);

  const files = await alice.files(s.project.id, { limit: 3 });
  assert.deepEqual(fileShape(files), expectedFiles(repo, s.secondSha));
  // Unchanged files keep the sync that introduced them; changed ones name the new sync.
  const changed = new Set(expectedChanges(repo, repo.fixture.mainSha, s.secondSha).map((c) => c.path));
  for (const f of files) assert.equal(f.syncId, changed.has(f.path) ? s.second : s.first, `syncId of ${f.path}`);
});

test('GET /syncs/{id}/changes of the second sync matches the diff (renames carry previousPath)', async () => {
  const want = expectedChanges(repo, repo.fixture.mainSha, s.secondSha);
  const rows = await alice.listAll(`/api/v1/syncs/${s.second}/changes`, { limit: 2 });
  assertChanges(rows, want);
  const renamed = rows.find((r) => r.change === 'renamed');
  assert.equal(renamed.path, 'src/net/http/client/backoff.rs');
  assert.equal(renamed.previousPath, P.deep);
  // The first sync's changes: everything added.
  const first = await alice.listAll(`/api/v1/syncs/${s.first}/changes`, { limit: 500 });
  assert.deepEqual(first.map((r) => [r.path, r.change]), expectedFiles(repo, repo.fixture.mainSha).map((f) => [f.path, 'added']));
});

test('re-syncing an unchanged head completes with every count 0 but unchanged', async () => {
  const { sync, eventsUrl } = await alice.startSync(s.project.id);
  s.third = sync.id;
  const stream = await world.readEvents(eventsUrl);
  const last = assertEventStream(stream, { syncId: sync.id, terminal: 'complete' });
  const n = expectedFiles(repo, s.secondSha).length;
  assert.deepEqual(last.data.counts, { ...ZERO_COUNTS, unchanged: n });
  const done = await alice.getJson(`/api/v1/syncs/${sync.id}`);
  assert.equal(done.status, 'COMPLETE');
  assert.equal(done.previousSyncId, s.second);
  assert.equal(done.commitSha, s.secondSha);
  assert.deepEqual(await alice.listAll(`/api/v1/syncs/${sync.id}/changes`), []);
  const files = await alice.files(s.project.id);
  assert.deepEqual(fileShape(files), expectedFiles(repo, s.secondSha));
  assert.ok(files.every((f) => f.syncId !== s.third), 'no file version was introduced by a no-op sync');
});

test('GET /projects/{id}/syncs is the history, newest first, paginated', async () => {
  const hist = await alice.listAll(`/api/v1/projects/${s.project.id}/syncs`, { limit: 2 });
  assert.deepEqual(hist.map((h) => h.id), [s.third, s.second, s.first]);
  hist.forEach(assertSyncShape);
  for (const h of hist) assert.equal(h.projectId, s.project.id);
  for (let i = 1; i < hist.length; i++) assert.ok(hist[i - 1].startedAt >= hist[i].startedAt, 'startedAt descending');
  const page = await alice.getJson(`/api/v1/projects/${s.project.id}/syncs?limit=1`);
  assert.equal(page.items[0].id, s.third);
  assert.equal(typeof page.nextCursor, 'string');
});

test('another user gets 404 for the project and everything under it', async () => {
  const pid = s.project.id;
  const calls = [
    ['GET', `/api/v1/projects/${pid}`],
    ['PATCH', `/api/v1/projects/${pid}`, { name: 'stolen' }],
    ['DELETE', `/api/v1/projects/${pid}`],
    ['GET', `/api/v1/projects/${pid}/branches`],
    ['POST', `/api/v1/projects/${pid}/syncs`, {}],
    ['GET', `/api/v1/projects/${pid}/syncs`],
    ['POST', `/api/v1/projects/${pid}/restore`, { syncId: s.first }],
    ['GET', `/api/v1/projects/${pid}/files`],
    ['GET', `/api/v1/projects/${pid}/files?at=${s.first}`],
    ['GET', `/api/v1/projects/${pid}/files/history?path=README.md`],
    ['GET', `/api/v1/syncs/${s.first}`],
    ['GET', `/api/v1/syncs/${s.second}/changes`],
    ['POST', `/api/v1/syncs/${s.first}/cancel`, {}],
    ['GET', `/api/v1/events/project-sync/${s.first}`],
  ];
  for (const [method, path, body] of calls) {
    const err = assertError(await bob.api(method, path, { body }), 404, 'not_found', `bob ${method} ${path}`);
    assert.ok(!err.message.includes(alice.id), 'does not reveal the owner');
  }
  // Nothing changed for alice.
  const p = await alice.getJson(`/api/v1/projects/${pid}`);
  assert.equal(p.name, 'Widgets');
  assert.equal(p.currentSyncId, s.third);
  assert.equal((await alice.listAll(`/api/v1/projects/${pid}/syncs`)).length, 3);
  // And an id that exists nowhere is the same 404.
  assertError(await alice.get('/api/v1/projects/00000000-0000-0000-0000-000000000000'), 404, 'not_found', 'unknown project');
  assertError(await alice.get('/api/v1/syncs/00000000-0000-0000-0000-000000000000'), 404, 'not_found', 'unknown sync');
});

test('requests without a valid token get 401 JSON', async () => {
  const pid = s.project.id;
  const paths = [
    ['GET', '/api/v1/projects'],
    ['POST', '/api/v1/projects', { name: 'x', repository: 'acme/widgets' }],
    ['GET', `/api/v1/projects/${pid}`],
    ['GET', `/api/v1/projects/${pid}/files`],
    ['GET', `/api/v1/projects/${pid}/syncs`],
    ['POST', `/api/v1/projects/${pid}/syncs`, {}],
    ['GET', `/api/v1/syncs/${s.first}`],
    ['GET', `/api/v1/events/project-sync/${s.first}`],
  ];
  for (const [method, path, body] of paths) {
    assertError(await world.api(method, path, { body }), 401, 'unauthorized', `${method} ${path} without a token`);
    assertError(await world.api(method, path, { body, token: 'not-a-real-token' }), 401, 'unauthorized', `${method} ${path} with a bad token`);
    assertError(await world.api(method, path, { body, headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } }), 401, 'unauthorized', `${method} ${path} with Basic auth`);
  }
  // The admin token is not a user token.
  assertError(await world.api('GET', '/api/v1/projects', { token: world.adminToken }), 401, 'unauthorized', 'admin token as a user');
});

test('an unknown /api/v1 route answers a JSON 404', async () => {
  for (const [method, path] of [
    ['GET', '/api/v1/nope'],
    ['GET', `/api/v1/projects/${s.project.id}/nope`],
    ['POST', '/api/v1/syncs'],
    ['GET', '/api/v2/projects'],
  ]) {
    const res = await alice.api(method, path, { body: method === 'GET' ? undefined : {} });
    assertError(res, 404, 'not_found', `${method} ${path}`);
    assert.doesNotMatch(res.text, /<html/i);
  }
});

test('PATCH updates a project; DELETE answers 204 and the project is gone', async () => {
  const pid = s.project.id;
  const res = await alice.api('PATCH', `/api/v1/projects/${pid}`, { body: { name: 'Widgets 2', tracked: true } });
  assert.equal(res.status, 200, res.text);
  assertProjectShape(res.json);
  assert.equal(res.json.name, 'Widgets 2');
  assert.equal(res.json.tracked, true);
  assert.equal(res.json.branch, 'main');
  assert.equal(res.json.currentSyncId, s.third);
  const got = await alice.getJson(`/api/v1/projects/${pid}`);
  assert.equal(got.name, 'Widgets 2');
  assert.equal(got.tracked, true);

  assertError(await alice.api('PATCH', `/api/v1/projects/${pid}`, { body: { tracked: 'no' } }), 400, 'invalid_request', 'PATCH bad tracked');
  assertError(await alice.api('PATCH', `/api/v1/projects/${pid}`, { body: { branch: 'no-such-branch' } }), 422, 'github_error', 'PATCH unknown branch');
  const branchPatch = await alice.api('PATCH', `/api/v1/projects/${pid}`, { body: { branch: 'feature/f-001' } });
  assert.equal(branchPatch.status, 200, branchPatch.text);
  assert.equal(branchPatch.json.branch, 'feature/f-001');

  const del = await alice.api('DELETE', `/api/v1/projects/${pid}`);
  assert.equal(del.status, 204, del.text);
  assert.equal(del.text, '');
  assertError(await alice.get(`/api/v1/projects/${pid}`), 404, 'not_found', 'deleted project');
  assertError(await alice.get(`/api/v1/projects/${pid}/files`), 404, 'not_found', 'files of a deleted project');
  assertError(await alice.api('DELETE', `/api/v1/projects/${pid}`), 404, 'not_found', 'second DELETE');
  const ids = (await alice.listAll('/api/v1/projects')).map((p) => p.id);
  assert.ok(!ids.includes(pid));
  assert.equal(ids.length, 2);
});
