// Browser test of the dashboard (web/), one flow.
// A project through a GitHub App installation: the installation, then one of its repositories.
// Its world, browser and helpers: ./support.mjs.
//
// Run: PATH=$PWD/node_modules/.bin:$PATH node --test tests/browser/installations.test.mjs

import assert from 'node:assert/strict';
import path from 'node:path';
import { createRepo, expectedFiles } from '../support/harness.mjs';
import { useDashboard } from './support.mjs';

// One hook sets the file up: node:test runs a file's top-level before hooks side by side.
const d = useDashboard(async () => {
  ({ world, repo, user, page } = d);
  await d.signIn();
});
const { test, shot, waitBanner } = d;
let world; let repo; let user; let page;

test('a project through a GitHub App installation: pick the installation, then one of its repositories', async () => {
  const site = createRepo(world.root, 'acme-org', 'app-site');
  site.write('index.html', '<h1>site</h1>\n');
  site.write('docs/guide.md', '# guide\n');
  const head = site.commit('site');
  world.emulator.setOption('installation', {
    id: 555, account: 'acme-org', repositorySelection: 'selected',
    repositories: ['acme-org/app-site'], privateRepositories: ['acme-org/app-site'],
  });
  const granted = await world.api('POST', '/api/v1/installations', { token: world.adminToken, body: { installationId: 555, userId: user.id } });
  assert.equal(granted.status, 201, granted.text);
  await page.reload();
  await page.waitForSelector('#create-installation-field:not([hidden])');
  assert.ok(await page.isVisible('#create-token-field'), 'without an installation picked, the token field is offered');
  await page.selectOption('#create-installation', '555');
  await page.waitForSelector('#create-installation-repo-field:not([hidden])');
  assert.ok(!(await page.isVisible('#create-token-field')), 'an installation replaces the personal token');
  await page.waitForFunction(() => document.querySelectorAll('#create-installation-repo option[value="acme-org/app-site"]').length === 1);
  assert.match(await page.textContent('#create-installation-repo'), /acme-org\/app-site \(private\)/);
  await page.selectOption('#create-installation-repo', 'acme-org/app-site');
  assert.equal(await page.inputValue('#create-repository'), 'acme-org/app-site');
  assert.equal(await page.getAttribute('#create-branch', 'placeholder'), 'main', 'the default branch is shown');
  await page.fill('#create-name', 'App site');
  await shot('17-installation-picker');
  await page.click('#create-submit');
  // The head itself (the "created" notice in the sync card names the project before it opens).
  await page.waitForFunction(() => document.getElementById('project-name')?.textContent === 'App site');
  const projects = (await world.api('GET', '/api/v1/projects?limit=500', { token: user.token })).json.items;
  const project = projects.find((p) => p.name === 'App site');
  assert.equal(project.installationId, 555);
  assert.ok(await page.isVisible('#create-token-field'), 'the form is reset for the next project');
  assert.equal(await page.textContent('#project-access'), 'GitHub App installation 555');

  await page.click('#sync-start');
  await waitBanner('COMPLETE');
  const want = expectedFiles(site, head);
  await page.waitForFunction((n) => document.querySelectorAll('#file-tree li.tree-file').length === n, want.length);
  const files = await page.evaluate(() => [...document.querySelectorAll('#file-tree li.tree-file')].map((li) => li.dataset.path));
  assert.deepEqual(files.sort(), want.map((f) => f.path).sort());
  const used = world.emulator.stats().log.filter((e) => e.path.includes('/repos/acme-org/app-site'));
  assert.ok(used.length > 0 && used.every((e) => e.credential === 'installation:555'), 'installation tokens only');
  await shot('18-installation-project-synced');
});
