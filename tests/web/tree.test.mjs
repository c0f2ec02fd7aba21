// Unit tests of web/js/tree.js (pure: no DOM). Run: node --test tests/web/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  OPEN_ALL_LIMIT, buildTree, compactDir, filesSummary, filterFiles, normalizeFilter, opensAll, sortedDirs,
} from '../../web/js/tree.js';

const files = [
  { path: 'README.md', size: 100 },
  { path: 'src/net/http/client/retry.rs', size: 10 },
  { path: 'src/net/http/client/timeout.rs', size: 20 },
  { path: 'src/lib.rs', size: 1 },
  { path: 'docs/a/b/c.md', size: null },
  { path: 'B.txt', size: '5' },
];

/** A tree as plain data: {dirs: {name: ...}, files: [names], count, size}. */
function shape(node) {
  return {
    count: node.count,
    size: node.size,
    files: node.files.map((f) => f.name),
    dirs: Object.fromEntries([...node.dirs].map(([k, v]) => [k, shape(v)])),
  };
}

test('buildTree nests directories and counts the files and bytes below each', () => {
  const root = buildTree(files);
  assert.deepEqual(shape(root), {
    count: 6, size: 136, files: ['README.md', 'B.txt'],
    dirs: {
      src: {
        count: 3, size: 31, files: ['lib.rs'],
        dirs: {
          net: { count: 2, size: 30, files: [], dirs: { http: { count: 2, size: 30, files: [], dirs: {
            client: { count: 2, size: 30, files: ['retry.rs', 'timeout.rs'], dirs: {} },
          } } } },
        },
      },
      docs: { count: 1, size: 0, files: [], dirs: { a: { count: 1, size: 0, files: [], dirs: { b: { count: 1, size: 0, files: ['c.md'], dirs: {} } } } } },
    },
  });
  assert.equal(root.files[0].file, files[0], 'a file row keeps its file object');
  assert.deepEqual(shape(buildTree([])), { count: 0, size: 0, files: [], dirs: {} });
});

test('sortedDirs orders by code unit, like git', () => {
  const root = buildTree([{ path: 'b/x' }, { path: 'B/x' }, { path: 'a/x' }, { path: '_/x' }]);
  assert.deepEqual(sortedDirs(root).map((d) => d.name), ['B', '_', 'a', 'b']);
});

test('compactDir folds single-child chains into one row', () => {
  const root = buildTree(files);
  for (const [dir, name, rest] of [
    [root.dirs.get('src'), 'src', ['net']], // holds a file: not folded
    [root.dirs.get('src').dirs.get('net'), 'net/http/client', []],
    [root.dirs.get('docs'), 'docs/a/b', []],
  ]) {
    const { name: got, node } = compactDir(dir);
    assert.equal(got, name);
    assert.deepEqual([...node.dirs.keys()], rest);
  }
  const twoDirs = buildTree([{ path: 'x/a/1' }, { path: 'x/b/2' }]).dirs.get('x');
  assert.equal(compactDir(twoDirs).name, 'x', 'two subdirectories: not folded');
});

test('normalizeFilter and filterFiles: trimmed, case-insensitive substring of the path', () => {
  for (const [text, want] of [['  Retry ', 'retry'], ['', ''], [undefined, ''], [null, '']]) {
    assert.equal(normalizeFilter(text), want);
  }
  for (const [filter, want] of [
    ['', files.map((f) => f.path)],
    ['retry', ['src/net/http/client/retry.rs']],
    ['.rs', ['src/net/http/client/retry.rs', 'src/net/http/client/timeout.rs', 'src/lib.rs']],
    ['b.txt', ['B.txt']],
    ['nothing', []],
  ]) assert.deepEqual(filterFiles(files, filter).map((f) => f.path), want, filter);
});

test('opensAll: a filtered view or a small tree starts open', () => {
  for (const [filter, count, want] of [
    ['', 0, true],
    ['', OPEN_ALL_LIMIT, true],
    ['', OPEN_ALL_LIMIT + 1, false],
    ['x', 10_000, true],
  ]) assert.equal(opensAll(filter, count), want, `${filter}/${count}`);
});

test('filesSummary', () => {
  const one = [{ path: 'a', size: 2048 }];
  for (const [args, want] of [
    [{ all: [], shown: [], filter: '', project: null }, 'No files yet. Start a sync to bring them in.'],
    [{ all: [], shown: [], filter: '', project: { currentSyncId: null } }, 'No files yet. Start a sync to bring them in.'],
    [{ all: [], shown: [], filter: '', project: { currentSyncId: 's1' } }, 'The branch has no files.'],
    [{ all: one, shown: one, filter: '', project: {} }, '1 file · 2.0 KB'],
    [{ all: files, shown: files, filter: '', project: { currentCommitSha: '0123456789' } }, '6 files · 136 B at commit 0123456'],
    [{ all: files, shown: files.slice(0, 1), filter: 'retry', project: null }, '6 files · 136 B · 1 match “retry”'],
    [{ all: files, shown: [], filter: 'zzz', project: null }, '6 files · 136 B · 0 match “zzz”'],
  ]) assert.equal(filesSummary(args), want);
});
