// Unit tests of web/js/file-viewer.js's pure part. Run: node --test tests/web/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linesOf } from '../../web/js/file-viewer.js';

test('lines of a text: a final newline ends the last line, it does not start another', () => {
  assert.deepEqual(linesOf('a\nb\n'), ['a', 'b']);
  assert.deepEqual(linesOf('a\nb'), ['a', 'b']);
  assert.deepEqual(linesOf(''), ['']);
  assert.deepEqual(linesOf('\n'), ['']);
  assert.deepEqual(linesOf('a\n\n'), ['a', '']);
  assert.deepEqual(linesOf('x\r\ny\n'), ['x\r', 'y'], 'bytes are shown as they are');
});
