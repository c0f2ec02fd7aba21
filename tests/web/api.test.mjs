// Unit tests of web/js/api.js with a fake fetch (no network, no DOM). Run: node --test tests/web/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, createApi } from '../../web/js/api.js';
import { OPERATIONS } from '../../web/client/project-sync.js';

/** A fetch that answers from `answers` in turn ({status, body} or an Error to throw) and records calls. */
function fakeFetch(answers) {
  const calls = [];
  const fetchImpl = async (url, init) => {
    calls.push({ url, init });
    const a = answers.shift();
    if (a instanceof Error) throw a;
    const text = a.body === undefined ? '' : typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
    return { status: a.status, ok: a.status >= 200 && a.status < 300, text: async () => text };
  };
  return { fetchImpl, calls };
}

test('ApiError: the server\'s fields, or sensible ones', () => {
  for (const [status, body, want] of [
    [0, null, { message: 'Could not reach the server. Check the connection and try again.', code: 'network', field: null, retryAfter: null }],
    [500, null, { message: 'The server answered with status 500.', code: 'http_500', field: null, retryAfter: null }],
    [422, { error: { code: 'github_error', message: 'no such repo' } }, { message: 'no such repo', code: 'github_error', field: null, retryAfter: null }],
    [400, { error: { code: 'invalid_request', message: 'bad', field: 'branch' } }, { message: 'bad', code: 'invalid_request', field: 'branch', retryAfter: null }],
    [429, { error: { code: 'rate_limited', message: 'slow down', retryAfter: 7 } }, { message: 'slow down', code: 'rate_limited', field: null, retryAfter: 7 }],
    [503, { retryAfter: 3 }, { message: 'The server answered with status 503.', code: 'http_503', field: null, retryAfter: 3 }],
    [400, { error: 'a string' }, { message: 'The server answered with status 400.', code: 'http_400', field: null, retryAfter: null }],
  ]) {
    const e = new ApiError(status, body);
    assert.ok(e instanceof Error);
    assert.deepEqual({ message: e.message, code: e.code, field: e.field, retryAfter: e.retryAfter }, want, `${status}`);
    assert.equal(e.status, status);
    assert.equal(e.body, body);
  }
});

test('an operation sends the token and JSON, and reads JSON', async () => {
  const { fetchImpl, calls } = fakeFetch([{ status: 200, body: { ok: 1 } }, { status: 204 }, { status: 200, body: 'not json' }]);
  const api = createApi({ getToken: () => 'tok', fetchImpl });
  assert.deepEqual(await api.createProject({ name: 'x' }), { ok: 1 });
  assert.equal(calls[0].url, '/api/v1/projects');
  assert.deepEqual(calls[0].init, {
    method: 'POST',
    headers: { accept: 'application/json', authorization: 'Bearer tok', 'content-type': 'application/json' },
    cache: 'no-store',
    body: '{"name":"x"}',
  });
  assert.equal(await api.deleteProject('p'), null);
  assert.equal(calls[1].url, '/api/v1/projects/p');
  assert.equal(calls[1].init.method, 'DELETE');
  assert.equal(await api.getProject('x'), null, 'a body that is not JSON reads as null');
  assert.equal(calls[2].init.body, undefined);
  assert.equal(calls[2].init.headers['content-type'], undefined);
});

test('withToken tries another token; no token sends no authorization', async () => {
  const { fetchImpl, calls } = fakeFetch([{ status: 200, body: {} }, { status: 200, body: {} }]);
  const api = createApi({ getToken: () => null, fetchImpl });
  await api.withToken('try-me').listProjects({ limit: 1 });
  await api.listProjects();
  assert.equal(calls[0].url, '/api/v1/projects?limit=1');
  assert.equal(calls[0].init.cache, 'no-store', 'a tried token reads fresh too');
  assert.equal(calls[0].init.headers.authorization, 'Bearer try-me');
  assert.equal(calls[1].init.headers.authorization, undefined);
});

test('a 401 signs out only when signed in, and never for a token being tried', async () => {
  for (const [token, trying, signsOut] of [
    ['tok', false, true],
    ['tok', true, false],
    [null, false, false],
  ]) {
    let outs = 0;
    const { fetchImpl } = fakeFetch([{ status: 401, body: { error: { code: 'unauthorized', message: 'no' } } }]);
    const api = createApi({ getToken: () => token, onUnauthorized: () => { outs += 1; }, fetchImpl });
    const call = trying ? api.withToken('candidate').getProject('x') : api.getProject('x');
    await assert.rejects(call, (e) => e instanceof ApiError && e.status === 401 && e.code === 'unauthorized');
    assert.equal(outs, signsOut ? 1 : 0, JSON.stringify({ token, trying }));
  }
});

