// Browser test of the dashboard (web/), one flow.
// Hooks: one added in the dashboard gets the next sync's end; its delivery log says so.
// Its world, browser and helpers: ./support.mjs.
//
// Run: PATH=$PWD/node_modules/.bin:$PATH node --test tests/browser/hooks.test.mjs

import assert from 'node:assert/strict';
import { startHookReceiver } from '../support/hook-receiver.mjs';
import { useDashboard, UI_TIMEOUT } from './support.mjs';

// One hook sets the file up: node:test runs a file's top-level before hooks side by side.
const d = useDashboard(async () => {
  ({ page } = d);
  await d.signIn();
  await d.seedProject({ sync: true });
});
const { test, shot, waitBanner } = d;
let page;

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
      const r = document.getElementById('banner').shadowRoot;
      const fill = r.getElementById('banner-progress-fill').getBoundingClientRect();
      const track = r.getElementById('banner-progress').getBoundingClientRect();
      return Math.abs(fill.width - track.width) < 0.5 && Math.abs(fill.left - track.left) < 0.5 ? [fill.width, track.width] : false;
    }, undefined, { timeout: 5_000 }).then((h) => h.jsonValue()).catch(async () => page.evaluate(() =>
      ['fill', 'track'].map((k) => document.getElementById('banner').shadowRoot.getElementById(k === 'fill' ? 'banner-progress-fill' : 'banner-progress').getBoundingClientRect().width)));
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
