// Browser tests of the dashboard (web/): Debian's Chromium driven by playwright-core against
// one world (GitHub emulator + `wrangler dev` on the prebuilt worker, from the e2e harness).
// The tests run in order and build on each other, like a person using the page: sign in,
// create a project, sync, sync a new commit, restore, reload mid-sync, attach on a 409,
// cancel, use it on a phone. Screenshots of every step go to tests/artifacts/ (gitignored).
//
// Run: PATH=$PWD/node_modules/.bin:$PATH node --test tests/browser/*.test.mjs

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import {
  startWorld,
  worldTest,
  makeStandardRepo,
  createRepo,
  expectedFiles,
  expectedCounts,
  expectedChanges,
  gitBranches,
  PROJECT_DIR,
  TERMINAL,
} from '../support/harness.mjs';
import { startHookReceiver } from '../support/hook-receiver.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARTIFACTS = path.join(PROJECT_DIR, 'tests', 'artifacts', 'browser');
const UI_TIMEOUT = 60_000;

let world;
let repo;
let user;
let profileDir;
let context;
let page;
const pageErrors = [];
const s = {}; // state shared by the ordered tests

const test = worldTest(() => world);

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  world = await startWorld({ app: { keyFormat: 'pkcs1' } });
  repo = makeStandardRepo(world.root);
  user = await world.createUser('Dashboard tester');
  profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'project-sync-chromium-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
    reducedMotion: 'no-preference',
    baseURL: world.base,
  });
  context.setDefaultTimeout(UI_TIMEOUT);
  page = context.pages()[0] ?? (await context.newPage());
  watchErrors(page);
});

after(async () => {
  await context?.close().catch(() => {});
  if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
  await world?.stop();
});

function watchErrors(p) {
  p.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  p.on('console', (m) => {
    // A refused request (401 for a wrong token, 409, 422 ...) is logged by Chromium itself; that is expected.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
  });
}

async function shot(name, p = page) {
  await p.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

const short = (sha) => sha.slice(0, 7);

/** Waits until the banner shows `status` (for sync `syncId`, if given). */
async function waitBanner(status, { syncId, p = page, timeout = UI_TIMEOUT } = {}) {
  await p.waitForFunction(
    ([want, id]) => {
      const b = document.getElementById('banner');
      return b && !b.hidden && b.dataset.status === want && (!id || b.dataset.syncId === id);
    },
    [status, syncId ?? null],
    { timeout },
  );
}

async function waitRunning({ p = page, timeout = UI_TIMEOUT } = {}) {
  await p.waitForFunction(
    (terminal) => {
      const b = document.getElementById('banner');
      return b && !b.hidden && b.dataset.status && !terminal.includes(b.dataset.status);
    },
    TERMINAL,
    { timeout },
  );
}

async function banner(p = page) {
  return p.evaluate(() => {
    const b = document.getElementById('banner');
    const counts = {};
    for (const dd of b.querySelectorAll('[data-count]')) counts[dd.dataset.count] = Number(dd.textContent.replace(/[^0-9]/g, ''));
    const stats = {};
    for (const dd of b.querySelectorAll('[data-stat]')) stats[dd.dataset.stat] = dd.textContent;
    const bar = document.getElementById('banner-progress');
    return {
      status: b.dataset.status,
      syncId: b.dataset.syncId,
      live: document.getElementById('banner-status').textContent,
      liveAttr: document.getElementById('banner-status').getAttribute('aria-live'),
      progress: Number(bar.getAttribute('aria-valuenow')),
      role: bar.getAttribute('role'),
      counts,
      stats,
      sub: document.getElementById('banner-sub').textContent,
    };
  });
}

/** The file tree as [{path, mode, sha, shortSha, name}]. Small trees (these) render every row. */
async function treeFiles(p = page) {
  return p.evaluate(() =>
    [...document.querySelectorAll('#file-tree li.tree-file')].map((li) => ({
      path: li.dataset.path,
      mode: li.querySelector('.mode').textContent,
      sha: li.querySelector('.sha').getAttribute('title').replace(/^blob /, ''),
      shortSha: li.querySelector('.sha').textContent,
      name: li.querySelector('.tree-name').textContent,
    })),
  );
}

async function assertTreeMatches(ref, what) {
  const want = expectedFiles(repo, ref);
  await page.waitForFunction((n) => document.querySelectorAll('#file-tree li.tree-file').length === n, want.length);
  const got = await treeFiles();
  const byPath = new Map(got.map((f) => [f.path, f]));
  assert.deepEqual([...byPath.keys()].sort(), want.map((f) => f.path).sort(), `${what}: the tree lists exactly the files of ${ref}`);
  for (const f of want) {
    const g = byPath.get(f.path);
    assert.equal(g.sha, f.sha, `${what}: sha of ${f.path}`);
    assert.equal(g.shortSha, short(f.sha), `${what}: short sha of ${f.path}`);
    assert.equal(g.mode, f.mode, `${what}: mode of ${f.path}`);
  }
}

async function historyRows(p = page) {
  return p.evaluate(() =>
    [...document.querySelectorAll('#history-body tr')].map((tr) => ({
      id: tr.dataset.syncId,
      status: tr.dataset.status,
      text: tr.textContent,
      commit: tr.querySelector('.sha')?.textContent ?? null,
      restore: Boolean(tr.querySelector('button[data-restore]')),
    })),
  );
}

async function apiSyncs() {
  const res = await world.api('GET', `/api/v1/projects/${s.projectId}/syncs?limit=50`, { token: user.token });
  assert.equal(res.status, 200);
  return res.json.items;
}

// ---------------------------------------------------------------------------

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
  await page.waitForFunction((n) => document.querySelectorAll('#sync-branch option').length === n && !document.getElementById('sync-branch').disabled, branches.length);
  const options = await page.$$eval('#sync-branch option', (os) => os.map((o) => o.value));
  assert.deepEqual([...options].sort(), [...branches].sort());
  assert.equal(await page.inputValue('#sync-branch'), 'main');
  assert.match(await page.textContent('#sync-branch-status'), new RegExp(`${branches.length} branches`));
  assert.match(await page.textContent('#files-summary'), /No files yet/);
  await shot('06-project-created');
});

