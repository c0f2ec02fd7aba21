// GitHub App installations (CONTRACT.md, "GitHub App installations"): an admin grants an
// installation once GitHub mints a token for it; users see only their own; a project of an
// installation syncs with installation tokens only (the emulator verifies the app JWT with
// the app's public key and logs which credential each request carried); one token serves
// many syncs and is renewed 5 minutes before it expires; a token that expires mid-sync is
// renewed with no failed sync; both PEM formats work; and the App's webhooks stop tracking
// as the contract says, in whichever of the two databases a project lives.

import { after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, worldTest, createRepo, assertError, expectedFiles, fileShape } from '../support/harness.mjs';
import { deliverPush, installationPayload } from '../support/push.mjs';

const SECRET = 'installations-webhook-secret';
const ORG = 'acme-org';
let world;
const test = worldTest(() => world);

after(async () => {
  await world?.stop();
});

/** A world with the App, two installations and their repositories. */
async function appWorld(keyFormat) {
  await world?.stop();
  world = await startWorld({ app: { keyFormat }, webhookSecret: SECRET, databases: 2 });
  const repos = {};
  for (const name of ['private-site', 'open', 'outside']) {
    const repo = createRepo(world.root, ORG, name);
    repo.write('README.md', `# ${name}\n`);
    repo.write('src/app.js', `export const name = '${name}';\n`);
    repos[name] = { repo, head: repo.commit('first') };
  }
  world.emulator.setOption('installation', {
    id: 101,
    account: ORG,
    repositorySelection: 'selected',
    repositories: [`${ORG}/private-site`, `${ORG}/open`],
    privateRepositories: [`${ORG}/private-site`],
  });
  world.emulator.setOption('installation', { id: 202, account: 'someone-else', repositorySelection: 'all', repositories: [`${ORG}/outside`] });
  return repos;
}

const grant = (installationId, userId, token = world.adminToken) =>
  world.api('POST', '/api/v1/installations', { token, body: { installationId, userId } });

/** The emulator's log since `from`: requests to repositories and to the App's endpoints. */
function githubLog(from) {
  const log = world.emulator.stats().log.slice(from);
  return {
    all: log,
    mints: log.filter((e) => e.route === 'appAccessToken'),
    repoRequests: log.filter((e) => e.path.includes('/repos/')),
  };
}

let repos;
let alice;
let bob;

test('an admin grants an installation once GitHub confirms it; each user sees only their own', async () => {
  repos = await appWorld('pkcs1');
  alice = await world.createUser('alice');
  bob = await world.createUser('bob');

  assertError(await grant(101, alice.id, alice.token), 401, 'unauthorized');
  assertError(await grant(999, alice.id), 422, 'github_error');
  assertError(await grant(101, 'no-such-user'), 404, 'not_found');
  for (const body of [{ installationId: '101', userId: alice.id }, { installationId: 0, userId: alice.id }, { userId: alice.id }]) {
    assertError(await world.api('POST', '/api/v1/installations', { token: world.adminToken, body }), 400, 'invalid_request');
  }
  const res = await grant(101, alice.id);
  assert.equal(res.status, 201, res.text);
  assert.deepEqual(Object.keys(res.json).sort(), ['account', 'createdAt', 'installationId', 'repositorySelection', 'userId']);
  assert.equal(res.json.installationId, 101);
  assert.equal(res.json.account, ORG);
  assert.equal(res.json.repositorySelection, 'selected');
  assert.equal(res.json.userId, alice.id);
  assert.doesNotMatch(res.text, /ghs_/, 'no token in the answer');
  const again = await grant(101, alice.id);
  assert.equal(again.status, 201);
  assert.equal(again.json.createdAt, res.json.createdAt, 'granting twice keeps the grant');
  assert.equal((await grant(202, bob.id)).status, 201);

  assert.deepEqual((await alice.listAll('/api/v1/installations')).map((i) => i.installationId), [101]);
  assert.deepEqual((await bob.listAll('/api/v1/installations')).map((i) => i.installationId), [202]);
  assertError(await bob.get('/api/v1/installations/101/repositories'), 404, 'not_found');
  assertError(await alice.get('/api/v1/installations/abc/repositories'), 404, 'not_found');
  const reached = await alice.listAll('/api/v1/installations/101/repositories', { limit: 1 });
  assert.deepEqual(reached, [
    { repository: `${ORG}/open`, private: false, defaultBranch: 'main' },
    { repository: `${ORG}/private-site`, private: true, defaultBranch: 'main' },
  ]);
  assert.doesNotMatch(world.logTail(2000), /ghs_/, 'no installation token in the service log');

  // The JWTs GitHub received: iat 60 s back, exp at most 10 minutes ahead, iss the app id.
  const claims = world.emulator.appJwtClaims();
  assert.ok(claims.length >= 2, 'one JWT to read the installation, one to mint');
  for (const c of claims) {
    assert.equal(c.iss, world.app.id);
    assert.ok(Math.abs(c.receivedAt - 60 - c.iat) <= 5, `iat ${c.iat} is 60 s before ${c.receivedAt}`);
    assert.ok(c.exp > c.receivedAt && c.exp - c.receivedAt <= 600, `exp ${c.exp} within 10 minutes of ${c.receivedAt}`);
  }
});

