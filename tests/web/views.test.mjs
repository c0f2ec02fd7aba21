// The dashboard's views mounted on a fragment (tests/web/fake-dom.mjs): each finds its parts
// inside the element it is mounted on, never elsewhere in the page, renders what the bus and
// its API tell it, and asks the API only through the client's operation methods.
// Run: node --test tests/web/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeFragment, h, installDocument } from './fake-dom.mjs';
import { createBus } from '../../web/js/bus.js';
import { within } from '../../web/js/dom.js';
import { ChangesView } from '../../web/js/changes-view.js';
import { FilterEditor } from '../../web/js/filter-editor.js';
import { HistoryView } from '../../web/js/history.js';
import { NoticesView } from '../../web/js/notices.js';

installDocument();
const WEB_JS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'js');
const settle = async () => {
  for (let i = 0; i < 10; i += 1) await new Promise((r) => setImmediate(r));
};
const fragment = (...children) => {
  const f = new FakeFragment();
  f.append(...children);
  return f;
};

test('within finds by id inside its root (or the root itself), never outside it', () => {
  const inside = h('p', { id: 'x' });
  const root = h('section', { id: 'card' }, h('div', {}, inside));
  const elsewhere = fragment(h('p', { id: 'y' }));
  const $ = within(root);
  assert.equal($('x'), inside);
  assert.equal($('card'), root, 'the root itself');
  assert.equal($('y'), null, 'an element elsewhere in the page is not found');
  assert.equal(within(elsewhere)('y').id, 'y');
});

test('the notice line: a notice shows for 12 s, a falsy one hides it now; a twin outside is untouched', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const bus = createBus();
  const mine = h('p', { id: 'sync-notice', hidden: '' });
  const twin = h('p', { id: 'sync-notice', hidden: '' });
  fragment(twin);
  new NoticesView(fragment(h('section', { 'data-view': 'sync' }, mine)), { bus });
  bus.emit('notice', { text: 'Project “A” deleted.' });
  assert.equal(mine.hidden, false);
  assert.equal(mine.textContent, 'Project “A” deleted.');
  assert.equal(twin.hidden, true, 'the view reaches nothing outside its element');
  t.mock.timers.tick(11_999);
  assert.equal(mine.hidden, false);
  t.mock.timers.tick(1);
  assert.equal(mine.hidden, true, 'gone after 12 s');
  bus.emit('notice', { text: 'again' });
  bus.emit('notice', { text: null });
  assert.equal(mine.hidden, true, 'a falsy notice hides it at once');
});

function changesCard() {
  return h('section', { id: 'changes-card', 'data-view': 'changes' },
    h('h2', { id: 'changes-title' }),
    h('form', { id: 'compare-form' },
      h('select', { id: 'compare-from' }), h('select', { id: 'compare-to' }),
      h('button', { id: 'compare-run', type: 'submit' }, 'Compare')),
    h('p', { id: 'changes-error', hidden: '' }),
    h('p', { id: 'changes-limit', hidden: '' }),
    h('ul', { id: 'changes-list' }),
    h('p', { id: 'changes-count' }),
    h('button', { id: 'changes-more', type: 'button', hidden: '' }, 'More'));
}

const sync = (id, extra = {}) => ({ id, projectId: 'p1', status: 'COMPLETE', kind: 'sync', dryRun: false, startedAt: '2026-12-01T10:00:00Z', commitSha: `${id}`.padEnd(40, '0'), ...extra });

