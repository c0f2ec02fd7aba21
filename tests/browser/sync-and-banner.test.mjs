// Browser test of the dashboard (web/), one flow.
// Syncing and the live banner: a first sync followed to COMPLETE (and the tree it leaves), a
// new commit synced again, a reload mid-sync, a 409 attached and cancelled, a dropped and a
// refused stream survived; labels and focus; the page on a phone.
// Its world, browser and helpers: ./support.mjs.
//
// Run: PATH=$PWD/node_modules/.bin:$PATH node --test tests/browser/sync-and-banner.test.mjs

import assert from 'node:assert/strict';
import path from 'node:path';
import { expectedFiles, expectedCounts } from '../support/harness.mjs';
import { thirdCommit, useDashboard, short, ARTIFACTS } from './support.mjs';

// One hook sets the file up: node:test runs a file's top-level before hooks side by side.
const d = useDashboard(async () => {
  ({ world, repo, user, page, context } = d);
  await d.signIn();
  await d.seedProject();
});
const { test, shot, waitBanner, waitRunning, banner, treeFiles, assertTreeMatches, historyRows } = d;
const s = d.s; // state shared by this file's tests, in order
let world; let repo; let user; let page; let context;

test('a first sync: the banner follows the stream to COMPLETE with the right counts', async () => {
  await page.click('#sync-start');
  // While it runs, the start button is disabled and Cancel is offered (unless it already ended).
  await waitBanner('COMPLETE');
  // After the terminal event the page reads the stored sync (commit, final stats).
  await page.waitForFunction((c) => document.getElementById('banner').shadowRoot.getElementById('banner-sub').textContent.includes(c), short(repo.fixture.mainSha));
  const b = await banner();
  const want = expectedFiles(repo, 'main');
  assert.deepEqual(b.counts, { added: want.length, modified: 0, removed: 0, renamed: 0, unchanged: 0 });
  assert.equal(b.progress, 100);
  assert.equal(b.role, 'progressbar');
  assert.equal(b.liveAttr, 'polite');
  assert.match(b.live, /complete/i);
  assert.match(b.sub, new RegExp(short(repo.fixture.mainSha)));
  assert.ok(Number(b.stats.githubRequests) > 0, `GitHub requests shown: ${b.stats.githubRequests}`);
  assert.notEqual(b.stats.durationMs, '–');
  assert.ok(await page.isEnabled('#sync-start'));
  assert.ok(!(await page.isVisible('#sync-cancel')));
  s.sync1 = b.syncId;

  // The counts shown are the stored ones.
  const stored = (await world.api('GET', `/api/v1/syncs/${s.sync1}`, { token: user.token })).json;
  assert.equal(stored.status, 'COMPLETE');
  assert.deepEqual(b.counts, { added: stored.counts.added, modified: stored.counts.modified, removed: stored.counts.removed, renamed: stored.counts.renamed, unchanged: stored.counts.unchanged });

  // History and project head follow.
  await page.waitForFunction((id) => document.querySelector(`#history-body tr[data-sync-id="${id}"][data-status="COMPLETE"]`), s.sync1);
  const rows = await historyRows();
  assert.equal(rows.length, 1);
  assert.equal(rows[0].commit, short(repo.fixture.mainSha));
  assert.match(rows[0].text, /sync/);
  assert.match(rows[0].text, /api/);
  assert.ok(rows[0].restore, 'a COMPLETE sync offers Restore');
  await page.waitForFunction((c) => document.getElementById('project-commit').textContent === c, short(repo.fixture.mainSha));

  // The file tree is the branch's tree.
  await assertTreeMatches(repo.fixture.mainSha, 'after the first sync');
  // Directories are <details>; they collapse and expand.
  const dirs = await page.locator('#file-tree details').count();
  assert.ok(dirs > 3);
  await page.click('#tree-collapse');
  assert.equal(await page.locator('#file-tree details[open]').count(), 0);
  await page.click('#tree-expand');
  assert.equal(await page.locator('#file-tree details[open]').count(), dirs);
  // Keyboard: a summary takes focus and Enter toggles it.
  const summary = page.locator('#file-tree summary').first();
  await summary.focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('#file-tree details').first().evaluate((d) => d.open), false);
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('#file-tree details').first().evaluate((d) => d.open), true);
  // The filter narrows the tree to matching paths.
  await page.fill('#files-filter', 'retry');
  await page.waitForFunction(() => document.querySelectorAll('#file-tree li.tree-file').length === 1);
  assert.equal(await page.getAttribute('#file-tree li.tree-file', 'data-path'), 'src/net/http/client/retry.rs');
  assert.match(await page.textContent('#files-summary'), /1 match/);
  await shot('07b-files-filtered');
  await page.fill('#files-filter', '');
  await page.waitForFunction((n) => document.querySelectorAll('#file-tree li.tree-file').length === n, want.length);
  await shot('07-first-sync-complete');
});

