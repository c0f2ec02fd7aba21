// Browser test of the dashboard (web/), one flow.
// Projects: creating one (errors in place, then created), its branch picker, tracking on and
// off, deleting after a confirm.
// Its world, browser and helpers: ./support.mjs.
//
// Run: PATH=$PWD/node_modules/.bin:$PATH node --test tests/browser/projects.test.mjs

import assert from 'node:assert/strict';
import { gitBranches } from '../support/harness.mjs';
import { useDashboard } from './support.mjs';

// One hook sets the file up: node:test runs a file's top-level before hooks side by side.
const d = useDashboard(async () => {
  ({ world, repo, user, page } = d);
  await d.signIn();
});
const { test, shot, waitBanner } = d;
const s = d.s; // state shared by this file's tests, in order
let world; let repo; let user; let page;

test('creating a project shows API errors next to the form, then creates it', async () => {
  // Client-side check first: not owner/repo.
  await page.fill('#create-name', 'Widgets');
  await page.fill('#create-repository', 'widgets');
  await page.click('#create-submit');
  await page.waitForSelector('#create-repository-error:not([hidden])');
  assert.equal(await page.getAttribute('#create-repository', 'aria-invalid'), 'true');

  // 422 github_error from the API: the repository does not exist.
  await page.fill('#create-repository', 'acme/no-such-repo');
  await page.click('#create-submit');
  await page.waitForFunction(() => /github_error/.test(document.getElementById('create-error').textContent));
  const error422 = await page.textContent('#create-error');
  assert.match(error422, /acme\/no-such-repo/);
  assert.match(error422, /422/);
  await shot('04-create-project-github-error');

  // 400 invalid_request naming a field: the error goes under that field too.
  await page.fill('#create-repository', 'acme/widgets');
  await page.fill('#create-branch', 'bad..branch');
  await page.click('#create-submit');
  await page.waitForFunction(() => /invalid_request/.test(document.getElementById('create-error').textContent));
  assert.ok(await page.isVisible('#create-branch-error'));
  assert.equal(await page.getAttribute('#create-branch', 'aria-invalid'), 'true');
  await shot('05-create-project-field-error');

  // A good one (no branch: the default branch), tracked.
  await page.fill('#create-branch', '');
  await page.check('#create-tracked');
  await page.click('#create-submit');
  await page.waitForSelector('#project-view:not([hidden])');
  await page.waitForFunction(() => document.getElementById('project-name').textContent === 'Widgets');
  assert.ok(!(await page.isVisible('#create-error')));
  assert.equal(await page.inputValue('#create-name'), '', 'the form is reset');
  s.projectId = decodeURIComponent(/#\/projects\/(.+)$/.exec(page.url())[1]);
  const project = (await world.api('GET', `/api/v1/projects/${s.projectId}`, { token: user.token })).json;
  assert.equal(project.repository, 'acme/widgets');
  assert.equal(project.branch, 'main');
  assert.equal(project.tracked, true);
  assert.equal(await page.textContent('#project-branch'), 'main');
  assert.equal(await page.isChecked('#project-tracked'), true);
  assert.equal(await page.locator('#project-list a[aria-current="page"]').count(), 1);
});

test('the branch picker lists every branch of the repository', async () => {
  const branches = gitBranches(repo).map((b) => b.name);
  await page.waitForFunction((n) => document.getElementById('sync-controls').shadowRoot.querySelectorAll('#sync-branch option').length === n && !document.getElementById('sync-controls').shadowRoot.getElementById('sync-branch').disabled, branches.length);
  const options = await page.$$eval('#sync-branch option', (os) => os.map((o) => o.value));
  assert.deepEqual([...options].sort(), [...branches].sort());
  assert.equal(await page.inputValue('#sync-branch'), 'main');
  assert.match(await page.textContent('#sync-branch-status'), new RegExp(`${branches.length} branches`));
  assert.match(await page.textContent('#files-summary'), /No files yet/);
  await shot('06-project-created');
});

test('tracking can be switched off and on; a project can be deleted after a confirm', async () => {
  // Widgets has a completed sync: the banner shows it when Widgets opens again after the delete.
  await user.syncAndWait(s.projectId);
  const evil = '<img src=x onerror="window.__xss2=1"> Scratch';
  const res = await world.api('POST', '/api/v1/projects', { token: user.token, body: { name: evil, repository: 'acme/widgets', branch: 'release/2026/q4' } });
  assert.equal(res.status, 201);
  const scratch = res.json;
  await page.click('#projects-refresh');
  const link = page.locator(`#project-list a[href="#/projects/${encodeURIComponent(scratch.id)}"]`);
  await link.waitFor();
  assert.equal(await link.locator('.project-link-name').textContent(), evil, 'the name is shown as text');
  await link.click();
  await page.waitForFunction((n) => document.getElementById('project-name').textContent === n, evil);
  assert.equal(await page.locator('#project-list img, #project-view img').count(), 0);
  assert.equal(await page.evaluate(() => window.__xss2), undefined);
  assert.equal(await page.textContent('#project-branch'), 'release/2026/q4');
  await page.waitForFunction(() => document.getElementById('sync-controls').shadowRoot.getElementById('sync-branch').value === 'release/2026/q4');

  // Tracked: off by default here; switch it on and off again.
  assert.equal(await page.isChecked('#project-tracked'), false);
  await page.check('#project-tracked');
  await page.waitForFunction(() => !document.getElementById('project-tracked').disabled);
  assert.equal((await world.api('GET', `/api/v1/projects/${scratch.id}`, { token: user.token })).json.tracked, true);
  await page.uncheck('#project-tracked');
  await page.waitForFunction(() => !document.getElementById('project-tracked').disabled);
  assert.equal((await world.api('GET', `/api/v1/projects/${scratch.id}`, { token: user.token })).json.tracked, false);

  // Delete: the dialog first (Cancel keeps it), then for real.
  await page.click('#project-delete');
  await page.waitForSelector('#confirm-dialog[open]');
  await shot('16a-delete-confirm');
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.getElementById('confirm-dialog').open);
  assert.equal((await world.api('GET', `/api/v1/projects/${scratch.id}`, { token: user.token })).status, 200);
  await page.click('#project-delete');
  await page.waitForSelector('#confirm-dialog[open]');
  await page.click('#confirm-yes');
  await page.waitForFunction((id) => !document.querySelector(`#project-list a[href="#/projects/${id}"]`), encodeURIComponent(scratch.id));
  assert.equal((await world.api('GET', `/api/v1/projects/${scratch.id}`, { token: user.token })).status, 404);
  await page.waitForFunction(() => document.getElementById('project-name').textContent === 'Widgets');
  await waitBanner('COMPLETE');
});
