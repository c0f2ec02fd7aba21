// Self-test of the emulator's GitHub App endpoints (tests/support/github-emulator/apps.mjs):
// JWTs verified with real RS256 crypto and GitHub's messages, installation tokens minted,
// scoped to their installation's repositories, expired, revoked, and the repositories list.
//
// Run: node --test tests/emulator-selftest/apps.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startGitHubEmulator } from '../support/github-emulator.mjs';
import { createRepo } from '../support/gitfixture.mjs';
import { makeAppKeys, signJwt, appClaims, installApp } from '../support/github-app.mjs';

const APP_ID = 4242;
let root;
let gh;
let keys;

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-emulator-apps-'));
  for (const name of ['secret', 'open', 'other']) {
    const repo = createRepo(root, 'org', name);
    repo.write('README.md', `# ${name}\n`);
    repo.commit('first');
  }
  gh = await startGitHubEmulator({ root });
  keys = makeAppKeys();
  installApp(gh, {
    appId: APP_ID,
    keys,
    installations: [
      { id: 7, account: 'org', repositorySelection: 'selected', repositories: ['org/secret', 'org/open'], privateRepositories: ['org/secret'] },
      { id: 8, account: 'other-org', repositories: ['org/other'] },
    ],
  });
});

after(async () => {
  await gh?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

async function call(p, { token, method = 'GET' } = {}) {
  const headers = { 'user-agent': 'apps-selftest' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(gh.url + p, { method, headers, redirect: 'manual' });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json, text };
}

const mint = async (id, jwt = signJwt(keys.pkcs1, appClaims(APP_ID))) =>
  call(`/app/installations/${id}/access_tokens`, { token: jwt, method: 'POST' });

test('a JWT is checked as GitHub checks it: signature, iat, exp, iss', async () => {
  const now = Math.floor(Date.now() / 1000);
  const other = makeAppKeys();
  const cases = [
    [signJwt(other.pkcs8, appClaims(APP_ID)), 'A JSON web token could not be decoded'],
    [signJwt(keys.pkcs8, appClaims(APP_ID), { alg: 'HS256', typ: 'JWT' }), 'A JSON web token could not be decoded'],
    ['eyJhbGciOiJSUzI1NiJ9.e30.AAAA', 'A JSON web token could not be decoded'],
    [signJwt(keys.pkcs8, { ...appClaims(APP_ID), iat: now + 120 }), "'Issued at' claim ('iat') must be an Integer"],
    [signJwt(keys.pkcs8, { ...appClaims(APP_ID), iat: 'yesterday' }), "'Issued at' claim ('iat') must be an Integer"],
    [signJwt(keys.pkcs8, { ...appClaims(APP_ID), exp: now - 1 }), "'Expiration time' claim ('exp') must be a numeric value"],
    [signJwt(keys.pkcs8, { ...appClaims(APP_ID), exp: now + 660 }), "'Expiration time' claim ('exp') is too far in the future"],
    [signJwt(keys.pkcs8, { ...appClaims(APP_ID), iss: 'my-app' }), "'Issuer' claim ('iss') must be an Integer"],
    [signJwt(keys.pkcs8, appClaims(APP_ID + 1)), 'A JSON web token could not be decoded'],
  ];
  for (const [jwt, message] of cases) {
    const res = await mint(7, jwt);
    assert.equal(res.status, 401, message);
    assert.ok(res.json.message.startsWith(message), `${message} / ${res.json.message}`);
  }
  const ok = await call('/app/installations/7', { token: signJwt(keys.pkcs8, { ...appClaims(APP_ID), iss: String(APP_ID) }) });
  assert.equal(ok.status, 200, 'iss as a numeric string is the app id too');
  assert.equal(ok.json.account.login, 'org');
  assert.equal(ok.json.repository_selection, 'selected');
  assert.equal((await call('/app/installations/99', { token: signJwt(keys.pkcs1, appClaims(APP_ID)) })).status, 404);
});

test('installation tokens reach their installation repositories only; App-private ones need them', async () => {
  const minted = await mint(7);
  assert.equal(minted.status, 201);
  assert.match(minted.json.token, /^ghs_/);
  assert.ok(Date.parse(minted.json.expires_at) > Date.now() + 3_500_000, 'an hour by default');
  const token = minted.json.token;
  assert.equal((await call('/repos/org/secret', { token })).json.private, true);
  assert.equal((await call('/repos/org/open/git/trees/HEAD', { token })).status, 200);
  assert.equal((await call('/repos/org/other', { token })).status, 404, 'not this installation');
  assert.equal((await call('/repos/org/secret', { token: 'ghp_personal' })).status, 404, 'a personal token cannot see it');
  assert.equal((await call('/repos/org/secret')).status, 404);

  const tarball = await call('/repos/org/secret/tarball/HEAD', { token });
  assert.equal(tarball.status, 302);
  const location = new URL((await fetch(gh.url + '/repos/org/secret/tarball/HEAD', {
    headers: { 'user-agent': 't', authorization: `Bearer ${token}` }, redirect: 'manual',
  })).headers.get('location'));
  assert.ok(location.searchParams.get('token'), 'a private tarball is a one-off signed URL');

  const list = await call('/installation/repositories?per_page=1&page=2', { token });
  assert.equal(list.json.total_count, 2);
  assert.deepEqual(list.json.repositories.map((r) => [r.full_name, r.private, r.default_branch]), [['org/secret', true, 'main']]);
  assert.equal((await call('/installation/repositories', { token: 'ghp_personal' })).status, 403);

  const log = gh.stats().log.filter((e) => e.path.startsWith('/repos/org/secret'));
  assert.ok(log.some((e) => e.credential === 'installation:7'), 'the log names the credential');
  assert.ok(log.some((e) => e.credential === 'token'));
});

test('tokens expire after the lifetime a test sets, and suspension or revocation ends them', async () => {
  gh.setOption('installationTokenLifetimeSeconds', 1);
  gh.setOption('installationTokenLength', 1000);
  const short = (await mint(8)).json;
  assert.equal(short.token.length, 1000, "GitHub's longer tokens");
  assert.equal((await call('/repos/org/other', { token: short.token })).status, 200);
  await new Promise((r) => setTimeout(r, 1100));
  const expired = await call('/repos/org/other', { token: short.token });
  assert.equal(expired.status, 401);
  assert.equal(expired.json.message, 'Bad credentials');
  gh.setOption('installationTokenLifetimeSeconds', null);
  gh.setOption('installationTokenLength', null);

  const fresh = (await mint(8)).json.token;
  gh.setOption('revokeInstallationTokens', 8);
  assert.equal((await call('/repos/org/other', { token: fresh })).status, 401);

  const before = (await mint(8)).json.token;
  gh.setOption('installation', { id: 8, account: 'other-org', repositories: ['org/other'], suspended: true });
  assert.equal((await call('/repos/org/other', { token: before })).status, 401, 'a suspended installation token is refused');
  const refused = await mint(8);
  assert.equal(refused.status, 403);
  assert.equal(refused.json.message, 'This installation has been suspended');
  assert.ok((await call('/app/installations/8', { token: signJwt(keys.pkcs1, appClaims(APP_ID)) })).json.suspended_at);
});
