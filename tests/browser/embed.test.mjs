// Browser test of the dashboard (web/), one flow.
// The embed example: the elements in a foreign page start a sync and follow it live.
// Its world, browser and helpers: ./support.mjs.
//
// Run: PATH=$PWD/node_modules/.bin:$PATH node --test tests/browser/embed.test.mjs

import assert from 'node:assert/strict';
import { createRepo } from '../support/harness.mjs';
import { useDashboard, UI_TIMEOUT } from './support.mjs';

// One hook sets the file up: node:test runs a file's top-level before hooks side by side.
const d = useDashboard(async () => {
  ({ world, user, page } = d);
  await d.signIn();
});
const { test, shot } = d;
let world; let user; let page;

test('the embed example: the controls start a sync in a foreign page, the banner follows it live', async () => {
  const site = createRepo(world.root, 'acme', 'embedded');
  for (let i = 0; i < 5; i++) site.write(`pages/p${i}.md`, `# page ${i}\n`);
  site.commit('pages');
  const created = await world.api('POST', '/api/v1/projects', { token: user.token, body: { name: 'Embedded', repository: 'acme/embedded' } });
  assert.equal(created.status, 201, created.text);
  await page.goto(`/examples/embed.html?project=${encodeURIComponent(created.json.id)}`);
  await page.waitForFunction(() => /Embedded: acme\/embedded/.test(document.getElementById('embed-project').textContent));
  await page.waitForSelector('project-sync-controls select option[value="main"]', { state: 'attached' });
  world.emulator.injectFault({ kind: 'delay', route: 'tree', ms: 2500, times: 1 });
  await page.click('project-sync-controls button[part="start"]');
  await page.waitForFunction(() => {
    const b = document.querySelector('project-sync-banner');
    return b.hasAttribute('data-running') && ['FETCHING', 'QUEUED'].includes(b.dataset.status);
  });
  assert.equal(await page.isVisible('project-sync-controls button[part="cancel"]'), true, 'Cancel is offered while it runs');
  await shot('24-embed-live');
  await page.waitForFunction(() => document.querySelector('project-sync-banner').dataset.status === 'COMPLETE', undefined, { timeout: UI_TIMEOUT });
  const shown = await page.evaluate(() => {
    const root = document.querySelector('project-sync-banner').shadowRoot;
    const figures = Object.fromEntries([...root.querySelectorAll('.figures [data-count]')].map((dd) => [dd.dataset.count, dd.textContent]));
    return { title: root.querySelector('.title').textContent, figures, now: root.querySelector('.track').getAttribute('aria-valuenow') };
  });
  assert.equal(shown.title, 'Sync complete');
  assert.equal(shown.figures.added, '5');
  assert.equal(shown.now, '100');
  await page.waitForFunction(() => {
    const root = document.querySelector('project-sync-banner').shadowRoot;
    return Math.abs(root.querySelector('.fill').getBoundingClientRect().width - root.querySelector('.track').getBoundingClientRect().width) < 0.5;
  });
  assert.ok(await page.isHidden('project-sync-controls button[part="cancel"]'), 'Cancel goes once it ended');
  await shot('25-embed-complete');
  await page.goto('/');
  await page.waitForSelector('html[data-ready="true"]');
});