test('a project of an installation syncs a private repository with installation tokens only, one token for many syncs', async () => {
  assertError(await alice.post('/api/v1/projects', { name: 'x', repository: `${ORG}/private-site`, installationId: 101, githubToken: 'ghp_x' }), 400, 'invalid_request');
  assertError(await bob.post('/api/v1/projects', { name: 'x', repository: `${ORG}/private-site`, installationId: 101 }), 404, 'not_found');
  assertError(await alice.post('/api/v1/projects', { name: 'x', repository: `${ORG}/outside`, installationId: 101 }), 422, 'github_error');
  // The global token cannot see the private repository: only the installation's can.
  assertError(await alice.post('/api/v1/projects', { name: 'x', repository: `${ORG}/private-site` }), 422, 'github_error');

  const from = world.emulator.stats().log.length;
  const project = await alice.createProject({ name: 'site', repository: `${ORG}/private-site`, installationId: 101, tracked: true });
  assert.equal(project.installationId, 101);
  assert.equal(project.hasGithubToken, false);
  const { repo, head } = repos['private-site'];
  const first = await alice.syncAndWait(project.id);
  assert.deepEqual(fileShape(await alice.files(project.id)), expectedFiles(repo, head));
  repo.write('src/app.js', 'export const name = "changed";\n');
  const c2 = repo.commit('change');
  const second = await alice.syncAndWait(project.id);
  assert.equal(second.done.commitSha, c2);
  assert.deepEqual(fileShape(await alice.files(project.id)), expectedFiles(repo, c2));
  const third = await alice.syncAndWait(project.id);

  const log = githubLog(from);
  assert.ok(log.repoRequests.length > 0);
  for (const e of log.repoRequests) assert.equal(e.credential, 'installation:101', `${e.method} ${e.path} used ${e.credential}`);
  assert.equal(log.mints.length, 0, 'the token minted by the grant served the project and all three syncs');
  process.stderr.write(
    `[installations] GitHub requests: first sync ${first.done.stats.githubRequests}, one-file change ${second.done.stats.githubRequests}, ` +
      `unchanged head ${third.done.stats.githubRequests} (${third.done.stats.githubNotModified} not modified); token mints 0\n`,
  );

  // A PATCH that names another credential is checked with it; the installation goes.
  assertError(await alice.api('PATCH', `/api/v1/projects/${project.id}`, { body: { installationId: 202 } }), 404, 'not_found');
  assertError(await alice.api('PATCH', `/api/v1/projects/${project.id}`, { body: { installationId: null } }), 422, 'github_error');
  assert.equal((await alice.getJson(`/api/v1/projects/${project.id}`)).installationId, 101, 'a refused PATCH changes nothing');
});

test('a cached token is used until 5 minutes before it expires, then a new one is minted first', async () => {
  const project = await alice.createProject({ name: 'margin', repository: `${ORG}/open`, installationId: 101 });
  const syncCounting = async () => {
    const from = world.emulator.stats().log.length;
    await alice.syncAndWait(project.id);
    const log = githubLog(from);
    return { mints: log.mints.length, refused: log.all.filter((e) => e.status === 401).length };
  };
  // Tokens of 290 s are inside the margin from the start: each sync mints before using one.
  world.emulator.setOption('installationTokenLifetimeSeconds', 290);
  world.emulator.setOption('revokeInstallationTokens', 101);
  const revoked = await syncCounting();
  assert.equal(revoked.refused, 1, 'the revoked cached token: one 401');
  assert.ok(revoked.mints >= 1);
  const inside = await syncCounting();
  assert.deepEqual({ refused: inside.refused, minted: inside.mints >= 1 }, { refused: 0, minted: true }, 'inside the margin: minted, never refused');
  // Tokens of 400 s have 100 s to spare: the next sync reuses the one cached.
  world.emulator.setOption('installationTokenLifetimeSeconds', 400);
  world.emulator.setOption('revokeInstallationTokens', 101);
  await syncCounting();
  const reused = await syncCounting();
  assert.deepEqual(reused, { mints: 0, refused: 0 }, 'outside the margin: the cached token serves');
  world.emulator.setOption('installationTokenLifetimeSeconds', null);
});

