// Browser test of the dashboard (web/), one flow.
// The file viewer: a file picked in the tree, text with line numbers, a binary with a download.
// Its world, browser and helpers: ./support.mjs.
//
// Run: PATH=$PWD/node_modules/.bin:$PATH node --test tests/browser/file-viewer.test.mjs

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { useDashboard } from './support.mjs';

// One hook sets the file up: node:test runs a file's top-level before hooks side by side.
const d = useDashboard(async () => {
  ({ repo, page, profileDir } = d);
  await d.signIn();
  await d.seedProject({ sync: true });
});
const { test, shot } = d;
let repo; let page; let profileDir;

test('a file picked in the tree is shown: text with line numbers, a binary with its size and a download', async () => {
  await page.click('#file-tree li.tree-file[data-path="README.md"] .tree-open');
  await page.waitForSelector('#file-viewer[data-view="text"]:not([hidden])');
  const gitText = repo.git(['show', `${repo.fixture.mainSha}:README.md`]);
  const lines = await page.$$eval('#file-viewer-body ol.code li', (items) => items.map((li) => li.textContent));
  assert.deepEqual(lines, gitText.replace(/\n$/, '').split('\n'), 'the text, line by line, as git has it');
  assert.equal(await page.textContent('#file-viewer-path'), 'README.md');
  await shot('07c-file-viewer-text');

  await page.click('#file-tree li.tree-file[data-path="assets/logo.bin"] .tree-open');
  await page.waitForSelector('#file-viewer[data-view="binary"]:not([hidden])');
  assert.match(await page.textContent('#file-viewer-body'), /binary/);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#file-download')]);
  const saved = path.join(profileDir, 'logo.bin');
  await download.saveAs(saved);
  const gitBytes = repo.git(['cat-file', 'blob', `${repo.fixture.mainSha}:assets/logo.bin`], { encoding: 'buffer' });
  assert.ok(fs.readFileSync(saved).equals(gitBytes), 'the download is the blob, byte for byte');
  assert.equal(download.suggestedFilename(), 'logo.bin');
  await shot('07d-file-viewer-binary');
  await page.click('#file-viewer-close');
  assert.ok(await page.isHidden('#file-viewer'));
});
