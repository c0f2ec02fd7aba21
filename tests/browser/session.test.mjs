// Browser test of the dashboard (web/), one flow.
// Signing in and out: the sign-in page and a wrong token, the token kept, the Connect an agent
// card, signing out forgets it; the OpenAPI document the page links to.
// Its world, browser and helpers: ./support.mjs.
//
// Run: PATH=$PWD/node_modules/.bin:$PATH node --test tests/browser/session.test.mjs

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_DIR } from '../support/harness.mjs';
import { useDashboard } from './support.mjs';

// One hook sets the file up: node:test runs a file's top-level before hooks side by side.
const d = useDashboard(async () => {
  ({ world, user, page } = d);
});
const { test, shot } = d;
let world; let user; let page;

test('the sign-in page explains where tokens come from and refuses a wrong token', async () => {
  await page.goto('/');
  await page.waitForSelector('#signin-view:not([hidden])');
  assert.equal(await page.title(), 'Project Sync');
  assert.ok(await page.isVisible('label[for="signin-token"]'));
  await page.click('.howto summary');
  const howto = await page.textContent('.howto');
  assert.match(howto, /POST/);
  assert.match(howto, /\/api\/v1\/users/);
  assert.match(howto, /ADMIN_TOKEN/);
  await shot('01-signin');

  await page.fill('#signin-token', 'not-a-real-token');
  await page.click('#signin-submit');
  await page.waitForSelector('#signin-error:not([hidden])');
  assert.match(await page.textContent('#signin-error'), /not accepted/i);
  assert.match(await page.textContent('#signin-error'), /unauthorized/);
  assert.equal(await page.getAttribute('#signin-token', 'aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => localStorage.getItem('projectSync.token')), null);
  await shot('02-signin-wrong-token');
});

test('signing in keeps the token in localStorage and shows an empty dashboard', async () => {
  await page.fill('#signin-token', user.token);
  await page.click('#signin-submit');
  await page.waitForSelector('#app-view:not([hidden])');
  await page.waitForSelector('#no-project:not([hidden])');
  assert.equal(await page.evaluate(() => localStorage.getItem('projectSync.token')), user.token);
  assert.ok(await page.isVisible('#projects-empty'));
  assert.ok(await page.isVisible('#sign-out'));
  await shot('03-empty-dashboard');
});

test('the Connect an agent card gives this origin\'s /mcp and a client configuration that reaches it with the token', async () => {
  const endpoint = (await page.textContent('#agent-endpoint')).trim();
  const origin = await page.evaluate(() => window.location.origin);
  assert.equal(endpoint, `${origin}/mcp`);
  const config = JSON.parse(await page.textContent('#agent-config'));
  const server = config.mcpServers['project-sync'];
  assert.deepEqual([server.type, server.url], ['http', endpoint]);
  assert.match(server.headers.Authorization, /^Bearer </, 'a placeholder, not the token');
  assert.ok(!JSON.stringify(config).includes(user.token), 'the token is not written into it');
  await page.locator('#agent-title').scrollIntoViewIfNeeded();
  await shot('03b-connect-an-agent');
  // The configuration, with the token in place of the placeholder, is one an MCP client uses.
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { Authorization: server.headers.Authorization.replace(/<[^>]+>/, user.token), 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'card', version: '0' } } }),
  });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).result.serverInfo.name, 'project-sync');
});

test('signing out forgets the token', async () => {
  await page.click('#sign-out');
  await page.waitForSelector('#signin-view:not([hidden])');
  assert.equal(await page.evaluate(() => localStorage.getItem('projectSync.token')), null);
  await page.reload();
  await page.waitForSelector('#signin-view:not([hidden])');
  await shot('19-signed-out');
  assert.deepEqual(d.pageErrors, [], 'no script errors in the page');
});

test('the OpenAPI document is served and describes the whole contract', async () => {
  const res = await world.api('GET', '/openapi.json');
  assert.equal(res.status, 200);
  const doc = res.json;
  assert.match(doc.openapi, /^3\.1\./);
  for (const p of [
    '/healthz', '/api/v1/users', '/api/v1/projects', '/api/v1/projects/{projectId}', '/api/v1/projects/{projectId}/branches',
    '/api/v1/projects/{projectId}/syncs', '/api/v1/projects/{projectId}/restore', '/api/v1/syncs/{syncId}',
    '/api/v1/syncs/{syncId}/cancel', '/api/v1/syncs/{syncId}/changes', '/api/v1/syncs/{syncId}/events-url',
    '/api/v1/events/project-sync/{syncId}', '/api/v1/projects/{projectId}/files', '/api/v1/projects/{projectId}/files/history',
    '/api/v1/projects/{projectId}/memory', '/api/v1/webhooks/github',
  ]) assert.ok(doc.paths[p], `documents ${p}`);
  assert.equal(doc.components.securitySchemes.userToken.scheme, 'bearer');
  assert.equal(doc.components.securitySchemes.streamToken.name, 'access_token');
  const onDisk = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, 'web', 'openapi.json'), 'utf8'));
  assert.deepEqual(doc, onDisk);
  // The worker serves the same document under the API prefix (compiled in: needs a rebuild after edits).
  const api = await world.api('GET', '/api/v1/openapi.json');
  assert.equal(api.status, 200);
  assert.match(api.headers.get('content-type') ?? '', /application\/json/);
  assert.deepEqual(api.json, onDisk, '/api/v1/openapi.json is the current web/openapi.json (rebuild the worker if not)');
});
