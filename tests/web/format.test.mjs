// Unit tests of web/js/format.js (pure: no DOM). Run: node --test tests/web/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CHANGE_MARKS, COUNT_KEYS, changeMarks, filterSummary, formatBytes, highlightSegments, formatDuration, formatTime, num, patternLines, shortSha,
} from '../../web/js/format.js';

// num() follows the runtime's locale, as the page follows the browser's.
const loc = (n) => Number(n).toLocaleString();

test('formatBytes', () => {
  for (const [input, want] of [
    [0, '0 B'],
    [1, '1 B'],
    [1023, '1023 B'],
    [1024, '1.0 KB'],
    [1536, '1.5 KB'],
    [10 * 1024, '10 KB'],
    [1024 * 1024 - 1, '1024 KB'],
    [1024 * 1024, '1.0 MB'],
    [5.5 * 1024 ** 3, '5.5 GB'],
    [3 * 1024 ** 4, '3.0 TB'],
    [2048 * 1024 ** 4, '2048 TB'],
    ['2048', '2.0 KB'],
    [null, '0 B'],
    [undefined, '0 B'],
    ['junk', '0 B'],
  ]) assert.equal(formatBytes(input), want, `formatBytes(${input})`);
});

test('formatDuration', () => {
  for (const [input, want] of [
    [0, '0 ms'],
    [999.4, '999 ms'],
    [1000, '1.0 s'],
    [9_940, '9.9 s'],
    [10_000, '10 s'],
    [59_000, '59 s'],
    [60_000, '1 min 00 s'],
    [61_000, '1 min 01 s'],
    [3_599_000, '59 min 59 s'],
    [3_600_000, '1 h 00 min'],
    [3_660_000 * 2, '2 h 02 min'],
    ['1500', '1.5 s'],
    [-1, '–'],
    [NaN, '–'],
    [undefined, '–'],
    [Infinity, '–'],
  ]) assert.equal(formatDuration(input), want, `formatDuration(${input})`);
});

test('formatTime shows dates readably and anything else as it came', () => {
  const fmt = new Intl.DateTimeFormat(undefined, {
    month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  });
  const iso = '2026-03-04T05:06:07Z';
  for (const [input, want] of [
    [iso, fmt.format(new Date(iso))],
    [Date.parse(iso), fmt.format(new Date(iso))],
    ['not a date', 'not a date'],
    [undefined, ''],
  ]) assert.equal(formatTime(input), want, `formatTime(${input})`);
});

test('shortSha', () => {
  for (const [input, want] of [
    ['0123456789abcdef', '0123456'],
    ['abc', 'abc'],
    ['', ''],
    [null, ''],
    [undefined, ''],
  ]) assert.equal(shortSha(input), want);
});

test('num', () => {
  for (const [input, want] of [
    [0, '0'],
    [7, '7'],
    [1234567, loc(1234567)],
    ['42', '42'],
    [null, '0'],
    [undefined, '0'],
    ['x', '0'],
    [Infinity, '0'],
  ]) assert.equal(num(input), want, `num(${input})`);
});

test('changeMarks: every kind that happened, always the unchanged count, in order', () => {
  assert.deepEqual(COUNT_KEYS, ['added', 'modified', 'removed', 'renamed', 'unchanged']);
  assert.deepEqual(Object.keys(CHANGE_MARKS), COUNT_KEYS);
  for (const [counts, want] of [
    [{}, [['unchanged', '=0', '0 unchanged']]],
    [undefined, [['unchanged', '=0', '0 unchanged']]],
    [null, [['unchanged', '=0', '0 unchanged']]],
    [{ added: 3 }, [['added', '+3', '3 added'], ['unchanged', '=0', '0 unchanged']]],
    [
      { added: 1, modified: 2, removed: 3, renamed: 4, unchanged: 5000 },
      [
        ['added', '+1', '1 added'], ['modified', '~2', '2 modified'], ['removed', '−3', '3 removed'],
        ['renamed', '→4', '4 renamed'], ['unchanged', `=${loc(5000)}`, `${loc(5000)} unchanged`],
      ],
    ],
    [{ removed: 0, renamed: '2', unchanged: 1 }, [['renamed', '→2', '2 renamed'], ['unchanged', '=1', '1 unchanged']]],
  ]) {
    assert.deepEqual(changeMarks(counts).map((m) => [m.key, m.text, m.label]), want, JSON.stringify(counts));
  }
});

test('patternLines: one pattern a line, blanks and surrounding spaces dropped', () => {
  assert.deepEqual(patternLines('vendor/\n\n  *.log  \r\n/docs/\n'), ['vendor/', '*.log', '/docs/']);
  assert.deepEqual(patternLines(''), []);
  assert.deepEqual(patternLines(undefined), []);
});

test('filterSummary names what a filter holds', () => {
  assert.equal(filterSummary({ include: [], exclude: [] }), '');
  assert.equal(filterSummary({}), '');
  assert.equal(filterSummary({ include: ['/src/'], exclude: ['*.log', 'gen/'] }), 'include /src/ · exclude *.log gen/');
  assert.equal(filterSummary({ exclude: ['/vendor/'] }), 'exclude /vendor/');
});

test('highlightSegments marks every word of the query, any case, and keeps the text whole', () => {
  const segs = highlightSegments('Retry with backoff; RETRY again', 'retry backoff');
  assert.deepEqual(segs, [
    { text: 'Retry', match: true },
    { text: ' with ', match: false },
    { text: 'backoff', match: true },
    { text: '; ', match: false },
    { text: 'RETRY', match: true },
    { text: ' again', match: false },
  ]);
  assert.equal(segs.map((s) => s.text).join(''), 'Retry with backoff; RETRY again');
  assert.deepEqual(highlightSegments('abc', ''), [{ text: 'abc', match: false }]);
  assert.deepEqual(highlightSegments('a <b> c', '<b>'), [{ text: 'a <b> c', match: false }], 'one-letter words are not marked');
  assert.deepEqual(highlightSegments('Grüße aus Köln', 'köln'), [{ text: 'Grüße aus ', match: false }, { text: 'Köln', match: true }]);
});
