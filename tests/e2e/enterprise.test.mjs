// GitHub Enterprise Server and per-project tokens: GITHUB_API_URL pointing at an
// `https://HOST/api/v3`-style base works the same way, and a project's own GitHub token is
// used for everything it does (stored encrypted, never returned), while the global token
// serves projects without one.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, worldTest, createRepo, assertError, expectedFiles, fileShape } from '../support/harness.mjs';

const OWN_TOKEN = 'ghp_project_own_token_for_tests';

let world;
let repo;
let alice;

const test = worldTest(() => world);

before(async () => {
  // The emulator accepts only the project's own token: the global one is refused.
  world = await startWorld({ apiPath: '/api/v3', emulatorTokens: [OWN_TOKEN] });
  repo = createRepo(world.root, 'corp', 'private-app');
  repo.write('README.md', '# private\n');
  repo.write('src/main.rs', 'fn main() {}\n');
  repo.commit('c1');
  alice = await world.createUser('alice');
});

after(async () => {
  await world?.stop();
});

test('without a token GitHub accepts, the repository is not found: 422', async () => {
  const res = await alice.post('/api/v1/projects', { name: 'p', repository: 'corp/private-app' });
  assertError(res, 422, 'github_error');
});

test('with its own token a project connects and syncs through the /api/v3 base', async () => {
  world.emulator.resetStats();
  const project = await alice.createProject({ name: 'Private', repository: 'corp/private-app', githubToken: OWN_TOKEN });
  assert.equal(project.hasGithubToken, true);
  assert.ok(!JSON.stringify(project).includes(OWN_TOKEN), 'the token is never returned');
  const again = await alice.getJson(`/api/v1/projects/${project.id}`);
  assert.ok(!JSON.stringify(again).includes(OWN_TOKEN));

  const { done } = await alice.syncAndWait(project.id);
  assert.equal(done.status, 'COMPLETE', JSON.stringify(done));
  assert.deepEqual(fileShape(await alice.files(project.id)), expectedFiles(repo, repo.headSha('main')));

  const branches = await alice.getJson(`/api/v1/projects/${project.id}/branches`);
  assert.deepEqual(branches.items.map((b) => b.name), ['main']);

  const log = world.emulator.stats().log;
  assert.ok(log.length > 0);
  for (const entry of log.filter((e) => !e.path.startsWith('/_codeload'))) {
    assert.ok(entry.path.startsWith('/api/v3/'), `request under the GHES base: ${entry.path}`);
    assert.equal(entry.headers.authorization, 'present', `authorized: ${entry.path}`);
    assert.equal(entry.headers['x-github-api-version'], '2022-11-28');
    assert.equal(entry.status < 400, true, `${entry.path} answered ${entry.status}`);
  }
});

test('removing the stored token makes GitHub refuse the project again', async () => {
  const project = await alice.createProject({ name: 'Private 2', repository: 'corp/private-app', githubToken: OWN_TOKEN });
  const patched = await alice.api('PATCH', `/api/v1/projects/${project.id}`, { body: { githubToken: null } });
  // With no token of its own, the check against GitHub fails: nothing is changed.
  assertError(patched, 422, 'github_error');
  const still = await alice.getJson(`/api/v1/projects/${project.id}`);
  assert.equal(still.hasGithubToken, true);
});
