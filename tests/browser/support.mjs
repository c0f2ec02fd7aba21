// What the dashboard's browser tests share: one world per file (GitHub emulator + `wrangler
// dev` on the prebuilt worker, from the e2e harness), the standard repository, a user,
// Debian's Chromium driven by playwright-core, and the helpers that read the page (banner,
// tree, history). Each file is one flow and sets up what it builds on itself (a signed-in
// page, a project, a completed sync), so the files run alone and in any order.
// Screenshots go to tests/artifacts/browser/ (gitignored).
//
//   const d = useDashboard(async () => {   // registers before/after for this file; the
//     ({ page } = d);                       // function sets the file up once the world and
//     await d.signIn();                     // browser are there (one hook: node:test runs a
//   });                                     // file's top-level before hooks side by side)
//   const { test } = d;                     // node:test's test, with the world's log on failure

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
  expectedFiles,
  PROJECT_DIR,
  TERMINAL,
} from '../support/harness.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const ARTIFACTS = path.join(PROJECT_DIR, 'tests', 'artifacts', 'browser');
export const UI_TIMEOUT = 60_000;

export const short = (sha) => sha.slice(0, 7);

/**
 * The world and browser of one test file. Fields (set by the `before` it registers): world,
 * repo, user, context, page, profileDir, pageErrors; `s` is state the file's tests share.
 * `setup(d)` runs at the end of that hook. The `after` it registers fails the file when the
 * page logged a script error.
 */