test('the changes card on a fragment: compare choices, a sync\'s changes page by page, a compare', async () => {
  const calls = [];
  const pages = {
    'listChanges s2 ': { items: [{ change: 'added', path: 'a.md' }, { change: 'removed', path: '<b>.md' }], nextCursor: 'c1' },
    'listChanges s2 c1': { items: [{ change: 'renamed', path: 'new.md', previousPath: 'old.md', similarity: 87 }], nextCursor: null },
    'compareStates p1 ': { items: [{ change: 'modified', path: 'm.rs' }], nextCursor: null },
  };
  const api = {
    listChanges: async (id, { limit, cursor, signal }) => (calls.push(['listChanges', id, { limit, cursor, aborted: signal.aborted }]), pages[`listChanges ${id} ${cursor ?? ''}`]),
    compareStates: async (id, { from, to, limit, cursor }) => (calls.push(['compareStates', id, { from, to, limit, cursor }]), pages[`compareStates ${id} ${cursor ?? ''}`]),
  };
  const bus = createBus();
  const card = changesCard();
  new ChangesView(fragment(card), { api, bus });
  const $ = within(card);
  const { signal } = new AbortController();
  await bus.emit('project-opening', { signal });
  assert.equal($('changes-title').textContent, 'Pick a sync in the history, or compare two.');
  await bus.emit('project-opened', { project: { id: 'p1' }, signal });

  await bus.emit('history-loaded', { items: [sync('s3', { dryRun: true }), sync('s2'), sync('s1', { status: 'FAILED' }), sync('s0')] });
  assert.deepEqual($('compare-from').options.map((o) => o.value), ['', 's2', 's0'], 'completed syncs that made a state');
  assert.equal($('compare-to').options[0].textContent, 'the current state');

  await bus.emit('changes-requested', { sync: sync('s2') });
  await settle();
  const listed = () => card.querySelectorAll('li').map((li) => `${li.dataset.change} ${li.dataset.path} ${li.textContent}`);
  assert.deepEqual(listed(), ['added a.md added a.md', 'removed <b>.md removed <b>.md']);
  assert.equal($('changes-more').hidden, false, 'more is offered while there is a cursor');
  assert.equal($('changes-count').textContent, '2+ changes');
  assert.match($('changes-title').textContent, /^Changes of the sync started /);
  $('changes-more').click();
  await settle();
  assert.equal(listed().length, 3);
  assert.equal(listed()[2], 'renamed new.md renamed old.md → new.md87%');
  assert.equal(card.querySelector('li[data-path="new.md"] .tag-similarity').textContent, '87%', 'the score is a badge beside the rename');
  assert.equal(card.querySelectorAll('.tag-similarity').length, 1, 'only a rename has one');
  assert.equal($('changes-limit').hidden, true, 'nothing limited this sync\'s renames');
  assert.equal($('changes-more').hidden, true);
  assert.equal($('changes-count').textContent, '3 changes');

  $('compare-from').value = 's0';
  $('compare-run').click();
  await settle();
  assert.deepEqual(listed(), ['modified m.rs modified m.rs']);
  assert.match($('changes-title').textContent, /^From .* to the current state$/);
  assert.deepEqual(calls, [
    ['listChanges', 's2', { limit: 100, cursor: undefined, aborted: false }],
    ['listChanges', 's2', { limit: 100, cursor: 'c1', aborted: false }],
    ['compareStates', 'p1', { from: 's0', to: undefined, limit: 100, cursor: undefined }],
  ]);
});

test('the changes card says when git\'s rename limit stopped a sync\'s rename search, and forgets it for a compare', async () => {
  const pages = {
    s5: { items: [{ change: 'removed', path: 'a/x.c' }, { change: 'added', path: 'b/x.c' }], nextCursor: null, renameLimitExceeded: true },
    s6: { items: [{ change: 'renamed', path: 'b/y.c', previousPath: 'a/y.c', similarity: 100 }], nextCursor: null },
  };
  const api = {
    listChanges: async (id) => pages[id],
    compareStates: async () => ({ items: [], nextCursor: null }),
  };
  const bus = createBus();
  const card = changesCard();
  new ChangesView(fragment(card), { api, bus });
  const $ = within(card);
  const { signal } = new AbortController();
  await bus.emit('project-opened', { project: { id: 'p1' }, signal });
  await bus.emit('changes-requested', { sync: sync('s5', { renameLimitExceeded: true }) });
  await settle();
  assert.equal($('changes-limit').hidden, false);
  assert.match($('changes-limit').textContent, /rename limit/);
  await bus.emit('changes-requested', { sync: sync('s6') });
  await settle();
  assert.equal($('changes-limit').hidden, true, 'another sync\'s renames were not limited');
  assert.equal(card.querySelector('.tag-similarity').textContent, '100%');
  // The page alone says it too (a sync object from before the field existed).
  await bus.emit('changes-requested', { sync: sync('s5') });
  await settle();
  assert.equal($('changes-limit').hidden, false);
  $('compare-run').click();
  await settle();
  assert.equal($('changes-limit').hidden, true, 'a compare is no sync');
});

test('the filter preview lists a dry run\'s renames with their scores, and says when its renames were limited', async () => {
  const card = h('section', { id: 'filter-card', 'data-view': 'filter' },
    h('p', { id: 'filter-summary' }),
    h('form', { id: 'filter-form' },
      h('textarea', { id: 'filter-include' }), h('p', { id: 'filter-include-error', hidden: '' }),
      h('textarea', { id: 'filter-exclude' }), h('p', { id: 'filter-exclude-error', hidden: '' }),
      h('button', { id: 'filter-save', type: 'submit' }, 'Save'),
      h('button', { id: 'filter-reset', type: 'button' }, 'Reset'),
      h('button', { id: 'filter-preview', type: 'button' }, 'Preview')),
    h('p', { id: 'filter-error', hidden: '' }),
    h('div', { id: 'filter-preview-result', hidden: '' }));
  const dry = { id: 'd1', status: 'COMPLETE', dryRun: true, counts: { renamed: 2, removed: 1, added: 1 }, stats: { githubRequests: 3 } };
  const changes = {
    items: [
      { change: 'renamed', path: 'b/x.c', previousPath: 'a/x.c', similarity: 93 },
      { change: 'renamed', path: 'b/y.c', previousPath: 'a/y.c', similarity: 100 },
      { change: 'removed', path: 'a/z.c' },
      { change: 'added', path: 'b/w.c' },
    ],
    nextCursor: null,
  };
  let limited = false;
  const api = {
    startSync: async () => ({ sync: { ...dry, status: 'QUEUED' }, eventsUrl: '/e' }),
    listChanges: async () => ({ ...changes, ...(limited ? { renameLimitExceeded: true } : {}) }),
  };
  const bus = createBus();
  new FilterEditor(fragment(card), { api, bus });
  const $ = within(card);
  const { signal } = new AbortController();
  await bus.emit('project-opened', { project: { id: 'p1', include: [], exclude: [] }, signal });
  const preview = async () => {
    $('filter-preview').click();
    await settle();
    await bus.emit('sync-finished', { sync: dry });
    await settle();
  };
  await preview();
  const rows = card.querySelectorAll('#filter-preview-list li');
  assert.deepEqual(rows.map((li) => [li.dataset.path, li.querySelector('.tag-similarity')?.textContent ?? null]),
    [['b/x.c', '93%'], ['b/y.c', '100%'], ['a/z.c', null], ['b/w.c', null]]);
  assert.equal(rows[0].querySelector('code').textContent, 'a/x.c → b/x.c');
  assert.equal(card.querySelector('#filter-preview-limit'), null, 'no note when nothing was limited');
  limited = true;
  await preview();
  assert.match(card.querySelector('#filter-preview-limit').textContent, /rename limit/);
});

