// Browser test of the dashboard (web/), one flow.
// The path filter editor: a bad pattern refused in place, a dry-run preview, save and prune.
// Its world, browser and helpers: ./support.mjs.
//
// Run: PATH=$PWD/node_modules/.bin:$PATH node --test tests/browser/filter-editor.test.mjs

import assert from 'node:assert/strict';
import path from 'node:path';
import { createRepo, expectedFiles } from '../support/harness.mjs';
import { useDashboard } from './support.mjs';

// One hook sets the file up: node:test runs a file's top-level before hooks side by side.
const d = useDashboard(async () => {
  ({ world, user, page } = d);
  await d.signIn();
});
const { test, shot, waitBanner } = d;
let world; let user; let page;

test('a path filter: a bad pattern is refused in place, Preview runs a dry run, Save and the next sync prune', async () => {
  const lib = createRepo(world.root, 'acme', 'filtered-ui');
  lib.write('README.md', '# filtered\n');
  lib.write('src/main.rs', 'fn main() {}\n');
  lib.write('docs/guide.md', '# guide\n');
  lib.write('build.log', 'log\n');
  for (let i = 0; i < 12; i++) lib.write(`vendor/pkg${i % 3}/f${i}.js`, `// vendored ${i}\n`);
  const head = lib.commit('filtered');
  const created = await world.api('POST', '/api/v1/projects', { token: user.token, body: { name: 'Filtered', repository: 'acme/filtered-ui' } });
  assert.equal(created.status, 201, created.text);
  const id = created.json.id;
  await page.evaluate((h) => { window.location.hash = h; }, `#/projects/${encodeURIComponent(id)}`);
  await page.waitForFunction(() => document.getElementById('project-name')?.textContent === 'Filtered');
  await page.click('#sync-start');
  await waitBanner('COMPLETE');
  const all = expectedFiles(lib, head);
  await page.waitForFunction((n) => document.querySelectorAll('#file-tree li.tree-file').length === n, all.length);
  assert.equal(await page.textContent('#filter-summary'), 'Holding every path');
  assert.ok(await page.isDisabled('#filter-save'), 'nothing to save before an edit');

  // The API's validation shows under the list it is about.
  await page.fill('#filter-exclude', 'vendor/\n[oops');
  await page.click('#filter-save');
  await page.waitForSelector('#filter-exclude-error:not([hidden])');
  assert.match(await page.textContent('#filter-exclude-error'), /\[oops/);
  assert.equal(await page.getAttribute('#filter-exclude', 'aria-invalid'), 'true');
  await shot('20-filter-refused');

  // Preview: a dry run of the edited filter, followed by the banner; nothing changes.
  await page.fill('#filter-exclude', 'vendor/\n*.log');
  await page.click('#filter-preview');
  await page.waitForSelector('#filter-preview-list');
  await waitBanner('COMPLETE');
  assert.match(await page.textContent('#banner-status'), /dry run complete/i);
  const listed = await page.evaluate(() =>
    [...document.querySelectorAll('#filter-preview-list li')].map((li) => ({ path: li.dataset.path, text: li.textContent })));
  const dropped = all.filter((f) => f.path.startsWith('vendor/') || f.path.endsWith('.log')).map((f) => f.path).sort();
  assert.deepEqual(listed.map((l) => l.path).sort(), dropped, 'the preview lists what the filter takes away');
  assert.ok(listed.every((l) => /removed/.test(l.text) && /filtered/.test(l.text)), JSON.stringify(listed));
  const unchanged = (await world.api('GET', `/api/v1/projects/${id}`, { token: user.token })).json;
  assert.deepEqual(unchanged.exclude, [], 'a preview saves nothing');
  assert.equal(await page.locator('#file-tree li.tree-file').count(), all.length, 'and the files are as they were');
  const dryRow = page.locator('#history-body tr').first();
  await dryRow.locator('.tag-dry-run').waitFor();
  assert.equal(await dryRow.locator('button[data-restore]').count(), 0, 'a dry run offers no restore');
  await shot('21-filter-preview');

  // Save, then the next sync prunes.
  await page.click('#filter-save');
  await page.waitForFunction(() => /exclude vendor\/ \*\.log/.test(document.getElementById('filter-summary').textContent));
  const saved = (await world.api('GET', `/api/v1/projects/${id}`, { token: user.token })).json;
  assert.deepEqual(saved.exclude, ['vendor/', '*.log']);
  await page.click('#sync-start');
  await page.waitForFunction(() => /^Sync/.test(document.getElementById('banner').shadowRoot.getElementById('banner-status').textContent) && document.getElementById('banner').dataset.status === 'COMPLETE');
  const kept = all.filter((f) => !dropped.includes(f.path));
  await page.waitForFunction((n) => document.querySelectorAll('#file-tree li.tree-file').length === n, kept.length);
  const tree = await page.evaluate(() => [...document.querySelectorAll('#file-tree li.tree-file')].map((li) => li.dataset.path));
  assert.deepEqual(tree.sort(), kept.map((f) => f.path).sort());
  assert.match(await page.locator('#history-body tr').first().textContent(), /exclude vendor\/ \*\.log/);
  await shot('22-filter-saved-synced');
});
