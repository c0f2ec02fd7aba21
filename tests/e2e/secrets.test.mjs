// Explicit secrets: without ADMIN_TOKEN, STREAM_TOKEN_SECRET or TOKEN_ENCRYPTION_KEY the
// service refuses what needs them (500 `internal`; the log names the secret) instead of
// deriving a key anyone could; a rotated TOKEN_ENCRYPTION_KEY keeps stored tokens readable
// through TOKEN_ENCRYPTION_KEY_PREVIOUS, and without it the sync fails instead of quietly
// using the global token.

import { after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, worldTest, createRepo, assertError, expectedFiles, fileShape } from '../support/harness.mjs';

let world;
const test = worldTest(() => world);

after(async () => {
  await world?.stop();
});

async function freshWorld(options) {
  await world?.stop();
  world = await startWorld(options);
  return world;
}

test('without ADMIN_TOKEN no user can be created (500, the log names the secret)', async () => {
  await freshWorld({ vars: { ADMIN_TOKEN: null } });
  const mark = world.logSize();
  const res = await world.api('POST', '/api/v1/users', { token: '', body: { name: 'nobody' } });
  assertError(res, 500, 'internal');
  assert.doesNotMatch(res.text, /ADMIN_TOKEN/, 'the answer does not name it');
  await world.waitForLog(/ADMIN_TOKEN is not set/, mark);
});

test('without STREAM_TOKEN_SECRET no sync starts, and nothing is written', async () => {
  await freshWorld({ vars: { STREAM_TOKEN_SECRET: null } });
  const repo = createRepo(world.root, 'acme', 'nostream');
  repo.write('a.txt', 'a\n');
  repo.commit('a');
  const alice = await world.createUser('alice');
  const project = await alice.createProject({ name: 'p', repository: 'acme/nostream' });
  const mark = world.logSize();
  assertError(await alice.post(`/api/v1/projects/${project.id}/syncs`, {}), 500, 'internal');
  await world.waitForLog(/STREAM_TOKEN_SECRET is not set/, mark);
  assert.deepEqual(await alice.listAll(`/api/v1/projects/${project.id}/syncs`), [], 'no sync row');
});

test('without TOKEN_ENCRYPTION_KEY a project with its own token is refused', async () => {
  await freshWorld({ vars: { TOKEN_ENCRYPTION_KEY: null } });
  const repo = createRepo(world.root, 'acme', 'nokey');
  repo.write('a.txt', 'a\n');
  repo.commit('a');
  const alice = await world.createUser('alice');
  const mark = world.logSize();
  assertError(await alice.post('/api/v1/projects', { name: 'p', repository: 'acme/nokey', githubToken: 'ghp_own' }), 500, 'internal');
  await world.waitForLog(/TOKEN_ENCRYPTION_KEY is not set/, mark);
  // A project without a token of its own needs no key.
  await alice.createProject({ name: 'q', repository: 'acme/nokey' });
});

test('a rotated TOKEN_ENCRYPTION_KEY reads stored tokens through the previous key; without it the sync fails', async () => {
  // The emulator knows only the project's own token: a sync with the global one would fail
  // at GitHub, so success means the stored token was decrypted.
  await freshWorld({ githubToken: 'global-token', emulatorTokens: ['own-token'], vars: { TOKEN_ENCRYPTION_KEY: 'key-one' } });
  const repo = createRepo(world.root, 'acme', 'private');
  repo.write('a.txt', 'a\n');
  const c1 = repo.commit('a');
  const alice = await world.createUser('alice');
  const project = await alice.createProject({ name: 'p', repository: 'acme/private', githubToken: 'own-token' });
  await alice.syncAndWait(project.id);

  world.vars.TOKEN_ENCRYPTION_KEY = 'key-two';
  world.vars.TOKEN_ENCRYPTION_KEY_PREVIOUS = 'key-one';
  await world.restart();
  repo.write('b.txt', 'b\n');
  const c2 = repo.commit('b');
  const rotated = await alice.syncAndWait(project.id);
  assert.equal(rotated.done.commitSha, c2);
  assert.deepEqual(fileShape(await alice.files(project.id)), expectedFiles(repo, c2));

  delete world.vars.TOKEN_ENCRYPTION_KEY_PREVIOUS;
  await world.restart();
  repo.write('c.txt', 'c\n');
  repo.commit('c');
  const { done } = await alice.syncAndWait(project.id, {}, { expect: 'FAILED' });
  assert.match(done.error, /GitHub token could not be read/);
  assert.deepEqual(fileShape(await alice.files(project.id)), expectedFiles(repo, c2), 'nothing changed');
  assert.ok(c1);
});

test('rotating ADMIN_TOKEN changes only who may create users: stored tokens and stream tokens stay valid', async () => {
  // Both keys used to be derived from ADMIN_TOKEN, so rotating it broke every stored token
  // and every eventsUrl. The emulator knows only the project's own token, as above.
  await freshWorld({ githubToken: 'global-token', emulatorTokens: ['own-token'] });
  const repo = createRepo(world.root, 'acme', 'rotated');
  repo.write('a.txt', 'a\n');
  repo.commit('a');
  const alice = await world.createUser('alice');
  const project = await alice.createProject({ name: 'p', repository: 'acme/rotated', githubToken: 'own-token' });
  const first = await alice.syncAndWait(project.id);

  const oldAdmin = world.adminToken;
  world.adminToken = world.vars.ADMIN_TOKEN = `rotated-${oldAdmin}`;
  await world.restart();
  assertError(await world.api('POST', '/api/v1/users', { token: oldAdmin, body: { name: 'late' } }), 401, 'unauthorized');
  await world.createUser('bob');
  const replay = await world.readEvents(first.eventsUrl);
  assert.equal(replay.events.at(-1)?.event, 'complete', `the first sync's eventsUrl still replays: ${JSON.stringify(replay.events.at(-1))}`);
  repo.write('b.txt', 'b\n');
  const c2 = repo.commit('b');
  const { done } = await alice.syncAndWait(project.id);
  assert.equal(done.commitSha, c2, 'the stored GitHub token is still read');
  assert.deepEqual(fileShape(await alice.files(project.id)), expectedFiles(repo, c2));
});