export function useDashboard(setup = async () => {}) {
  const d = { s: {}, pageErrors: [] };
  d.test = worldTest(() => d.world);

  before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    d.world = await startWorld({ app: { keyFormat: 'pkcs1' } });
    d.repo = makeStandardRepo(d.world.root);
    d.user = await d.world.createUser('Dashboard tester');
    d.profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'project-sync-chromium-'));
    d.context = await chromium.launchPersistentContext(d.profileDir, {
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
      baseURL: d.world.base,
    });
    d.context.setDefaultTimeout(UI_TIMEOUT);
    d.page = d.context.pages()[0] ?? (await d.context.newPage());
    d.watchErrors(d.page);
    await setup(d);
  });

  after(async () => {
    await d.context?.close().catch(() => {});
    if (d.profileDir) fs.rmSync(d.profileDir, { recursive: true, force: true });
    await d.world?.stop();
    assert.deepEqual(d.pageErrors, [], 'no script errors in the page');
  });

  d.watchErrors = (p) => {
    p.on('pageerror', (e) => d.pageErrors.push(`pageerror: ${e.message}`));
    p.on('console', (m) => {
      // A refused request (401 for a wrong token, 409, 422 ...) is logged by Chromium itself; that is expected.
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) d.pageErrors.push(`console: ${m.text()}`);
    });
  };

  d.shot = async (name, p = d.page) => {
    await p.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  };

  /** Signs in through the form with the file's user. */
  d.signIn = async () => {
    const { page } = d;
    await page.goto('/');
    await page.waitForSelector('#signin-view:not([hidden])');
    await page.fill('#signin-token', d.user.token);
    await page.click('#signin-submit');
    await page.waitForSelector('#app-view:not([hidden])');
    await page.waitForSelector('html[data-ready="true"]');
  };

  /**
   * The project "Widgets" on the standard repository (tracked), made through the API and
   * opened in the page; with `sync`, its first sync (of main) has completed before.
   * Sets s.projectId (and s.sync1).
   */
  d.seedProject = async ({ sync = false } = {}) => {
    const project = await d.user.createProject({ name: 'Widgets', repository: 'acme/widgets', tracked: true });
    d.s.projectId = project.id;
    if (sync) d.s.sync1 = (await d.user.syncAndWait(project.id)).done.id;
    await d.open(project.id, 'Widgets');
    if (sync) await d.waitBanner('COMPLETE', { syncId: d.s.sync1 });
    return project;
  };

  /** Opens project `id` (named `name`) by its route, from the page's start (read anew). */
  d.open = async (id, name) => {
    const hash = `#/projects/${encodeURIComponent(id)}`;
    // A new hash alone loads nothing: the page is loaded again, so its project list is new too.
    if (!d.page.url().endsWith(hash)) await d.page.goto(`/${hash}`);
    await d.page.reload();
    await d.page.waitForSelector('html[data-ready="true"]');
    await d.page.waitForFunction((n) => document.getElementById('project-name')?.textContent === n, name);
  };

  /** Waits until the banner shows `status` (for sync `syncId`, if given). */
  d.waitBanner = async (status, { syncId, p = d.page, timeout = UI_TIMEOUT } = {}) => {
    await p.waitForFunction(
      ([want, id]) => {
        const b = document.getElementById('banner');
        return b && !b.hidden && b.dataset.status === want && (!id || b.dataset.syncId === id);
      },
      [status, syncId ?? null],
      { timeout },
    );
  };

  d.waitRunning = async ({ p = d.page, timeout = UI_TIMEOUT } = {}) => {
    await p.waitForFunction(
      (terminal) => {
        const b = document.getElementById('banner');
        return b && !b.hidden && b.dataset.status && !terminal.includes(b.dataset.status);
      },
      TERMINAL,
      { timeout },
    );
  };

  /**
   * What the banner shows: status, sync, live title, progress bar, counts, stats, sub line.
   * The banner is <project-sync-banner id="banner">: its parts are in its shadow root.
   */
  d.banner = async (p = d.page) => p.evaluate(() => {
    const b = document.getElementById('banner');
    const r = b.shadowRoot;
    const counts = {};
    for (const dd of r.querySelectorAll('[data-count]')) counts[dd.dataset.count] = Number(dd.textContent.replace(/[^0-9]/g, ''));
    const stats = {};
    for (const dd of r.querySelectorAll('[data-stat]')) stats[dd.dataset.stat] = dd.textContent;
    const bar = r.getElementById('banner-progress');
    return {
      status: b.dataset.status,
      syncId: b.dataset.syncId,
      live: r.getElementById('banner-status').textContent,
      liveAttr: r.getElementById('banner-status').getAttribute('aria-live'),
      progress: Number(bar.getAttribute('aria-valuenow')),
      role: bar.getAttribute('role'),
      counts,
      stats,
      sub: r.getElementById('banner-sub').textContent,
    };
  });

  /** The file tree as [{path, mode, sha, shortSha, name}]. Small trees (these) render every row. */
  d.treeFiles = async (p = d.page) => p.evaluate(() =>
    [...document.querySelectorAll('#file-tree li.tree-file')].map((li) => ({
      path: li.dataset.path,
      mode: li.querySelector('.mode').textContent,
      sha: li.querySelector('.sha').getAttribute('title').replace(/^blob /, ''),
      shortSha: li.querySelector('.sha').textContent,
      name: li.querySelector('.tree-name').textContent,
    })),
  );

  /** The tree lists exactly the files of `ref` of the standard repository, shas and modes too. */
  d.assertTreeMatches = async (ref, what) => {
    const want = expectedFiles(d.repo, ref);
    await d.page.waitForFunction((n) => document.querySelectorAll('#file-tree li.tree-file').length === n, want.length);
    const got = await d.treeFiles();
    const byPath = new Map(got.map((f) => [f.path, f]));
    assert.deepEqual([...byPath.keys()].sort(), want.map((f) => f.path).sort(), `${what}: the tree lists exactly the files of ${ref}`);
    for (const f of want) {
      const g = byPath.get(f.path);
      assert.equal(g.sha, f.sha, `${what}: sha of ${f.path}`);
      assert.equal(g.shortSha, short(f.sha), `${what}: short sha of ${f.path}`);
      assert.equal(g.mode, f.mode, `${what}: mode of ${f.path}`);
    }
  };

  d.historyRows = async (p = d.page) => p.evaluate(() =>
    [...document.querySelectorAll('#history-body tr')].map((tr) => ({
      id: tr.dataset.syncId,
      status: tr.dataset.status,
      text: tr.textContent,
      commit: tr.querySelector('.sha')?.textContent ?? null,
      restore: Boolean(tr.querySelector('button[data-restore]')),
    })),
  );

  /** The project's syncs (s.projectId) as the API lists them, newest first. */
  d.apiSyncs = async () => {
    const res = await d.world.api('GET', `/api/v1/projects/${d.s.projectId}/syncs?limit=50`, { token: d.user.token });
    assert.equal(res.status, 200);
    return res.json.items;
  };
  return d;
}

/**
 * The standard repository's third commit (README edited, a file removed, one moved, a
 * path with markup, a new file): returns its sha and the markup file's name.
 */
export function thirdCommit(repo) {
  repo.write('README.md', '# widgets\n\nFixture repository for Project Sync.\n\nThird revision.\n');
  repo.remove('assets/empty.txt');
  repo.move('docs/CHANGELOG.md', 'docs/HISTORY.md');
  const xssName = '<img src=x onerror="window.__xss=1">.md';
  repo.write(`docs/${xssName}`, 'not markup\n');
  repo.write('src/net/http/client/timeout.rs', 'pub fn timeout() {}\n');
  return { sha: repo.commit('third commit'), xssName };
}
