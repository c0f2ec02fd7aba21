// Unit tests of web/js/bus.js (EventTarget and CustomEvent are in Node too). Run: node --test tests/web/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBus } from '../../web/js/bus.js';

test('listeners hear the detail in the order they were added', async () => {
  const bus = createBus();
  const heard = [];
  bus.on('x', (d) => heard.push(['a', d.n]));
  bus.on('x', (d) => heard.push(['b', d.n]));
  bus.on('y', () => heard.push(['y']));
  await bus.emit('x', { n: 1 });
  assert.deepEqual(heard, [['a', 1], ['b', 1]]);
  await bus.emit('y');
  assert.deepEqual(heard.at(-1), ['y']);
});

test('emit resolves once the listeners\' promises have settled', async () => {
  const bus = createBus();
  const done = [];
  bus.on('load', () => new Promise((r) => setTimeout(() => { done.push('slow'); r(); }, 20)));
  bus.on('load', async () => { done.push('fast'); });
  bus.on('load', () => 'not a promise');
  await bus.emit('load');
  assert.deepEqual(done, ['fast', 'slow']);
});

test('a failing listener is reported, never rejects emit', async () => {
  const reported = [];
  const saved = globalThis.reportError;
  globalThis.reportError = (e) => reported.push(e.message);
  try {
    const bus = createBus();
    bus.on('x', async () => { throw new Error('boom'); });
    await bus.emit('x');
    assert.deepEqual(reported, ['boom']);
  } finally {
    globalThis.reportError = saved;
  }
});
