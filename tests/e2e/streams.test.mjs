// The event stream (GET /api/v1/events/project-sync/{syncId}): replay for late subscribers,
// Last-Event-ID resumption, stream tokens, Bearer access, live delivery while a sync runs
// (slowed by the emulator's delay fault on the tree route) and 100 concurrent subscribers.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startWorld,
  worldTest,
  createRepo,
  assertError,
  assertEventStream,
  TERMINAL,
} from '../support/harness.mjs';

let world;
let repo;
let alice;
let bob;
let project;
const s = {};

const test = worldTest(() => world);

before(async () => {
  world = await startWorld();
  repo = createRepo(world.root, 'acme', 'streams');
  repo.write('README.md', '# streams\n');
  repo.write('src/a.txt', 'a\n');
  repo.write('src/b.txt', 'b\n');
  repo.write('bin/run.sh', '#!/bin/sh\n', { mode: 0o755 });
  repo.commit('initial');
  alice = await world.createUser('alice');
  bob = await world.createUser('bob');
  project = await alice.createProject({ name: 'Streams', repository: 'acme/streams' });
});

after(async () => {
  await world?.stop();
});

/** Comparable form of an event list. */
const frames = (r) => r.events.map((e) => ({ id: e.id, event: e.event, raw: e.raw }));

test('a late subscriber to a finished sync gets the full replay, then the server closes', async () => {
  const { sync, eventsUrl, done } = await alice.syncAndWait(project.id);
  s.syncId = sync.id;
  s.eventsUrl = eventsUrl;
  assert.equal(done.status, 'COMPLETE');
  const a = await world.readEvents(eventsUrl, { timeoutMs: 15_000 });
  const last = assertEventStream(a, { syncId: sync.id, terminal: 'complete' });
  assert.equal(last.data.status, 'COMPLETE');
  assert.deepEqual(last.data.counts, done.counts);
  assert.equal(a.events[0].data.status, 'QUEUED', 'the replay starts at the beginning');
  s.full = a;
  // A second late subscriber gets the very same frames.
  const b = await world.readEvents(eventsUrl, { timeoutMs: 15_000 });
  assert.deepEqual(frames(b), frames(a));
});

test('Last-Event-ID: n resumes right after event n', async () => {
  const full = frames(s.full);
  const n = full.length;
  for (const k of [0, 1, 2, n - 1, n]) {
    const r = await world.readEvents(s.eventsUrl, { lastEventId: k, timeoutMs: 15_000 });
    assert.deepEqual(frames(r), full.slice(k), `Last-Event-ID: ${k}`);
    assert.equal(r.closed, true);
  }
});

test('stream tokens: missing, expired, tampered or for another sync -> 401 JSON', async () => {
  const { sync: other, eventsUrl: otherUrl } = await alice.syncAndWait(project.id);
  const token = new URL(s.eventsUrl, world.base).searchParams.get('access_token');
  const otherToken = new URL(otherUrl, world.base).searchParams.get('access_token');
  assert.ok(token && otherToken);
  const base = `/api/v1/events/project-sync/${s.syncId}`;

  assertError(await world.api('GET', base), 401, 'unauthorized', 'no token at all');
  assertError(await world.api('GET', `${base}?access_token=`), 401, 'unauthorized', 'empty token');
  assertError(await world.api('GET', `${base}?access_token=garbage`), 401, 'unauthorized', 'garbage token');

  // Expired-looking: an expiry in the past with the same signature.
  const dot = token.indexOf('.');
  const past = Math.floor(Date.now() / 1000) - 3600;
  const expired = dot > 0 ? `${past}${token.slice(dot)}` : `${past}.${token}`;
  assertError(await world.api('GET', `${base}?access_token=${encodeURIComponent(expired)}`), 401, 'unauthorized', 'expired token');
  // A later expiry with the same signature (someone extending their token).
  const later = dot > 0 ? `${Math.floor(Date.now() / 1000) + 365 * 86400}${token.slice(dot)}` : `9${token}`;
  assertError(await world.api('GET', `${base}?access_token=${encodeURIComponent(later)}`), 401, 'unauthorized', 'extended token');

  // Tampered: one character of the signature changed.
  const lastChar = token.at(-1);
  const tampered = token.slice(0, -1) + (lastChar === '0' ? '1' : '0');
  assertError(await world.api('GET', `${base}?access_token=${encodeURIComponent(tampered)}`), 401, 'unauthorized', 'tampered token');

  // A valid token for another sync.
  assertError(await world.api('GET', `${base}?access_token=${encodeURIComponent(otherToken)}`), 401, 'unauthorized', 'token of another sync');
  assertError(await world.api('GET', `/api/v1/events/project-sync/${other.id}?access_token=${encodeURIComponent(token)}`), 401, 'unauthorized', 'token of another sync (reverse)');

  // The right tokens work.
  const ok = await world.readEvents(otherUrl, { timeoutMs: 15_000 });
  assertEventStream(ok, { syncId: other.id, terminal: 'complete' });
});

