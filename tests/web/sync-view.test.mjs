// Unit tests of web/client/sync-view.js (the banner's status table) (pure: no DOM). Run: node --test tests/web/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTime } from '../../web/js/format.js';
import {
  PHASES, PHASE_STATE_TEXT, TERMINAL, bannerError, bannerSub, bannerTitle, clampProgress, durationText,
  isTerminal, mergeEventData, phaseIndex, phaseState, statTexts, syncToData,
} from '../../web/client/sync-view.js';

test('terminal statuses and phase indexes', () => {
  assert.deepEqual([...TERMINAL], ['COMPLETE', 'FAILED', 'CANCELLED']);
  for (const [status, terminal, index] of [
    ['QUEUED', false, -1],
    ['FETCHING', false, 0],
    ['DIFFING', false, 1],
    ['PROCESSING', false, 2],
    ['PERSISTING', false, 3],
    ['COMPLETE', true, -1],
    ['FAILED', true, -1],
    ['CANCELLED', true, -1],
  ]) {
    assert.equal(isTerminal(status), terminal, status);
    assert.equal(phaseIndex(status), index, status);
  }
});

test('bannerTitle', () => {
  for (const [status, kind, want] of [
    ['QUEUED', 'sync', 'Sync queued'],
    ['QUEUED', 'restore', 'Restore queued'],
    ['FETCHING', 'sync', 'Fetching from GitHub (step 1 of 4)'],
    ['DIFFING', 'restore', 'Comparing with the active files (step 2 of 4)'],
    ['PROCESSING', 'sync', 'Processing changed files (step 3 of 4)'],
    ['PERSISTING', 'sync', 'Saving to the database (step 4 of 4)'],
    ['COMPLETE', 'sync', 'Sync complete'],
    ['COMPLETE', 'restore', 'Restore complete'],
    ['FAILED', undefined, 'Sync failed'],
    ['CANCELLED', 'sync', 'Sync cancelled'],
    ['SOMETHING_NEW', 'sync', 'Sync SOMETHING_NEW'],
  ]) assert.equal(bannerTitle(status, kind), want, `${status}/${kind}`);
  assert.equal(bannerTitle('COMPLETE', 'sync', true), 'Dry run complete');
  assert.equal(bannerTitle('QUEUED', 'sync', true), 'Dry run queued');
});

test('bannerSub names what is known', () => {
  const startedAt = '2026-01-02T03:04:05Z';
  for (const [sync, want] of [
    [{ branch: 'main' }, 'Sync of main'],
    [{ branch: 'main', commitSha: 'abcdef0123' }, 'Sync of main · commit abcdef0'],
    [{ branch: 'main', startedAt }, `Sync of main · started ${formatTime(startedAt)}`],
    [
      { branch: 'dev', kind: 'restore', commitSha: '1234567890', restoredFromSyncId: 'syncid-987654', startedAt },
      `Restore of dev · commit 1234567 · from sync syncid- · started ${formatTime(startedAt)}`,
    ],
    [{ branch: 'main', kind: 'sync', restoredFromSyncId: 'x' }, 'Sync of main'],
    [{ branch: 'main', kind: 'restore' }, 'Restore of main'],
    [{ branch: 'main', kind: 'sync', dryRun: true, commitSha: 'abcdef0123' }, 'Dry run of main · nothing is changed · commit abcdef0'],
  ]) assert.equal(bannerSub(sync), want);
});

test('phaseState: done, current, stopped, pending', () => {
  const row = (status, maxPhase) => PHASES.map((p) => phaseState(p, status, maxPhase));
  for (const [status, maxPhase, want] of [
    ['QUEUED', -1, ['pending', 'pending', 'pending', 'pending']],
    ['FETCHING', 0, ['current', 'pending', 'pending', 'pending']],
    ['PROCESSING', 2, ['done', 'done', 'current', 'pending']],
    ['PERSISTING', 3, ['done', 'done', 'done', 'current']],
    ['COMPLETE', -1, ['done', 'done', 'done', 'done']],
    ['COMPLETE', 3, ['done', 'done', 'done', 'done']],
    ['FAILED', 1, ['done', 'stopped', 'pending', 'pending']],
    ['CANCELLED', 3, ['done', 'done', 'done', 'stopped']],
    ['CANCELLED', 0, ['stopped', 'pending', 'pending', 'pending']],
    ['FAILED', -1, ['pending', 'pending', 'pending', 'pending']], // never seen running
  ]) assert.deepEqual(row(status, maxPhase), want, `${status}/${maxPhase}`);
  assert.deepEqual(Object.keys(PHASE_STATE_TEXT).sort(), ['current', 'done', 'pending', 'stopped']);
});

