// The JavaScript client (web/client/project-sync.js, served at /client/project-sync.js)
// against the running worker, not mocks: the served module is the file on disk; a project,
// a sync followed with watchSync, files paged to git ls-tree, errors as ProjectSyncError;
// watchSync reopens a dropped stream with Last-Event-ID (no event twice, none lost) and
// replaces a stream token the stream refuses.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startWorld, worldTest, createRepo, expectedFiles, fileShape, PROJECT_DIR } from '../support/harness.mjs';
import { createClient, ProjectSyncError } from '../../web/client/project-sync.js';

let world;
let repo;
let user;
let ps;
const test = worldTest(() => world);

before(async () => {
  world = await startWorld();
  repo = createRepo(world.root, 'acme', 'client');
  for (let i = 0; i < 30; i++) repo.write(`src/f${i}.txt`, `file ${i}\n`);
  repo.write('README.md', '# client\n');
  repo.commit('c1');
  user = await world.createUser('client');
  ps = createClient({ baseUrl: world.base, token: user.token });
});

after(async () => {
  await world?.stop();
});

/** A fetch that ends the first `drops` event streams after their first event. */
function droppingFetch(drops) {
  const log = [];
  const fetchImpl = async (url, init = {}) => {
    const res = await fetch(url, init);
    const isStream = /\/events\/project-sync\//.test(String(url));
    if (isStream) log.push({ lastEventId: init.headers?.['last-event-id'] ?? null, status: res.status });
    if (!isStream || !res.ok || drops <= 0) return res;
    drops -= 1;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    // Pass on exactly the first event, then end the stream as a dropped connection would.
    while (!/\n\n/.test(text)) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    await reader.cancel();
    const first = text.slice(0, text.indexOf('\n\n') + 2);
    return new Response(first, { status: 200, headers: res.headers });
  };
  return { fetchImpl, log };
}

test('the served module is the one on disk', async () => {
  for (const file of ['project-sync.js', 'project-sync.d.ts']) {
    const res = await fetch(`${world.base}/client/${file}`);
    assert.equal(res.status, 200, file);
    assert.equal(await res.text(), fs.readFileSync(path.join(PROJECT_DIR, 'web', 'client', file), 'utf8'), file);
  }
  const js = await fetch(`${world.base}/client/project-sync.js`);
  assert.match(js.headers.get('content-type') ?? '', /javascript/);
  assert.equal((await ps.health()).ok, true);
});

test('a project synced and watched through the client; files paged equal git ls-tree; errors are typed', async () => {
  const project = await ps.createProject({ name: 'client', repository: 'acme/client' });
  const { sync, eventsUrl } = await ps.startSync(project.id);
  const events = [];
  const last = await ps.watchSync(sync.id, { eventsUrl, onEvent: (e) => events.push(e) });
  assert.equal(last.event, 'complete');
  assert.ok(events.length >= 2);
  assert.deepEqual(events.map((e) => Number(e.id)), events.map((_, i) => i + 1), 'every event once, in order');
  assert.equal((await ps.getSync(sync.id)).status, 'COMPLETE');
  const files = [];
  for await (const f of ps.paginate('listFiles', project.id, { limit: 7 })) files.push(f);
  assert.deepEqual(fileShape(files), expectedFiles(repo, 'HEAD'));
  const text = await ps.getFileContent(project.id, { path: 'README.md' });
  assert.equal(await text.text(), '# client\n');
  const again = await ps.getFileContent(project.id, { path: 'README.md', ifNoneMatch: text.headers.get('etag') });
  assert.equal(again.status, 304);
  await assert.rejects(ps.getProject('no-such-project'), (e) => e instanceof ProjectSyncError && e.status === 404 && e.code === 'not_found');
  await assert.rejects(ps.updateProject(project.id, { exclude: ['[bad'] }), (e) => e.code === 'invalid_request' && e.field === 'exclude');
  const anonymous = createClient({ baseUrl: world.base });
  await assert.rejects(anonymous.listProjects(), (e) => e.status === 401 && e.code === 'unauthorized');
});

test('watchSync reopens a dropped stream with Last-Event-ID and renews a refused stream token', async () => {
  const project = await ps.createProject({ name: 'client watch', repository: 'acme/client' });
  world.emulator.injectFault({ kind: 'delay', route: 'tree', ms: 1500, times: 1 });
  const { sync, eventsUrl } = await ps.startSync(project.id);
  const { fetchImpl, log } = droppingFetch(2);
  const flaky = createClient({ baseUrl: world.base, token: user.token, fetch: fetchImpl });
  const refused = eventsUrl.replace(/access_token=[^&]+/, 'access_token=expired.token');
  const events = [];
  const last = await flaky.watchSync(sync.id, { eventsUrl: refused, onEvent: (e) => events.push(e) });
  assert.equal(last.event, 'complete');
  assert.equal(log[0].status, 401, 'the refused token');
  assert.ok(log.length >= 3, `reconnected: ${JSON.stringify(log)}`);
  assert.ok(log.slice(2).every((l) => l.lastEventId !== null), `reconnections carry Last-Event-ID: ${JSON.stringify(log)}`);
  const ids = events.map((e) => Number(e.id));
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'in order');
  assert.equal(new Set(ids).size, ids.length, 'none twice');
  assert.deepEqual(ids, Array.from({ length: ids.length }, (_, i) => i + 1), 'none lost');
});