test('a first sync: the banner follows the stream to COMPLETE with the right counts', async () => {
  await page.click('#sync-start');
  // While it runs, the start button is disabled and Cancel is offered (unless it already ended).
  await waitBanner('COMPLETE');
  // After the terminal event the page reads the stored sync (commit, final stats).
  await page.waitForFunction((c) => document.getElementById('banner-sub').textContent.includes(c), short(repo.fixture.mainSha));
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

test('a new commit, synced again: counts match git, untrusted paths stay text', async () => {
  repo.write('README.md', '# widgets\n\nFixture repository for Project Sync.\n\nThird revision.\n');
  repo.remove('assets/empty.txt');
  repo.move('docs/CHANGELOG.md', 'docs/HISTORY.md');
  s.xssName = '<img src=x onerror="window.__xss=1">.md';
  repo.write(`docs/${s.xssName}`, 'not markup\n');
  repo.write('src/net/http/client/timeout.rs', 'pub fn timeout() {}\n');
  s.sha2 = repo.commit('third commit');
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
  const { counts } = expectedCounts(repo, repo.fixture.mainSha, s.sha3);
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
    await page.waitForFunction(() => !document.getElementById('banner-connection').hidden, null, { timeout: 15_000 });
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

test('tracking can be switched off and on; a project can be deleted after a confirm', async () => {
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
  await page.waitForFunction(() => document.getElementById('sync-branch').value === 'release/2026/q4');

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

test('every control has a label; keyboard focus is visible', async () => {
  const unlabeled = await page.evaluate(() => {
    const out = [];
    for (const e of document.querySelectorAll('input, select, textarea, button')) {
      const name = (e.labels && e.labels.length ? [...e.labels].map((l) => l.textContent).join(' ') : '')
        || e.getAttribute('aria-label') || (e.tagName === 'BUTTON' ? e.textContent : '');
      if (!name.trim()) out.push(e.id || e.outerHTML.slice(0, 80));
    }
    return out;
  });
  assert.deepEqual(unlabeled, []);
  // The picker is disabled while branches load; a disabled control takes no focus.
  await page.waitForFunction(() => !document.getElementById('sync-branch').disabled);
  await page.focus('#sync-branch');
  await page.keyboard.press('Tab');
  const outline = await page.evaluate(() => {
    const e = document.activeElement;
    const cs = getComputedStyle(e);
    return { id: e.id, style: cs.outlineStyle, width: cs.outlineWidth };
  });
  assert.equal(outline.id, 'sync-start');
  assert.equal(outline.style, 'solid');
  assert.notEqual(outline.width, '0px');
});

test('on a phone the page is one column and does not scroll sideways', async () => {
  const phone = await context.newPage();
  watchErrors(phone);
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
  await page.waitForFunction(() => /^Sync/.test(document.getElementById('banner-status').textContent) && document.getElementById('banner').dataset.status === 'COMPLETE');
  const kept = all.filter((f) => !dropped.includes(f.path));
  await page.waitForFunction((n) => document.querySelectorAll('#file-tree li.tree-file').length === n, kept.length);
  const tree = await page.evaluate(() => [...document.querySelectorAll('#file-tree li.tree-file')].map((li) => li.dataset.path));
  assert.deepEqual(tree.sort(), kept.map((f) => f.path).sort());
  assert.match(await page.locator('#history-body tr').first().textContent(), /exclude vendor\/ \*\.log/);
  await shot('22-filter-saved-synced');
});

test('a hook added in the dashboard gets the next sync\'s end; its delivery log says so', async () => {
  const receiver = await startHookReceiver();
  try {
    // A bad URL is refused under its field.
    await page.fill('#hook-url', 'ftp://example.com/x');
    await page.click('#hook-add');
    await page.waitForSelector('#hook-url-error:not([hidden])');
    assert.match(await page.textContent('#hook-url-error'), /https/);
    await page.fill('#hook-url', receiver.url('/dashboard'));
    await page.fill('#hook-secret', 'dashboard secret');
    await page.uncheck('#hook-event-cancelled');
    await page.click('#hook-add');
    await page.waitForSelector('#hook-list li.hook');
    assert.match(await page.textContent('#hook-list'), /sync\.completed, sync\.failed · signed/);
    await page.click('#hook-list button[data-log]');
    await page.waitForFunction(() => /No deliveries yet/.test(document.querySelector('.hook-log')?.textContent ?? ''));
    const before = await page.getAttribute('#banner', 'data-sync-id');
    await page.click('#sync-start');
    await page.waitForFunction((old) => document.getElementById('banner').dataset.syncId !== old, before);
    await waitBanner('COMPLETE');
    // At 100% the bar fills its whole track (once its width transition has run).
    const filled = await page.waitForFunction(() => {
      const fill = document.getElementById('banner-progress-fill').getBoundingClientRect();
      const track = document.getElementById('banner-progress').getBoundingClientRect();
      return Math.abs(fill.width - track.width) < 0.5 && Math.abs(fill.left - track.left) < 0.5 ? [fill.width, track.width] : false;
    }, undefined, { timeout: 5_000 }).then((h) => h.jsonValue()).catch(async () => page.evaluate(() =>
      ['fill', 'track'].map((k) => document.getElementById(k === 'fill' ? 'banner-progress-fill' : 'banner-progress').getBoundingClientRect().width)));
    assert.ok(Math.abs(filled[0] - filled[1]) < 0.5, `the 100% bar fills its track: ${filled[0]} of ${filled[1]} px`);
    await page.waitForSelector('.hook-log tr[data-status="delivered"]', { timeout: UI_TIMEOUT });
    assert.equal(receiver.received('/dashboard').length, 1);
    assert.equal(JSON.parse(receiver.received('/dashboard')[0].raw).event, 'sync.completed');
    await shot('23-notifications');
    await page.click('#hook-list button[data-remove]');
    await page.waitForSelector('#hooks-empty:not([hidden])');
  } finally {
    await receiver.close();
  }
});

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
    const figures = Object.fromEntries([...root.querySelectorAll('.figures div')].map((d) => [d.querySelector('dt').textContent, d.querySelector('dd').textContent]));
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

test('signing out forgets the token', async () => {
  await page.click('#sign-out');
  await page.waitForSelector('#signin-view:not([hidden])');
  assert.equal(await page.evaluate(() => localStorage.getItem('projectSync.token')), null);
  await page.reload();
  await page.waitForSelector('#signin-view:not([hidden])');
  await shot('19-signed-out');
  assert.deepEqual(pageErrors, [], 'no script errors in the page');
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