test('the history card on a fragment: rows, Changes and Restore buttons, a "more" page', async () => {
  const bus = createBus();
  const seen = [];
  bus.on('changes-requested', ({ sync: s }) => seen.push(s.id));
  bus.on('history-loaded', ({ items, attach }) => seen.push(`loaded ${items.length} ${attach}`));
  const answers = [
    { items: [sync('s2', { status: 'FETCHING', progress: 40 }), sync('s1'), sync('s0', { dryRun: true })], nextCursor: 'n1' },
    { items: [sync('old')], nextCursor: null },
  ];
  const asked = [];
  const api = { listSyncs: async (id, { limit, cursor }) => (asked.push([id, limit, cursor]), answers.shift()) };
  const card = h('section', { 'data-view': 'history' },
    h('button', { id: 'history-refresh', type: 'button' }, 'Refresh'),
    h('p', { id: 'history-error', hidden: '' }),
    h('table', { id: 'history-table', hidden: '' }, h('tbody', { id: 'history-body' })),
    h('p', { id: 'history-empty', hidden: '' }),
    h('button', { id: 'history-more', type: 'button', hidden: '' }, 'More'));
  new HistoryView(fragment(card), { api, bus, confirm: async () => false });
  const $ = within(card);
  const { signal } = new AbortController();
  await bus.emit('project-opening', { signal });
  await bus.emit('project-opened', { project: { id: 'p1', currentSyncId: 's1' }, signal });
  const rows = () => card.querySelectorAll('tr').map((tr) => ({
    id: tr.dataset.syncId,
    status: tr.dataset.status,
    changes: Boolean(tr.querySelector('button[data-changes]')),
    restore: Boolean(tr.querySelector('button[data-restore]')),
  }));
  assert.deepEqual(rows(), [
    { id: 's2', status: 'FETCHING', changes: false, restore: false },
    { id: 's1', status: 'COMPLETE', changes: true, restore: true },
    { id: 's0', status: 'COMPLETE', changes: true, restore: false },
  ], 'a running sync offers nothing, a dry run no restore');
  assert.equal($('history-table').hidden, false);
  assert.equal($('history-more').hidden, false);
  assert.match(card.querySelector('tr').textContent, /40%/);
  assert.ok(card.querySelector('tr[data-sync-id="s1"] .tag-current'), 'the active state is marked');

  card.querySelector('tr[data-sync-id="s1"] button[data-changes]').click();
  assert.deepEqual(seen, ['loaded 3 true', 's1']);

  $('history-more').click();
  await settle();
  assert.deepEqual(rows().map((r) => r.id), ['s2', 's1', 's0', 'old']);
  assert.equal($('history-more').hidden, true);
  assert.deepEqual(asked, [['p1', 20, undefined], ['p1', 20, 'n1']]);
});

test('no view reaches into the page: only main.js queries the document', () => {
  const offenders = [];
  for (const name of fs.readdirSync(WEB_JS).filter((n) => n.endsWith('.js') && n !== 'main.js')) {
    const text = fs.readFileSync(path.join(WEB_JS, name), 'utf8');
    if (/document\.(getElementById|querySelector|querySelectorAll|getElementsBy\w+)\s*\(/.test(text)) offenders.push(name);
  }
  assert.deepEqual(offenders, []);
});

test('no hand-built API path in web/js: every call goes through the client\'s operations', () => {
  const offenders = [];
  for (const name of fs.readdirSync(WEB_JS).filter((n) => n.endsWith('.js'))) {
    const text = fs.readFileSync(path.join(WEB_JS, name), 'utf8');
    if (/\/api\/v1|['`]\/(projects|syncs|installations|users)\b/.test(text)) offenders.push(name);
    // Only the API module may reach the network, and it does through the client.
    else if (name !== 'api.js' && /\bfetch\s*\(/.test(text)) offenders.push(name);
  }
  assert.deepEqual(offenders, []);
});
