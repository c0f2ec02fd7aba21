// Unit tests of web/js/route.js (pure). Run: node --test tests/web/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { projectHash, projectIdFromHash } from '../../web/js/route.js';

test('projectIdFromHash', () => {
  for (const [hash, want] of [
    ['', null],
    ['#/', null],
    ['#/projects/', null],
    ['#/projects/p_1', 'p_1'],
    ['#/projects/p_1/files', 'p_1'],
    ['#/projects/p_1?x=1', 'p_1'],
    ['#/projects/a%2Fb%20c', 'a/b c'],
    ['#/other/p_1', null],
  ]) assert.equal(projectIdFromHash(hash), want, hash);
});

test('projectHash round-trips any id', () => {
  for (const id of ['p_1', 'a/b c', '<img>', 'ü#?']) {
    assert.equal(projectIdFromHash(projectHash(id)), id);
  }
  assert.equal(projectHash('a/b'), '#/projects/a%2Fb');
});