test('clampProgress', () => {
  for (const [input, want] of [
    [0, 0], [42, 42], [42.5, 43], [99.4, 99], [100, 100], [150, 100], [-5, 0],
    ['37', 37], [null, 0], [undefined, 0], ['x', 0], [NaN, 0],
  ]) assert.equal(clampProgress(input), want, `clampProgress(${input})`);
});

test('bannerError: only for a failed sync, and only when it adds to the message', () => {
  for (const [status, sync, data, want] of [
    ['FAILED', { error: 'boom' }, { message: 'Fetching' }, 'boom'],
    ['FAILED', { error: 'boom' }, { message: 'boom' }, ''],
    ['FAILED', {}, { message: 'the message' }, ''],
    ['FAILED', {}, { message: '' }, ''],
    ['COMPLETE', { error: 'boom' }, { message: '' }, ''],
    ['PROCESSING', { error: 'boom' }, { message: '' }, ''],
  ]) assert.equal(bannerError(status, sync, data), want, `${status} ${JSON.stringify(sync)}`);
});

test('syncToData and mergeEventData', () => {
  assert.deepEqual(syncToData({ id: 's1', status: 'QUEUED' }), {
    syncId: 's1', status: 'QUEUED', progress: 0, message: '', counts: {}, stats: {},
  });
  const data = syncToData({ id: 's1', status: 'FETCHING', progress: 5, message: 'm', counts: { added: 1 }, stats: { githubRequests: 2 } });
  for (const [event, want] of [
    [{}, data],
    [{ status: 'DIFFING', progress: 30 }, { ...data, status: 'DIFFING', progress: 30 }],
    [{ counts: { removed: 2 } }, { ...data, counts: { added: 1, removed: 2 } }],
    [{ stats: { githubRequests: 9, d1RowsWritten: 1 } }, { ...data, stats: { githubRequests: 9, d1RowsWritten: 1 } }],
  ]) assert.deepEqual(mergeEventData(data, event), want, JSON.stringify(event));
  assert.deepEqual(data.counts, { added: 1 }, 'the shown data is not changed in place');
});

test('statTexts', () => {
  assert.deepEqual(statTexts({}), { githubRequests: '0', githubNotModified: '0', d1RowsWritten: '0', bytesDownloaded: '0 B' });
  assert.deepEqual(statTexts({ githubRequests: 3, githubNotModified: 1, d1RowsWritten: 12, bytesDownloaded: 2048 }), {
    githubRequests: '3', githubNotModified: '1', d1RowsWritten: '12', bytesDownloaded: '2.0 KB',
  });
});

test('durationText: measured, or ticking "so far" while running', () => {
  const startedAt = '2026-01-01T00:00:00Z';
  const t0 = Date.parse(startedAt);
  for (const [data, sync, now, want] of [
    [{ status: 'PROCESSING', stats: { durationMs: 1500 } }, { startedAt }, t0, '1.5 s'],
    [{ status: 'COMPLETE', stats: {} }, { startedAt }, t0 + 99_000, '0 ms'],
    [{ status: 'PROCESSING', stats: {} }, { startedAt }, t0 + 2_000, '2.0 s so far'],
    [{ status: 'QUEUED' }, { startedAt }, t0 - 5_000, '0 ms so far'],
    [{ status: 'QUEUED', stats: {} }, {}, t0, '–'],
  ]) assert.equal(durationText(data, sync, now), want, JSON.stringify(data));
});
