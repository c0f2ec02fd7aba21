// Browser test of the dashboard (web/), one flow.
// The history: restoring a sync (confirm, watch, files), a sync's changes, a compare of two
// syncs and a search, history pages with a "more" button.
// Its world, browser and helpers: ./support.mjs.
//
// Run: PATH=$PWD/node_modules/.bin:$PATH node --test tests/browser/history.test.mjs

import assert from 'node:assert/strict';
import { expectedChanges } from '../support/harness.mjs';
import { useDashboard, short, thirdCommit } from './support.mjs';

// One hook sets the file up: node:test runs a file's top-level before hooks side by side.
const d = useDashboard(async () => {
  ({ world, repo, user, page } = d);
  await d.signIn();
  await d.seedProject({ sync: true });
  s.sha2 = thirdCommit(repo).sha;
  s.sync2 = (await user.syncAndWait(s.projectId)).done.id;
  await d.open(s.projectId, 'Widgets');
  await waitBanner('COMPLETE', { syncId: s.sync2 });
});
const { test, shot, waitBanner, banner, assertTreeMatches, historyRows, apiSyncs } = d;
const s = d.s; // state shared by this file's tests, in order
let world; let repo; let user; let page;

test('restoring the first sync from the history: confirm, watch it, files match', async () => {
  const button = page.locator(`#history-body tr[data-sync-id="${s.sync1}"] button[data-restore]`);
  await button.click();
  await page.waitForSelector('#confirm-dialog[open]');
  assert.match(await page.textContent('#confirm-text'), new RegExp(short(repo.fixture.mainSha)));
  await shot('09-restore-confirm');

  // Cancelling the dialog does nothing.
  await page.click('#confirm-no');
  await page.waitForFunction(() => !document.getElementById('confirm-dialog').open);
  assert.equal((await apiSyncs()).length, 2, 'no restore was started');

  await button.click();
  await page.waitForSelector('#confirm-dialog[open]');
  await page.click('#confirm-yes');
  await page.waitForFunction((old) => document.getElementById('banner').dataset.syncId !== old, s.sync2);
  s.restore = await page.getAttribute('#banner', 'data-sync-id');
  await waitBanner('COMPLETE', { syncId: s.restore });
  const b = await banner();
  assert.match(b.live, /restore complete/i);
  const stored = (await world.api('GET', `/api/v1/syncs/${s.restore}`, { token: user.token })).json;
  assert.equal(stored.kind, 'restore');
  assert.equal(stored.restoredFromSyncId, s.sync1);
  for (const k of Object.keys(b.counts)) assert.equal(b.counts[k], stored.counts[k], `restore count ${k}`);
  await assertTreeMatches(repo.fixture.mainSha, 'after restoring the first sync');
  await page.waitForFunction((id) => document.querySelector(`#history-body tr[data-sync-id="${id}"][data-status="COMPLETE"]`), s.restore);
  const rows = await historyRows();
  assert.equal(rows[0].id, s.restore);
  assert.match(rows[0].text, /restore/);
  await page.waitForFunction((c) => document.getElementById('project-commit').textContent === c, short(repo.fixture.mainSha));
  await shot('10-restore-complete');
});

test('a sync\'s changes from the history, a compare of two syncs, and a search with marked matches', async () => {
  const want = expectedChanges(repo, repo.fixture.mainSha, s.sha2).map((c) => `${c.change} ${c.path}`).sort();
  const listed = async () => {
    await page.waitForFunction(() => document.querySelectorAll('#changes-list li').length > 0);
    return page.evaluate(() => [...document.querySelectorAll('#changes-list li')].map((li) => `${li.dataset.change} ${li.dataset.path}`).sort());
  };
  await page.click(`#history-body tr[data-sync-id="${s.sync2}"] button[data-changes]`);
  assert.deepEqual(await listed(), want, 'the second sync\'s changes equal git diff -M');
  await page.waitForFunction((id) => [...document.querySelectorAll('#compare-from option')].some((o) => o.value === id), s.sync1);
  await page.selectOption('#compare-from', s.sync1);
  await page.selectOption('#compare-to', s.sync2);
  await page.evaluate(() => document.getElementById('changes-list').replaceChildren());
  await page.click('#compare-run');
  assert.deepEqual(await listed(), want, 'compare of the first and second sync: the same changes');
  assert.match(await page.textContent('#changes-title'), /^From .* to /);

  await page.fill('#memory-q', 'fixture REPOSITORY');
  await page.click('#memory-run');
  await page.waitForSelector('#memory-results li[data-path="README.md"]');
  const marks = await page.$$eval('#memory-results li[data-path="README.md"] mark', (ms) => ms.map((m) => m.textContent.toLowerCase()));
  assert.ok(marks.includes('fixture') && marks.includes('repository'), `matches are marked: ${marks}`);
  await shot('10b-changes-compare-search');
});

test('history pages with a "more" button', async () => {
  // 6 syncs so far; the page size of the dashboard is 20: add a few quick ones via the API
  // until there are more than 20, then check the button.
  for (let i = 0; (await apiSyncs()).length <= 20 && i < 20; i += 1) {
    const r = await user.startSync(s.projectId);
    await user.waitSync(r.sync.id);
  }
  await page.click('#history-refresh');
  await page.waitForSelector('#history-more:not([hidden])');
  assert.equal(await page.locator('#history-body tr').count(), 20);
  await page.click('#history-more');
  const total = (await apiSyncs()).length;
  await page.waitForFunction((n) => document.querySelectorAll('#history-body tr').length === n, total);
  assert.ok(await page.isHidden('#history-more'));
});