test('network failures and aborts become ApiErrors', async () => {
  const { fetchImpl } = fakeFetch([new TypeError('Failed to fetch'), new DOMException('aborted', 'AbortError')]);
  const api = createApi({ getToken: () => 't', fetchImpl });
  await assert.rejects(api.getProject('x'), (e) => e instanceof ApiError && e.status === 0 && e.code === 'network');
  const ctl = new AbortController();
  ctl.abort();
  await assert.rejects(api.getProject('x', { signal: ctl.signal }), (e) => e instanceof ApiError && e.code === 'aborted');
});

test('all follows the cursor and reports the running total', async () => {
  const { fetchImpl, calls } = fakeFetch([
    { status: 200, body: { items: [1, 2], nextCursor: 'c1' } },
    { status: 200, body: { items: [3], nextCursor: 'c 2' } },
    { status: 200, body: { items: [] } },
  ]);
  const api = createApi({ getToken: () => 't', fetchImpl });
  const seen = [];
  assert.deepEqual(await api.all('listFiles', 'p', { onPage: (n) => seen.push(n) }), [1, 2, 3]);
  assert.deepEqual(seen, [2, 3, 3]);
  assert.deepEqual(calls.map((c) => c.url), [
    '/api/v1/projects/p/files?limit=500',
    '/api/v1/projects/p/files?limit=500&cursor=c1',
    '/api/v1/projects/p/files?limit=500&cursor=c+2',
  ]);
  const two = fakeFetch([{ status: 200, body: { items: ['a'] } }]);
  await createApi({ fetchImpl: two.fetchImpl }).all('listFiles', 'x', { prefix: 'y', limit: 7 });
  assert.equal(two.calls[0].url, '/api/v1/projects/x/files?prefix=y&limit=7');
  await assert.rejects(createApi({ fetchImpl: two.fetchImpl }).all('getProject', 'x'), /not a list operation/);
});

test('all returns null once its signal is aborted, and passes errors on otherwise', async () => {
  const ctl = new AbortController();
  const { fetchImpl } = fakeFetch([{ status: 200, body: { items: [1], nextCursor: 'c' } }]);
  const api = createApi({ fetchImpl });
  assert.equal(await api.all('listInstallations', { signal: ctl.signal, onPage: () => ctl.abort() }), null);

  const aborted = new AbortController();
  aborted.abort();
  const gone = fakeFetch([new DOMException('aborted', 'AbortError')]);
  assert.equal(await createApi({ fetchImpl: gone.fetchImpl }).all('listInstallations', { signal: aborted.signal }), null);

  const failing = fakeFetch([{ status: 500 }]);
  await assert.rejects(createApi({ fetchImpl: failing.fetchImpl }).all('listInstallations'), (e) => e.status === 500);
});

test('getFileContent reads a body that is not JSON, with the token, and refuses like every operation', async () => {
  const calls = [];
  let signedOut = 0;
  const answers = [
    { status: 200, ok: true, headers: new Headers({ 'content-type': 'application/octet-stream' }), blob: async () => new Blob([new Uint8Array([0, 255])]) },
    { status: 404, ok: false, headers: new Headers(), text: async () => JSON.stringify({ error: { code: 'not_found', message: 'file not found' } }) },
    { status: 401, ok: false, headers: new Headers(), text: async () => '' },
  ];
  const fetchImpl = async (url, init) => (calls.push({ url, init }), answers.shift());
  const api = createApi({ getToken: () => 'tok', onUnauthorized: () => (signedOut += 1), fetchImpl });
  const got = await api.getFileContent('p', { path: 'a.bin' });
  assert.equal(got.type, 'application/octet-stream');
  assert.deepEqual([...new Uint8Array(await got.blob.arrayBuffer())], [0, 255]);
  assert.equal(calls[0].init.headers.authorization, 'Bearer tok');
  assert.equal(calls[0].url, '/api/v1/projects/p/files/content?path=a.bin');
  await assert.rejects(api.getFileContent('p', { path: 'x' }), (e) => e instanceof ApiError && e.code === 'not_found' && e.status === 404);
  await assert.rejects(api.getFileContent('p', { path: 'x' }), (e) => e.status === 401);
  assert.equal(signedOut, 1, 'a 401 signs out');
});

test('the page has a method for every operation of the client\'s table, and no other way in', () => {
  const api = createApi({ fetchImpl: async () => { throw new Error('not called'); } });
  for (const [id] of OPERATIONS) assert.equal(typeof api[id], 'function', id);
  for (const gone of ['request', 'fetchAll', 'bytes']) assert.equal(api[gone], undefined, `${gone} (a hand-built path) is gone`);
});

test('a missing path parameter is the page\'s bug: a TypeError, not an ApiError, and no sign-out', async () => {
  let outs = 0;
  const api = createApi({ getToken: () => 'tok', onUnauthorized: () => (outs += 1), fetchImpl: async () => { throw new Error('not called'); } });
  await assert.rejects(api.getProject(undefined), (e) => e instanceof TypeError && !(e instanceof ApiError));
  assert.equal(outs, 0);
});