test('a new commit, synced again: counts match git, untrusted paths stay text', async () => {
  ({ sha: s.sha2, xssName: s.xssName } = thirdCommit(repo));
  const { counts } = expectedCounts(repo, repo.fixture.mainSha, s.sha2);

  await page.click('#sync-start');
  await page.waitForFunction((old) => document.getElementById('banner').dataset.syncId !== old, s.sync1);
  s.sync2 = await page.getAttribute('#banner', 'data-sync-id');
  await waitBanner('COMPLETE', { syncId: s.sync2 });
  const b = await banner();
  assert.deepEqual(b.counts, counts, 'counts from git diff --name-status -M');
  await assertTreeMatches(s.sha2, 'after the second sync');
  const rows = await historyRows();
  assert.deepEqual(rows.map((r) => r.id), [s.sync2, s.sync1]);
  assert.equal(rows[0].commit, short(s.sha2));

  // The path with markup is shown as text, never parsed.
  const names = (await treeFiles()).map((f) => f.name);
  assert.ok(names.includes(s.xssName), 'the file name is shown literally');
  assert.equal(await page.locator('#file-tree img').count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await shot('08-second-sync-complete');
});

test('a reload in the middle of a sync picks the running sync up again', async () => {
  repo.write('docs/reload.md', 'written before the reload test\n');
  s.sha3 = repo.commit('fourth commit');
  world.emulator.clearFaults();
  world.emulator.injectFault({ kind: 'delay', route: 'tree', ms: 7000, times: 1 });

  await page.click('#sync-start');
  await waitRunning();
  s.sync3 = await page.getAttribute('#banner', 'data-sync-id');
  assert.notEqual(s.sync3, s.restore);
  assert.ok(await page.isVisible('#sync-cancel'), 'Cancel is offered while the sync runs');
  assert.ok(await page.isDisabled('#sync-start'));
  // The phase indicator turns, unless the person asked for less motion.
  assert.equal(await page.$eval('.phase-indicator', (e) => getComputedStyle(e).animationName), 'spin');
  await page.emulateMedia({ reducedMotion: 'reduce' });
  assert.equal(await page.$eval('.phase-indicator', (e) => getComputedStyle(e).animationName), 'none');
  assert.equal(await page.$eval('.progress-fill', (e) => getComputedStyle(e).animationName), 'none');
  await page.emulateMedia({ reducedMotion: 'no-preference' });
  await shot('11-sync-running');

  await page.reload();
  await page.waitForSelector('#project-view:not([hidden])');
  await waitRunning({ timeout: 15_000 });
  assert.equal(await page.getAttribute('#banner', 'data-sync-id'), s.sync3, 'the banner shows the running sync after the reload');
  assert.ok(await page.isVisible('#sync-cancel'));
  await shot('12-after-reload-running');

  await waitBanner('COMPLETE', { syncId: s.sync3 });
  const b = await banner();
  // From the files held before it: the second sync's.
  const { counts } = expectedCounts(repo, s.sha2, s.sha3);
  assert.deepEqual(b.counts, counts);
  await assertTreeMatches(s.sha3, 'after the sync followed across a reload');
  await shot('13-after-reload-complete');
});

test('starting while a sync runs (409) attaches to it; Cancel stops it', async () => {
  repo.write('docs/conflict.md', 'a commit for the 409 test\n');
  const sha4 = repo.commit('fifth commit');
  world.emulator.clearFaults();
  world.emulator.injectFault({ kind: 'delay', route: 'tree', ms: 8000, times: 1 });
  // Someone else (the API, another tab) starts a sync; this page does not know about it.
  const res = await world.api('POST', `/api/v1/projects/${s.projectId}/syncs`, { token: user.token, body: {} });
  assert.equal(res.status, 202);
  const running = res.json.sync.id;

  await page.click('#sync-start');
  await page.waitForSelector('#sync-notice:not([hidden])');
  assert.match(await page.textContent('#sync-notice'), /already running/);
  await waitRunning();
  assert.equal(await page.getAttribute('#banner', 'data-sync-id'), running);
  assert.ok(!(await page.isVisible('#sync-error')), 'a 409 with a running sync is not shown as an error');
  await shot('14-conflict-attached');

  await page.click('#sync-cancel');
  await waitBanner('CANCELLED', { syncId: running });
  assert.ok(!(await page.isVisible('#sync-cancel')));
  assert.ok(await page.isEnabled('#sync-start'));
  await page.waitForFunction((id) => document.querySelector(`#history-body tr[data-sync-id="${id}"][data-status="CANCELLED"]`), running);
  // A cancelled sync changes nothing: the files are still those of the last completed sync.
  await assertTreeMatches(s.sha3, 'after a cancelled sync');
  assert.notEqual(short(sha4), await page.textContent('#project-commit'));
  await shot('15-cancelled');
  world.emulator.clearFaults();
});

test('the banner survives a dropped stream and a refused (expired) stream token', async () => {
  repo.write('docs/reconnect.md', 'a commit for the reconnect test\n');
  const sha = repo.commit('reconnect commit');
  world.emulator.clearFaults();
  world.emulator.injectFault({ kind: 'delay', route: 'tree', ms: 4000, times: 1 });
  let streams = 0;
  const eventsUrlCalls = [];
  page.on('request', (r) => {
    if (/\/api\/v1\/syncs\/[^/]+\/events-url$/.test(new URL(r.url()).pathname)) eventsUrlCalls.push(r.url());
  });
  await page.route('**/api/v1/events/project-sync/**', async (route) => {
    streams += 1;
    if (streams === 1) return route.abort('connectionreset'); // the network drops: EventSource retries by itself
    if (streams === 2) {
      // The stream token expired: the server refuses, EventSource gives up, the page asks for a fresh URL.
      return route.fulfill({
        status: 401,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'unauthorized', message: 'the stream token is not valid for this sync (Expired)' } }),
      });
    }
    return route.continue();
  });
  try {
    await page.click('#sync-start');
    await page.waitForFunction(() => !document.getElementById('banner').shadowRoot.getElementById('banner-connection').hidden, null, { timeout: 15_000 });
    assert.match(await page.textContent('#banner-connection'), /Reconnecting/);
    await shot('15b-reconnecting');
    const id = await page.getAttribute('#banner', 'data-sync-id');
    await waitBanner('COMPLETE', { syncId: id });
    assert.ok(streams >= 3, `the stream was opened ${streams} times`);
    assert.ok(eventsUrlCalls.length >= 1, 'a fresh events-url was requested after the refusal');
    assert.ok(await page.isHidden('#banner-connection'), 'the reconnect note goes away');
    const b = await banner();
    assert.deepEqual(b.counts, expectedCounts(repo, s.sha3, sha).counts);
    assert.equal(b.progress, 100);
    await assertTreeMatches(sha, 'after a sync followed across a dropped and a refused stream');
    s.sha5 = sha;
  } finally {
    await page.unroute('**/api/v1/events/project-sync/**');
    world.emulator.clearFaults();
  }
});