test('a token that expires mid-sync is renewed at once, and the sync completes', async () => {
  const project = await alice.createProject({ name: 'open', repository: `${ORG}/open`, installationId: 101 });
  // Tokens live 2 s, the cached one is revoked, and the first tree answer takes 2.5 s, so
  // the token minted for this sync has expired by the time GitHub reads it.
  world.emulator.setOption('installationTokenLifetimeSeconds', 2);
  world.emulator.setOption('revokeInstallationTokens', 101);
  // GitHub's coming format: tokens of up to 1,000 characters.
  world.emulator.setOption('installationTokenLength', 1000);
  world.emulator.injectFault({ kind: 'delay', route: 'tree', ms: 2500, times: 1 });
  const from = world.emulator.stats().log.length;
  const { done } = await alice.syncAndWait(project.id);
  world.emulator.setOption('installationTokenLifetimeSeconds', null);
  world.emulator.setOption('installationTokenLength', null);
  const { repo, head } = repos.open;
  assert.deepEqual(fileShape(await alice.files(project.id)), expectedFiles(repo, head));
  const log = githubLog(from);
  // The token that expired while GitHub held the request was refused, and renewed at once:
  // a mint follows each refusal, and the request succeeds with the new token. (Whether the
  // revoked cached token is tried first depends on how much of the 5-minute margin it has
  // left, so only the expiry is counted on.)
  const refused = log.all.map((e, i) => ({ e, i })).filter(({ e }) => e.status === 401 && e.credential.startsWith('installation'));
  assert.ok(refused.length >= 1, 'the token that expired mid-request was refused');
  for (const { e, i } of refused) {
    const next = log.all.slice(i + 1);
    const retried = next.findIndex((r) => r.route === e.route && (r.status === 200 || r.status === 304));
    assert.ok(retried > 0, `the refused ${e.route} request is made again and answered`);
    assert.ok(next.slice(0, retried).some((r) => r.route === 'appAccessToken' && r.status === 201), `a token is minted before it is`);
  }
  for (const e of log.repoRequests.filter((r) => r.status < 400)) assert.equal(e.credential, 'installation:101');
  assert.equal(done.error, null);
  assert.ok(log.mints.length > 0 && log.all.some((e) => e.credential.startsWith('installation:')));
  assert.doesNotMatch(world.logTail(5000), /ghs_/, 'no installation token in the service log');
});

test('concurrent requests that each need a new token for one installation share one mint', async () => {
  // A cached token inside the renewal margin (GitHub gave 290 s): each request needs a new one.
  world.emulator.setOption('installationTokenLifetimeSeconds', 290);
  const margin = await alice.createProject({ name: 'single-flight', repository: `${ORG}/open`, installationId: 101 });
  await alice.syncAndWait(margin.id);
  world.emulator.setOption('installationTokenLifetimeSeconds', null);
  const N = 8;
  const from = world.emulator.stats().log.length;
  const created = await Promise.all(
    Array.from({ length: N }, (_, i) =>
      alice.post('/api/v1/projects', { name: `single-flight-${i}`, repository: `${ORG}/${i % 2 ? 'open' : 'private-site'}`, installationId: 101 }),
    ),
  );
  for (const res of created) assert.equal(res.status, 201, res.text);
  const log = githubLog(from);
  assert.equal(log.mints.length, 1, `${N} concurrent requests minted ${log.mints.length} tokens`);
  for (const e of log.repoRequests) assert.equal(e.credential, 'installation:101');
  for (const id of [margin.id, ...created.map((res) => res.json.id)]) assert.equal((await alice.api('DELETE', `/api/v1/projects/${id}`)).status, 204);
});