test('the owner\'s Bearer token works without access_token; another user\'s does not', async () => {
  const r = await world.readEvents(`/api/v1/events/project-sync/${s.syncId}`, { token: alice.token, timeoutMs: 15_000 });
  assert.deepEqual(frames(r), frames(s.full));
  assertError(await bob.get(`/api/v1/events/project-sync/${s.syncId}`), 404, 'not_found', 'bob with Bearer');
  assertError(await world.api('GET', `/api/v1/events/project-sync/${s.syncId}`, { token: 'nope' }), 401, 'unauthorized', 'bad Bearer');
  // The status call also hands out a fresh eventsUrl? Not in the contract; only check the stream.
});

test('a live subscriber receives progress events while the sync runs (tree slowed 3 s)', async () => {
  world.emulator.clearFaults();
  repo.write('src/c.txt', 'c\n');
  repo.commit('live');
  world.emulator.injectFault({ kind: 'delay', route: 'tree', ms: 3000, times: 1 });
  try {
    const { sync, eventsUrl } = await alice.startSync(project.id);
    let resolveSeen;
    const seenTwo = new Promise((r) => (resolveSeen = r));
    let count = 0;
    const reading = world.readEvents(eventsUrl, {
      onEvent: () => {
        if (++count === 2) resolveSeen();
      },
    });
    await Promise.race([seenTwo, reading.then(() => {})]);
    // Two events arrived; the sync is still running, so they came live.
    const mid = await alice.getJson(`/api/v1/syncs/${sync.id}`);
    assert.ok(!TERMINAL.includes(mid.status), `still running when the first events arrived: ${mid.status}`);
    // A second subscriber resuming after event 1 while the sync runs.
    const resumed = world.readEvents(eventsUrl, { lastEventId: 1 });
    const r = await reading;
    const last = assertEventStream(r, { syncId: sync.id, terminal: 'complete' });
    assert.equal(last.data.counts.added, 1);
    const firstAt = r.times[0];
    const lastAt = r.times.at(-1);
    assert.ok(lastAt - firstAt >= 2000, `events spread over the slowed sync (first at ${firstAt} ms, last at ${lastAt} ms)`);
    const rr = await resumed;
    assert.deepEqual(frames(rr), frames(r).slice(1), 'resumed live stream = the events after 1');
  } finally {
    world.emulator.clearFaults();
  }
});

test('100 concurrent subscribers to one sync all receive the same complete, ordered list', async () => {
  repo.write('src/d.txt', 'd\n');
  repo.remove('src/a.txt');
  repo.commit('many subscribers');
  world.emulator.injectFault({ kind: 'delay', route: 'tree', ms: 8000, times: 1 });
  try {
    const { sync, eventsUrl } = await alice.startSync(project.id);
    const firsts = [];
    const readers = [];
    for (let i = 0; i < 100; i++) {
      let resolveFirst;
      firsts.push(new Promise((r) => (resolveFirst = r)));
      const opts = { timeoutMs: 90_000, onEvent: () => resolveFirst() };
      // Every tenth one authenticates with the owner's Bearer token instead.
      readers.push(i % 10 === 9 ? world.readEvents(`/api/v1/events/project-sync/${sync.id}`, { ...opts, token: alice.token }) : world.readEvents(eventsUrl, opts));
    }
    const settled = Promise.allSettled(readers);
    await Promise.race([Promise.all(firsts), settled]);
    const mid = await alice.getJson(`/api/v1/syncs/${sync.id}`);
    assert.ok(!TERMINAL.includes(mid.status), `all 100 attached while the sync ran (status ${mid.status})`);
    const results = await settled;
    const failures = results.filter((x) => x.status === 'rejected');
    assert.equal(failures.length, 0, `every subscriber finished: ${failures.slice(0, 3).map((f) => f.reason?.message).join(' | ')}`);
    const lists = results.map((x) => x.value);
    const reference = frames(lists[0]);
    assertEventStream(lists[0], { syncId: sync.id, terminal: 'complete' });
    lists.forEach((l, i) => {
      assert.equal(l.closed, true, `subscriber ${i} closed`);
      assert.deepEqual(frames(l), reference, `subscriber ${i} got the same list`);
    });
    const late = await world.readEvents(eventsUrl, { timeoutMs: 15_000 });
    assert.deepEqual(frames(late), reference, 'a late replay is the same list');
    const done = await alice.getJson(`/api/v1/syncs/${sync.id}`);
    assert.equal(done.status, 'COMPLETE');
    assert.deepEqual(done.counts, lists[0].events.at(-1).data.counts);
  } finally {
    world.emulator.clearFaults();
  }
});