test('every control has a label; keyboard focus is visible', async () => {
  const unlabeled = await page.evaluate(() => {
    const out = [];
    // The page and the shadow roots of its elements (the sync card's controls and banner).
    const roots = [document, ...[...document.querySelectorAll('*')].map((e) => e.shadowRoot).filter(Boolean)];
    for (const e of roots.flatMap((r) => [...r.querySelectorAll('input, select, textarea, button')])) {
      const name = (e.labels && e.labels.length ? [...e.labels].map((l) => l.textContent).join(' ') : '')
        || e.getAttribute('aria-label') || (e.tagName === 'BUTTON' ? e.textContent : '');
      if (!name.trim()) out.push(e.id || e.outerHTML.slice(0, 80));
    }
    return out;
  });
  assert.deepEqual(unlabeled, []);
  // The picker is disabled while branches load; a disabled control takes no focus.
  await page.waitForFunction(() => !document.getElementById('sync-controls').shadowRoot.getElementById('sync-branch').disabled);
  await page.focus('#sync-branch');
  await page.keyboard.press('Tab');
  const outline = await page.evaluate(() => {
    let e = document.activeElement;
    while (e.shadowRoot?.activeElement) e = e.shadowRoot.activeElement;
    const cs = getComputedStyle(e);
    return { id: e.id, style: cs.outlineStyle, width: cs.outlineWidth };
  });
  assert.equal(outline.id, 'sync-start');
  assert.equal(outline.style, 'solid');
  assert.notEqual(outline.width, '0px');
});

test('on a phone the page is one column and does not scroll sideways', async () => {
  const phone = await context.newPage();
  d.watchErrors(phone);
  await phone.setViewportSize({ width: 390, height: 844 });
  await phone.goto(`/#/projects/${encodeURIComponent(s.projectId)}`);
  await phone.waitForSelector('#project-view:not([hidden])');
  await waitBanner('COMPLETE', { p: phone });
  await phone.waitForSelector('#file-tree li.tree-file');
  const layout = await phone.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    width: window.innerWidth,
    columns: getComputedStyle(document.querySelector('.layout')).gridTemplateColumns.split(' ').length,
  }));
  assert.equal(layout.columns, 1);
  assert.ok(layout.scrollWidth <= layout.width, `no sideways scroll: ${layout.scrollWidth} > ${layout.width}`);
  await phone.screenshot({ path: path.join(ARTIFACTS, '16-phone-top.png') });
  await phone.locator('#banner').scrollIntoViewIfNeeded();
  await phone.screenshot({ path: path.join(ARTIFACTS, '16-phone-banner.png') });
  await phone.locator('#history-title').scrollIntoViewIfNeeded();
  await phone.evaluate(() => document.getElementById('history-title').scrollIntoView({ block: 'start' }));
  await phone.screenshot({ path: path.join(ARTIFACTS, '16-phone-history.png') });
  await phone.evaluate(() => document.getElementById('files-title').scrollIntoView({ block: 'start' }));
  await phone.screenshot({ path: path.join(ARTIFACTS, '16-phone-files.png') });
  await phone.emulateMedia({ colorScheme: 'dark' });
  await phone.evaluate(() => document.getElementById('banner').scrollIntoView({ block: 'start' }));
  await phone.screenshot({ path: path.join(ARTIFACTS, '16-phone-dark.png') });
  await phone.close();
});