test('installation_repositories "removed" stops tracking those projects; "suspend" stops all and fails their syncs naming it', async () => {
  const projects = await alice.listAll('/api/v1/projects');
  const site = projects.find((p) => p.repository === `${ORG}/private-site`);
  // More projects of the installation, tracked, spread over both databases.
  const more = [];
  for (let i = 0; i < 4; i++) {
    for (const name of ['open', 'private-site']) {
      more.push(await alice.createProject({ name: `${name}-${i}`, repository: `${ORG}/${name}`, installationId: 101, tracked: true }));
    }
  }
  const databases = new Set();
  for (const p of more) {
    databases.add((await world.api('GET', `/api/v1/_diagnostics?project=${p.id}`, { token: world.adminToken })).json.projectDatabase);
  }
  process.stderr.write(`[installations] the projects live in ${[...databases].join(', ')}\n`);
  const tracked = async (p) => (await alice.getJson(`/api/v1/projects/${p.id}`)).tracked;
  const historyBefore = await alice.listAll(`/api/v1/projects/${site.id}/syncs`);

  const removed = installationPayload('installation_repositories', 'removed', { installationId: 101, removed: [`${ORG}/OPEN`] });
  const r1 = await deliverPush(world, SECRET, removed, { event: 'installation_repositories' });
  assert.equal(r1.res.status, 200, r1.res.text);
  assert.equal(r1.res.json.untracked, 4);
  for (const p of more) assert.equal(await tracked(p), p.repository !== `${ORG}/open`, `${p.name}: only the removed repository's projects stop`);
  assert.equal(await tracked(site), true);

  // A sync running when the webhook says "suspend" fails, naming the installation: the
  // service's own record of it, since GitHub (the emulator) still answers here.
  world.emulator.injectFault({ kind: 'delay', route: 'ref', ms: 3000, times: 1 });
  const { repo } = repos['private-site'];
  repo.write('late.txt', 'late\n');
  repo.commit('late');
  const running = await alice.startSync(site.id);
  const suspend = installationPayload('installation', 'suspend', { installationId: 101 });
  const r2 = await deliverPush(world, SECRET, suspend, { event: 'installation' });
  assert.equal(r2.res.status, 200, r2.res.text);
  assert.equal(r2.res.json.state, 'suspended');
  const failed = await alice.waitSync(running.sync.id);
  assert.equal(failed.status, 'FAILED');
  assert.match(failed.error, /installation 101 was suspended/);
  assert.equal(await tracked(site), false);
  for (const p of more) assert.equal(await tracked(p), false, `${p.name}: every project of it stops`);
  const later = await alice.syncAndWait(site.id, {}, { expect: 'FAILED' });
  assert.match(later.done.error, /installation 101 was suspended/);
  const historyAfter = await alice.listAll(`/api/v1/projects/${site.id}/syncs`);
  assert.deepEqual(historyAfter.slice(-historyBefore.length), historyBefore, 'history stays');
  assert.ok((await alice.files(site.id)).length > 0, 'and so do the files');

  // "deleted" does the same for another installation's projects.
  const outside = await bob.createProject({ name: 'outside', repository: `${ORG}/outside`, installationId: 202, tracked: true });
  const deleted = installationPayload('installation', 'deleted', { installationId: 202 });
  assert.equal((await deliverPush(world, SECRET, deleted, { event: 'installation' })).res.status, 200);
  assert.equal((await bob.getJson(`/api/v1/projects/${outside.id}`)).tracked, false);
  const gone = await bob.syncAndWait(outside.id, {}, { expect: 'FAILED' });
  assert.match(gone.done.error, /installation 202 was uninstalled/);
});

test('installation events apply in the order of their own time: a redelivered older "suspend" after "unsuspend" is ignored', async () => {
  const site = (await alice.listAll('/api/v1/projects')).find((p) => p.repository === `${ORG}/private-site`);
  const now = Date.now();
  // The installation was suspended above (GitHub's example event, of 2021); GitHub lifts it now.
  const unsuspend = installationPayload('installation', 'unsuspend', { installationId: 101, at: new Date(now) });
  const r1 = await deliverPush(world, SECRET, unsuspend, { event: 'installation' });
  assert.equal(r1.res.status, 200, r1.res.text);
  assert.equal(r1.res.json.state, 'active');
  // A suspension of a minute earlier, delivered late (GitHub redelivers and reorders).
  const stale = installationPayload('installation', 'suspend', { installationId: 101, at: new Date(now - 60_000) });
  const r2 = await deliverPush(world, SECRET, stale, { event: 'installation' });
  assert.equal(r2.res.status, 200, r2.res.text);
  assert.match(r2.res.json.ignored ?? '', /older than the installation's state/, r2.res.text);
  assert.equal(r2.res.json.state, undefined);
  await alice.syncAndWait(site.id); // COMPLETE: the installation stays active, its projects sync
  // A later suspension still applies.
  const later = installationPayload('installation', 'suspend', { installationId: 101, at: new Date(now + 1000) });
  const r3 = await deliverPush(world, SECRET, later, { event: 'installation' });
  assert.equal(r3.res.json.state, 'suspended', r3.res.text);
  const refused = await alice.syncAndWait(site.id, {}, { expect: 'FAILED' });
  assert.match(refused.done.error, /installation 101 was suspended/);
});

test('a PKCS#8 private key works the same as the PKCS#1 key GitHub hands out', async () => {
  repos = await appWorld('pkcs8');
  const carol = await world.createUser('carol');
  assert.equal((await grant(101, carol.id)).status, 201);
  const project = await carol.createProject({ name: 'site', repository: `${ORG}/private-site`, installationId: 101 });
  await carol.syncAndWait(project.id);
  const { repo, head } = repos['private-site'];
  assert.deepEqual(fileShape(await carol.files(project.id)), expectedFiles(repo, head));
});
