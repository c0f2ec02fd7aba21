// Project Sync dashboard: plain JavaScript, no build step, no dependencies.
//
// Everything the server sends (names, paths, messages) is untrusted: it reaches the page
// only through textContent and attribute setters, never through innerHTML.

const TOKEN_KEY = 'projectSync.token';
const API = '/api/v1';
const TERMINAL = new Set(['COMPLETE', 'FAILED', 'CANCELLED']);
const PHASES = ['FETCHING', 'DIFFING', 'PROCESSING', 'PERSISTING'];
const COUNT_KEYS = ['added', 'modified', 'removed', 'renamed', 'unchanged'];
const HISTORY_PAGE = 20;
const PROJECTS_PAGE = 100;
const MAX_PAGE = 500;

const STATUS_TITLES = {
  QUEUED: 'Queued',
  FETCHING: 'Fetching from GitHub',
  DIFFING: 'Comparing with the active files',
  PROCESSING: 'Processing changed files',
  PERSISTING: 'Saving to the database',
  COMPLETE: 'Complete',
  FAILED: 'Failed',
  CANCELLED: 'Cancelled',
};

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

/** Creates an element; `props.text` becomes textContent, other props attributes. */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    else if (key === 'className') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const enc = encodeURIComponent;
const shortSha = (sha) => (sha ? String(sha).slice(0, 7) : '');
const num = (n) => (Number.isFinite(Number(n)) ? Number(n).toLocaleString() : '0');

function formatBytes(n) {
  n = Number(n) || 0;
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i += 1;
  } while (v >= 1024 && i < units.length - 1);
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

function formatDuration(ms) {
  ms = Number(ms);
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  if (m < 60) return `${m} min ${String(rest).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});
function formatTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso ?? '') : timeFormat.format(d);
}

function timeEl(iso) {
  return el('time', { datetime: iso, title: iso, text: formatTime(iso) });
}

function show(node, visible = true) {
  node.hidden = !visible;
}

// ---------------------------------------------------------------------------
// API client
// ---------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    const error = body && typeof body === 'object' && body.error && typeof body.error === 'object' ? body.error : {};
    const message = typeof error.message === 'string' && error.message
      ? error.message
      : status === 0
        ? 'Could not reach the server. Check the connection and try again.'
        : `The server answered with status ${status}.`;
    super(message);
    this.status = status;
    this.code = typeof error.code === 'string' ? error.code : status === 0 ? 'network' : `http_${status}`;
    this.field = typeof error.field === 'string' ? error.field : null;
    this.retryAfter = error.retryAfter ?? body?.retryAfter ?? null;
    this.body = body;
  }
}

const state = {
  token: null,
  projects: [],
  projectsCursor: null,
  project: null,
  projectGen: 0,
  history: [],
  historyCursor: null,
  files: [],
  watch: null,
  tick: null,
};

async function api(method, path, body, { signOutOn401 = true } = {}) {
  const headers = { accept: 'application/json' };
  if (state.token) headers.authorization = `Bearer ${state.token}`;
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(API + path, init);
  } catch {
    throw new ApiError(0, null);
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const err = new ApiError(response.status, data);
    if (response.status === 401 && signOutOn401 && state.token) {
      signOut('Your token was not accepted any more. Sign in again.');
    }
    throw err;
  }
  return data;
}

/** Follows nextCursor until the end; `onPage` sees the running total. */
async function fetchAll(path, { limit = MAX_PAGE, onPage, isCurrent = () => true } = {}) {
  const items = [];
  let cursor = null;
  for (let guard = 0; guard < 10000; guard += 1) {
    const q = new URLSearchParams({ limit: String(limit) });
    if (cursor) q.set('cursor', cursor);
    const sep = path.includes('?') ? '&' : '?';
    const page = await api('GET', `${path}${sep}${q}`);
    if (!isCurrent()) return null;
    items.push(...(page?.items ?? []));
    onPage?.(items.length);
    cursor = page?.nextCursor ?? null;
    if (!cursor) break;
  }
  return items;
}

/** Fills an error box: a lead sentence, the server's message and its code. */
function showError(box, err, lead) {
  box.replaceChildren();
  if (!err) {
    show(box, false);
    return;
  }
  if (lead) box.append(el('strong', { text: lead }), ' ');
  box.append(el('span', { text: err.message || String(err) }));
  if (err.retryAfter) box.append(' ', el('span', { text: `Try again in ${err.retryAfter} s.` }));
  if (err.code) {
    box.append(' ', el('span', { className: 'error-code', text: err.status ? `${err.code} · ${err.status}` : err.code }));
  }
  show(box, true);
}

// ---------------------------------------------------------------------------
// Sign in / sign out
// ---------------------------------------------------------------------------

function showSignIn(message) {
  show($('app-view'), false);
  show($('session'), false);
  show($('signin-view'), true);
  const box = $('signin-error');
  if (message) {
    box.textContent = message;
    show(box, true);
  } else {
    show(box, false);
  }
  $('howto-curl').textContent = $('howto-curl').textContent.replace('http://HOST', location.origin);
}

async function onSignIn(event) {
  event.preventDefault();
  const input = $('signin-token');
  const token = input.value.trim();
  const box = $('signin-error');
  if (!token) {
    box.textContent = 'Enter your user token.';
    show(box, true);
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  const button = $('signin-submit');
  button.disabled = true;
  state.token = token;
  try {
    await api('GET', '/projects?limit=1', undefined, { signOutOn401: false });
  } catch (err) {
    state.token = null;
    showError(box, err, err.status === 401 ? 'That token was not accepted.' : 'Could not sign in.');
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  } finally {
    button.disabled = false;
  }
  input.removeAttribute('aria-invalid');
  input.value = '';
  try {
    localStorage.setItem(TOKEN_KEY, token);
  } catch {
    /* private mode: the session lasts until the page closes */
  }
  await enterApp();
  $('main').focus();
}

function signOut(message) {
  stopWatching();
  state.token = null;
  state.projects = [];
  state.project = null;
  state.projectGen += 1;
  try {
    localStorage.removeItem(TOKEN_KEY);
  } catch {
    /* ignore */
  }
  showSignIn(message);
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  $('signin-token').focus();
}

async function enterApp() {
  show($('signin-view'), false);
  show($('session'), true);
  show($('app-view'), true);
  await loadProjects();
  if (state.token) await route();
}

// ---------------------------------------------------------------------------
// Projects
// ---------------------------------------------------------------------------

async function loadProjects({ append = false } = {}) {
  const errorBox = $('projects-error');
  const q = new URLSearchParams({ limit: String(PROJECTS_PAGE) });
  if (append && state.projectsCursor) q.set('cursor', state.projectsCursor);
  try {
    const page = await api('GET', `/projects?${q}`);
    state.projects = append ? [...state.projects, ...page.items] : page.items;
    state.projectsCursor = page.nextCursor ?? null;
    showError(errorBox, null);
  } catch (err) {
    if (err.status !== 401) showError(errorBox, err, 'Could not load projects.');
  }
  renderProjectList();
}

function renderProjectList() {
  const list = $('project-list');
  list.replaceChildren();
  for (const p of state.projects) {
    const current = state.project?.id === p.id;
    const link = el(
      'a',
      { href: `#/projects/${enc(p.id)}`, className: 'project-link', 'aria-current': current ? 'page' : null },
      el('span', { className: 'project-link-name', text: p.name }),
      el('span', { className: 'project-link-meta mono', text: `${p.repository} · ${p.branch}` }),
    );
    list.append(el('li', {}, link));
  }
  show($('projects-empty'), state.projects.length === 0);
  show($('projects-more'), Boolean(state.projectsCursor));
}

function clearCreateErrors() {
  for (const field of ['name', 'repository', 'branch', 'githubToken']) {
    const box = $(`create-${field}-error`);
    box.textContent = '';
    show(box, false);
  }
  for (const input of $('create-form').querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  showError($('create-error'), null);
}

function fieldInput(field) {
  return $('create-form').elements.namedItem(field);
}

function markField(field, message) {
  const box = $(`create-${field}-error`);
  const input = fieldInput(field);
  if (!box || !input) return false;
  box.textContent = message;
  show(box, true);
  input.setAttribute('aria-invalid', 'true');
  return true;
}

async function onCreateProject(event) {
  event.preventDefault();
  clearCreateErrors();
  const form = $('create-form');
  const name = form.elements.name.value.trim();
  const repository = form.elements.repository.value.trim();
  const branch = form.elements.branch.value.trim();
  const githubToken = form.elements.githubToken.value.trim();
  const tracked = form.elements.tracked.checked;

  const problems = [];
  if (!name) problems.push(['name', 'Give the project a name.']);
  if (!/^[^/\s]+\/[^/\s]+$/.test(repository)) problems.push(['repository', 'Write the repository as owner/repo.']);
  if (problems.length) {
    for (const [field, message] of problems) markField(field, message);
    showError($('create-error'), { message: 'Fix the marked fields and try again.' }, 'The project was not created.');
    fieldInput(problems[0][0]).focus();
    return;
  }

  const body = { name, repository, tracked };
  if (branch) body.branch = branch;
  if (githubToken) body.githubToken = githubToken;
  const button = $('create-submit');
  button.disabled = true;
  button.textContent = 'Creating…';
  try {
    const project = await api('POST', '/projects', body);
    form.reset();
    state.projects = [...state.projects.filter((p) => p.id !== project.id), project];
    renderProjectList();
    flashNotice(`Project “${project.name}” created. Pick a branch and start its first sync.`);
    location.hash = `#/projects/${enc(project.id)}`;
  } catch (err) {
    const lead = err.code === 'github_error' ? 'GitHub refused.' : 'The project was not created.';
    showError($('create-error'), err, lead);
    if (err.field && markField(err.field, err.message)) fieldInput(err.field).focus();
  } finally {
    button.disabled = false;
    button.textContent = 'Create project';
  }
}

// ---------------------------------------------------------------------------
// Routing and the project view
// ---------------------------------------------------------------------------

function routeProjectId() {
  const m = /^#\/projects\/([^/?#]+)/.exec(location.hash);
  return m ? decodeURIComponent(m[1]) : null;
}

async function route() {
  if (!state.token) return;
  const id = routeProjectId();
  if (id) {
    if (state.project?.id !== id) await openProject(id);
    return;
  }
  if (state.projects.length) {
    history.replaceState(null, '', `#/projects/${enc(state.projects[0].id)}`);
    await openProject(state.projects[0].id);
  } else {
    closeProject();
  }
}

function closeProject() {
  stopWatching();
  state.projectGen += 1;
  state.project = null;
  show($('project-view'), false);
  show($('no-project'), true);
  renderProjectList();
}

async function openProject(id) {
  const gen = ++state.projectGen;
  const isCurrent = () => gen === state.projectGen;
  stopWatching();
  resetProjectView();
  let project;
  try {
    project = await api('GET', `/projects/${enc(id)}`);
  } catch (err) {
    if (!isCurrent()) return;
    state.project = null;
    show($('project-view'), false);
    show($('no-project'), true);
    renderProjectList();
    if (err.status === 404) flashNotice('That project does not exist (or is not yours).');
    else if (err.status !== 401) flashNotice(`Could not open the project: ${err.message}`);
    return;
  }
  if (!isCurrent()) return;
  state.project = project;
  const i = state.projects.findIndex((p) => p.id === project.id);
  if (i >= 0) state.projects[i] = project;
  show($('no-project'), false);
  show($('project-view'), true);
  renderProjectHead();
  renderProjectList();
  updateSyncButtons();
  await Promise.all([loadBranches(gen), loadHistory(gen, { attach: true }), loadFiles(gen)]);
}

function resetProjectView() {
  state.history = [];
  state.historyCursor = null;
  state.files = [];
  for (const id of ['project-error', 'sync-error', 'history-error', 'files-error']) showError($(id), null);
  show($('banner'), false);
  $('history-body').replaceChildren();
  show($('history-table'), false);
  show($('history-empty'), false);
  show($('history-more'), false);
  $('file-tree').replaceChildren();
  $('files-summary').textContent = '';
  $('files-filter').value = '';
  show($('files-filter-field'), false);
  show($('tree-tools'), false);
  $('sync-branch').replaceChildren();
  updateSyncButtons();
}

function renderProjectHead() {
  const p = state.project;
  if (!p) return;
  $('project-name').textContent = p.name;
  $('project-repo').textContent = p.repository;
  $('project-branch').textContent = p.branch;
  const commit = $('project-commit');
  commit.textContent = p.currentCommitSha ? shortSha(p.currentCommitSha) : 'not synced yet';
  commit.title = p.currentCommitSha ?? '';
  commit.classList.toggle('muted', !p.currentCommitSha);
  $('project-tracked').checked = Boolean(p.tracked);
  document.title = `${p.name} · Project Sync`;
}

async function refreshProject() {
  const p = state.project;
  if (!p) return;
  const gen = state.projectGen;
  try {
    const fresh = await api('GET', `/projects/${enc(p.id)}`);
    if (gen !== state.projectGen) return;
    state.project = fresh;
    const i = state.projects.findIndex((x) => x.id === fresh.id);
    if (i >= 0) state.projects[i] = fresh;
    renderProjectHead();
    renderProjectList();
  } catch {
    /* the next action shows the problem */
  }
}

async function onTrackedChange() {
  const p = state.project;
  const box = $('project-tracked');
  const wanted = box.checked;
  box.disabled = true;
  try {
    state.project = await api('PATCH', `/projects/${enc(p.id)}`, { tracked: wanted });
    showError($('project-error'), null);
    renderProjectHead();
  } catch (err) {
    box.checked = !wanted;
    showError($('project-error'), err, 'Could not change tracking.');
  } finally {
    box.disabled = false;
  }
}

async function onDeleteProject() {
  const p = state.project;
  if (!p) return;
  const ok = await confirmDialog({
    title: 'Delete this project?',
    text: `“${p.name}” (${p.repository}) and its synced files, history and memory will be deleted. A running sync is cancelled. This cannot be undone.`,
    ok: 'Delete project',
    danger: true,
  });
  if (!ok) return;
  try {
    await api('DELETE', `/projects/${enc(p.id)}`);
  } catch (err) {
    showError($('project-error'), err, 'The project was not deleted.');
    return;
  }
  stopWatching();
  state.projects = state.projects.filter((x) => x.id !== p.id);
  state.project = null;
  flashNotice(`Project “${p.name}” deleted.`);
  if (state.projects.length) location.hash = `#/projects/${enc(state.projects[0].id)}`;
  else {
    history.replaceState(null, '', location.pathname);
    closeProject();
  }
}

// ---------------------------------------------------------------------------
// Branches and sync controls
// ---------------------------------------------------------------------------

async function loadBranches(gen) {
  const select = $('sync-branch');
  const status = $('sync-branch-status');
  const p = state.project;
  select.disabled = true;
  select.replaceChildren(el('option', { value: p.branch, text: p.branch }));
  status.textContent = 'Loading branches…';
  let branches;
  try {
    branches = await fetchAll(`/projects/${enc(p.id)}/branches`, {
      isCurrent: () => gen === state.projectGen,
      onPage: (n) => {
        status.textContent = `Loading branches… ${num(n)}`;
      },
    });
  } catch (err) {
    if (gen !== state.projectGen) return;
    select.disabled = false;
    status.textContent = `Could not list branches (${err.message}). The project's branch is used.`;
    return;
  }
  if (!branches) return;
  const names = new Set(branches.map((b) => b.name));
  const options = branches.map((b) =>
    el('option', { value: b.name, text: b.protected ? `${b.name} (protected)` : b.name }),
  );
  if (!names.has(p.branch)) {
    options.unshift(el('option', { value: p.branch, text: `${p.branch} (not on GitHub any more)` }));
  }
  select.replaceChildren(...options);
  select.value = state.project?.branch ?? p.branch;
  select.disabled = false;
  status.textContent = `${num(branches.length)} ${branches.length === 1 ? 'branch' : 'branches'}. Choosing another one makes it the project's branch.`;
}

function isRunning() {
  const w = state.watch;
  return Boolean(w && !w.done && state.project && w.sync.projectId === state.project.id);
}

function updateSyncButtons() {
  const running = isRunning();
  const start = $('sync-start');
  start.disabled = running || !state.project;
  start.textContent = running ? 'Sync running…' : 'Start sync';
  const cancel = $('sync-cancel');
  show(cancel, running);
  if (!running) {
    cancel.disabled = false;
    cancel.textContent = 'Cancel sync';
  }
}

async function onStartSync(event) {
  event.preventDefault();
  const p = state.project;
  if (!p || isRunning()) return;
  const gen = state.projectGen;
  const branch = $('sync-branch').value;
  showError($('sync-error'), null);
  show($('sync-notice'), false);
  const start = $('sync-start');
  start.disabled = true;
  start.textContent = 'Starting…';
  try {
    const answer = await api('POST', `/projects/${enc(p.id)}/syncs`, branch ? { branch } : {});
    if (gen !== state.projectGen) return;
    upsertHistory(answer.sync);
    watchSync(answer.sync, answer.eventsUrl);
    if (answer.sync.branch !== p.branch) refreshProject();
  } catch (err) {
    if (gen !== state.projectGen) return;
    if (err.status === 409 && err.body?.sync) {
      flashNotice('A sync of this project was already running, so it is shown instead of starting another.');
      upsertHistory(err.body.sync);
      await attachToSync(err.body.sync);
    } else {
      showError($('sync-error'), err, 'The sync did not start.');
    }
  } finally {
    updateSyncButtons();
  }
}

async function onCancelSync() {
  const w = state.watch;
  if (!w || w.done) return;
  const button = $('sync-cancel');
  button.disabled = true;
  button.textContent = 'Cancelling…';
  showError($('sync-error'), null);
  try {
    await api('POST', `/syncs/${enc(w.syncId)}/cancel`);
    setConnectionNote(w, 'Cancel requested; waiting for the sync to stop…');
  } catch (err) {
    button.disabled = false;
    button.textContent = 'Cancel sync';
    showError($('sync-error'), err, 'The sync was not cancelled.');
  }
}

let noticeTimer = null;
function flashNotice(text) {
  const box = $('sync-notice');
  box.textContent = text;
  show(box, true);
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => show(box, false), 12000);
}

// ---------------------------------------------------------------------------
// The banner and the event stream
// ---------------------------------------------------------------------------

function syncToData(sync) {
  return {
    syncId: sync.id,
    status: sync.status,
    progress: sync.progress ?? 0,
    message: sync.message ?? '',
    counts: sync.counts ?? {},
    stats: sync.stats ?? {},
  };
}

function stopWatching() {
  const w = state.watch;
  if (w) {
    w.done = true;
    w.source?.close();
    clearTimeout(w.timer);
  }
  state.watch = null;
  clearInterval(state.tick);
  state.tick = null;
  updateSyncButtons();
}

/** Shows a sync in the banner without a stream (a finished one). */
function showSyncInBanner(sync) {
  stopWatching();
  const w = newWatch(sync);
  w.done = true;
  state.watch = w;
  renderBanner(w);
  updateSyncButtons();
}

function newWatch(sync) {
  return {
    syncId: sync.id,
    sync,
    data: syncToData(sync),
    lastId: 0,
    source: null,
    timer: null,
    errors: 0,
    retry: 0,
    done: false,
    maxPhase: PHASES.indexOf(sync.status),
    note: null,
  };
}

/** Asks for a fresh stream URL for `sync` and watches it. */
async function attachToSync(sync) {
  if (TERMINAL.has(sync.status)) {
    showSyncInBanner(sync);
    return;
  }
  const gen = state.projectGen;
  let url;
  try {
    url = (await api('GET', `/syncs/${enc(sync.id)}/events-url`)).eventsUrl;
  } catch (err) {
    if (gen !== state.projectGen) return;
    showError($('sync-error'), err, 'Could not follow the running sync.');
    showSyncInBanner(sync);
    return;
  }
  if (gen !== state.projectGen) return;
  watchSync(sync, url);
}

function watchSync(sync, eventsUrl) {
  stopWatching();
  const w = newWatch(sync);
  state.watch = w;
  renderBanner(w);
  updateSyncButtons();
  if (TERMINAL.has(sync.status)) {
    w.done = true;
    return;
  }
  state.tick = setInterval(() => {
    if (state.watch === w && !w.done) renderDuration(w);
  }, 1000);
  openStream(w, eventsUrl);
}

function openStream(w, url) {
  w.source?.close();
  const source = new EventSource(url);
  w.source = source;
  const current = () => state.watch === w && w.source === source && !w.done;
  const onEvent = (event) => {
    if (!current()) return;
    const id = Number(event.lastEventId);
    if (Number.isFinite(id) && id > 0) {
      // A reopened stream (fresh URL, no Last-Event-ID) replays from the start: skip what we saw.
      if (id <= w.lastId) return;
      w.lastId = id;
    }
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    w.errors = 0;
    w.retry = 0;
    if (w.note && !w.cancelNote) setConnectionNote(w, null);
    applyEvent(w, event.type, data);
  };
  for (const name of ['progress', 'complete', 'failed', 'cancelled']) source.addEventListener(name, onEvent);
  source.addEventListener('open', () => {
    if (!current()) return;
    w.errors = 0;
    if (!w.cancelNote) setConnectionNote(w, null);
  });
  source.addEventListener('error', () => {
    if (!current()) return;
    w.errors += 1;
    if (source.readyState === EventSource.CONNECTING && w.errors <= 3) {
      // The browser reconnects by itself (sending Last-Event-ID).
      setConnectionNote(w, 'Connection lost. Reconnecting…');
      return;
    }
    // Closed by the server (the stream token may have expired) or failing again and again:
    // ask for a fresh stream URL and reopen.
    source.close();
    reopenWithFreshUrl(w);
  });
}

function reopenWithFreshUrl(w) {
  setConnectionNote(w, 'Connection lost. Reconnecting…');
  const delay = w.retry === 0 ? 300 : Math.min(30000, 1000 * 2 ** w.retry);
  w.retry += 1;
  clearTimeout(w.timer);
  w.timer = setTimeout(async () => {
    if (state.watch !== w || w.done) return;
    try {
      const { eventsUrl } = await api('GET', `/syncs/${enc(w.syncId)}/events-url`);
      if (state.watch !== w || w.done) return;
      w.errors = 0;
      openStream(w, eventsUrl);
    } catch (err) {
      if (state.watch !== w || w.done) return;
      if (err.status === 404 || err.status === 401) {
        setConnectionNote(w, 'This sync cannot be followed any more.');
        w.done = true;
        updateSyncButtons();
        return;
      }
      reopenWithFreshUrl(w);
    }
  }, delay);
}

function setConnectionNote(w, text) {
  if (state.watch !== w) return;
  w.note = text;
  w.cancelNote = Boolean(text && text.startsWith('Cancel'));
  const node = $('banner-connection');
  node.textContent = text ?? '';
  show(node, Boolean(text));
}

function applyEvent(w, type, data) {
  if (data.syncId && data.syncId !== w.syncId) return;
  w.data = {
    ...w.data,
    ...data,
    counts: { ...w.data.counts, ...(data.counts ?? {}) },
    stats: { ...w.data.stats, ...(data.stats ?? {}) },
  };
  w.sync = { ...w.sync, status: w.data.status, progress: w.data.progress, message: w.data.message, counts: w.data.counts, stats: w.data.stats };
  w.maxPhase = Math.max(w.maxPhase, PHASES.indexOf(w.data.status));
  renderBanner(w);
  upsertHistory(w.sync);
  if (type !== 'progress' || TERMINAL.has(w.data.status)) finishWatch(w);
}

async function finishWatch(w) {
  w.done = true;
  w.source?.close();
  clearTimeout(w.timer);
  clearInterval(state.tick);
  state.tick = null;
  setConnectionNote(w, null);
  updateSyncButtons();
  const gen = state.projectGen;
  try {
    const sync = await api('GET', `/syncs/${enc(w.syncId)}`);
    if (state.watch === w) {
      w.sync = sync;
      // The stored row is authoritative for the final counts, stats and error.
      w.data = { ...w.data, counts: sync.counts ?? w.data.counts, stats: sync.stats ?? w.data.stats, status: TERMINAL.has(sync.status) ? sync.status : w.data.status };
      renderBanner(w);
    }
  } catch {
    /* keep what the stream said */
  }
  if (gen !== state.projectGen) return;
  await Promise.all([refreshProject(), loadHistory(gen, { attach: false })]);
  if (gen === state.projectGen && w.data.status === 'COMPLETE') await loadFiles(gen);
}

function renderBanner(w) {
  const banner = $('banner');
  const { data, sync } = w;
  const status = data.status;
  const terminal = TERMINAL.has(status);
  const what = sync.kind === 'restore' ? 'Restore' : 'Sync';
  show(banner, true);
  banner.dataset.status = status;
  banner.dataset.syncId = w.syncId;
  banner.classList.toggle('is-running', !terminal);

  // The live region: changes only when the status does, so screen readers hear each phase once.
  const phaseNo = PHASES.indexOf(status);
  const title = terminal
    ? `${what} ${STATUS_TITLES[status].toLowerCase()}`
    : phaseNo >= 0
      ? `${STATUS_TITLES[status]} (step ${phaseNo + 1} of ${PHASES.length})`
      : `${what} ${STATUS_TITLES[status]?.toLowerCase() ?? status}`;
  const statusNode = $('banner-status');
  if (statusNode.textContent !== title) statusNode.textContent = title;

  const sub = [];
  sub.push(`${what} of ${sync.branch}`);
  if (sync.commitSha) sub.push(`commit ${shortSha(sync.commitSha)}`);
  if (sync.kind === 'restore' && sync.restoredFromSyncId) sub.push(`from sync ${shortSha(sync.restoredFromSyncId)}`);
  if (sync.startedAt) sub.push(`started ${formatTime(sync.startedAt)}`);
  $('banner-sub').textContent = sub.join(' · ');

  for (const li of banner.querySelectorAll('.phases li')) {
    const i = PHASES.indexOf(li.dataset.phase);
    let phaseState = 'pending';
    if (status === 'COMPLETE') phaseState = 'done';
    else if (!terminal && i < phaseNo) phaseState = 'done';
    else if (!terminal && i === phaseNo) phaseState = 'current';
    else if (terminal && w.maxPhase >= 0 && i < w.maxPhase) phaseState = 'done';
    else if (terminal && i === w.maxPhase) phaseState = 'stopped';
    li.dataset.state = phaseState;
    if (phaseState === 'current') li.setAttribute('aria-current', 'step');
    else li.removeAttribute('aria-current');
    li.querySelector('.phase-state').textContent = {
      done: ' (done)', current: ' (in progress)', stopped: ' (stopped here)', pending: '',
    }[phaseState];
  }

  const progress = Math.max(0, Math.min(100, Math.round(Number(data.progress) || 0)));
  const bar = $('banner-progress');
  bar.setAttribute('aria-valuenow', String(progress));
  bar.setAttribute('aria-valuetext', `${progress}%`);
  $('banner-progress-fill').style.width = `${progress}%`;
  $('banner-progress-value').textContent = `${progress}%`;

  $('banner-message').textContent = data.message || '';
  const errorNode = $('banner-error');
  const error = status === 'FAILED' ? sync.error || data.message : null;
  errorNode.textContent = error && error !== data.message ? error : '';
  show(errorNode, Boolean(error && error !== data.message));

  for (const key of COUNT_KEYS) {
    banner.querySelector(`[data-count="${key}"]`).textContent = num(data.counts?.[key] ?? 0);
  }
  const stats = data.stats ?? {};
  banner.querySelector('[data-stat="githubRequests"]').textContent = num(stats.githubRequests ?? 0);
  banner.querySelector('[data-stat="githubNotModified"]').textContent = num(stats.githubNotModified ?? 0);
  banner.querySelector('[data-stat="d1RowsWritten"]').textContent = num(stats.d1RowsWritten ?? 0);
  banner.querySelector('[data-stat="bytesDownloaded"]').textContent = formatBytes(stats.bytesDownloaded ?? 0);
  renderDuration(w);
}

function renderDuration(w) {
  const node = $('banner').querySelector('[data-stat="durationMs"]');
  const ms = Number(w.data.stats?.durationMs) || 0;
  if (ms > 0 || TERMINAL.has(w.data.status)) {
    node.textContent = formatDuration(ms);
    return;
  }
  const started = Date.parse(w.sync.startedAt);
  node.textContent = Number.isNaN(started) ? '–' : `${formatDuration(Math.max(0, Date.now() - started))} so far`;
}

// ---------------------------------------------------------------------------
// History
// ---------------------------------------------------------------------------

async function loadHistory(gen, { append = false, attach = false } = {}) {
  const p = state.project;
  if (!p) return;
  const q = new URLSearchParams({ limit: String(HISTORY_PAGE) });
  if (append && state.historyCursor) q.set('cursor', state.historyCursor);
  let page;
  try {
    page = await api('GET', `/projects/${enc(p.id)}/syncs?${q}`);
  } catch (err) {
    if (gen === state.projectGen) showError($('history-error'), err, 'Could not load the history.');
    return;
  }
  if (gen !== state.projectGen) return;
  showError($('history-error'), null);
  state.history = append ? [...state.history, ...page.items] : page.items;
  state.historyCursor = page.nextCursor ?? null;
  // A sync being watched is fresher than the row we just read.
  const w = state.watch;
  if (w && !w.done) {
    const i = state.history.findIndex((s) => s.id === w.syncId);
    if (i >= 0) state.history[i] = { ...state.history[i], ...w.sync };
  }
  renderHistory();
  if (attach && !state.watch) {
    // After a reload: pick the running sync up again (newest non-terminal one).
    const running = state.history.find((s) => !TERMINAL.has(s.status));
    if (running) await attachToSync(running);
    else if (state.history.length) showSyncInBanner(state.history[0]);
  }
}

function upsertHistory(sync) {
  if (!state.project || sync.projectId !== state.project.id) return;
  const i = state.history.findIndex((s) => s.id === sync.id);
  if (i >= 0) {
    state.history[i] = { ...state.history[i], ...sync };
    const row = $('history-body').querySelector(`tr[data-sync-id="${CSS.escape(sync.id)}"]`);
    if (row) row.replaceWith(historyRow(state.history[i]));
    else renderHistory();
  } else {
    state.history.unshift(sync);
    renderHistory();
  }
}

function renderHistory() {
  const body = $('history-body');
  body.replaceChildren(...state.history.map(historyRow));
  show($('history-table'), state.history.length > 0);
  show($('history-empty'), state.history.length === 0);
  show($('history-more'), Boolean(state.historyCursor));
}

function statusBadge(status) {
  return el('span', { className: `badge badge-${String(status).toLowerCase()}`, text: status });
}

function changesCell(counts = {}) {
  const parts = [];
  const marks = { added: '+', modified: '~', removed: '−', renamed: '→', unchanged: '=' };
  for (const key of COUNT_KEYS) {
    const n = Number(counts[key] ?? 0);
    if (!n && key !== 'unchanged') continue;
    parts.push(
      el('span', { className: `chg chg-${key}`, title: `${num(n)} ${key}` },
        el('span', { 'aria-hidden': 'true', text: `${marks[key]}${num(n)}` }),
        el('span', { className: 'visually-hidden', text: `${num(n)} ${key}` }),
      ),
    );
  }
  return parts;
}

function historyRow(s) {
  const isCurrent = state.project?.currentSyncId === s.id;
  const running = !TERMINAL.has(s.status);
  const statusCell = el('td', { 'data-label': 'Status' }, statusBadge(s.status));
  if (running) statusCell.append(' ', el('span', { className: 'muted small', text: `${Math.round(s.progress ?? 0)}%` }));
  if (isCurrent) statusCell.append(' ', el('span', { className: 'tag-current', text: 'active' }));
  if (s.status === 'FAILED' && s.error) statusCell.append(el('div', { className: 'row-error', text: s.error }));

  const kind = el('td', { 'data-label': 'Kind' }, s.kind, el('span', { className: 'muted small', text: ` · ${s.trigger}` }));
  if (s.kind === 'restore' && s.restoredFromSyncId) {
    const from = state.history.find((h) => h.id === s.restoredFromSyncId);
    kind.append(el('div', {
      className: 'muted small',
      text: from?.commitSha ? `of ${shortSha(from.commitSha)}` : `of ${shortSha(s.restoredFromSyncId)}…`,
    }));
  }

  const actions = el('td', { className: 'actions', 'data-label': 'Actions' });
  if (s.status === 'COMPLETE') {
    actions.append(el('button', {
      type: 'button',
      className: 'btn btn-quiet btn-small',
      dataset: { restore: s.id },
      'aria-label': `Restore the files of the sync started ${formatTime(s.startedAt)}${s.commitSha ? ` (commit ${shortSha(s.commitSha)})` : ''}`,
      text: 'Restore…',
    }));
  }

  return el('tr', { dataset: { syncId: s.id, status: s.status } },
    el('td', { 'data-label': 'Started' }, timeEl(s.startedAt)),
    statusCell,
    el('td', { 'data-label': 'Commit' },
      s.commitSha ? el('code', { className: 'sha', title: s.commitSha, text: shortSha(s.commitSha) }) : el('span', { className: 'muted', text: '—' })),
    kind,
    el('td', { 'data-label': 'Changes', className: 'changes' },
      s.status === 'COMPLETE' ? changesCell(s.counts)
        : el('span', { className: 'muted', title: running ? 'still running' : 'nothing was changed', text: running ? '…' : 'none' })),
    el('td', { 'data-label': 'Duration' }, TERMINAL.has(s.status) ? formatDuration(s.stats?.durationMs ?? 0) : '…'),
    actions,
  );
}

async function onHistoryClick(event) {
  const button = event.target.closest('button[data-restore]');
  if (!button) return;
  const id = button.dataset.restore;
  const target = state.history.find((s) => s.id === id);
  if (!target || !state.project) return;
  const ok = await confirmDialog({
    title: 'Restore these files?',
    text: `The active files become exactly those right after the sync started ${formatTime(target.startedAt)}`
      + `${target.commitSha ? ` (commit ${shortSha(target.commitSha)})` : ''}. `
      + 'This runs as a new restore sync; nothing is fetched from GitHub and the history keeps every version.',
    ok: 'Restore',
  });
  if (!ok) return;
  const p = state.project;
  const gen = state.projectGen;
  showError($('history-error'), null);
  try {
    const answer = await api('POST', `/projects/${enc(p.id)}/restore`, { syncId: id });
    if (gen !== state.projectGen) return;
    upsertHistory(answer.sync);
    watchSync(answer.sync, answer.eventsUrl);
    $('banner').scrollIntoView({ block: 'nearest', behavior: prefersReducedMotion() ? 'auto' : 'smooth' });
  } catch (err) {
    if (gen !== state.projectGen) return;
    if (err.status === 409 && err.body?.sync) {
      flashNotice('A sync of this project is already running; wait for it to finish before restoring.');
      await attachToSync(err.body.sync);
    } else {
      showError($('history-error'), err, 'The restore did not start.');
    }
  }
}

// ---------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------

async function loadFiles(gen) {
  const p = state.project;
  if (!p) return;
  const summary = $('files-summary');
  summary.textContent = 'Loading files…';
  let files;
  try {
    files = await fetchAll(`/projects/${enc(p.id)}/files`, {
      isCurrent: () => gen === state.projectGen,
      onPage: (n) => {
        summary.textContent = `Loading files… ${num(n)}`;
      },
    });
  } catch (err) {
    if (gen !== state.projectGen) return;
    summary.textContent = '';
    showError($('files-error'), err, 'Could not load the files.');
    return;
  }
  if (!files) return;
  showError($('files-error'), null);
  state.files = files;
  renderTree();
}

function buildTree(files) {
  const root = { name: '', dirs: new Map(), files: [], count: 0, size: 0 };
  for (const f of files) {
    const parts = String(f.path).split('/');
    let node = root;
    node.count += 1;
    node.size += Number(f.size) || 0;
    for (const part of parts.slice(0, -1)) {
      if (!node.dirs.has(part)) node.dirs.set(part, { name: part, dirs: new Map(), files: [], count: 0, size: 0 });
      node = node.dirs.get(part);
      node.count += 1;
      node.size += Number(f.size) || 0;
    }
    node.files.push({ name: parts[parts.length - 1], file: f });
  }
  return root;
}

function renderTree() {
  const container = $('file-tree');
  const filter = $('files-filter').value.trim().toLowerCase();
  const all = state.files;
  const files = filter ? all.filter((f) => String(f.path).toLowerCase().includes(filter)) : all;
  const p = state.project;
  const summary = $('files-summary');
  const totalSize = all.reduce((a, f) => a + (Number(f.size) || 0), 0);
  if (!all.length) {
    summary.textContent = p?.currentSyncId ? 'The branch has no files.' : 'No files yet. Start a sync to bring them in.';
  } else {
    const at = p?.currentCommitSha ? ` at commit ${shortSha(p.currentCommitSha)}` : '';
    summary.textContent = `${num(all.length)} ${all.length === 1 ? 'file' : 'files'} · ${formatBytes(totalSize)}${at}`
      + (filter ? ` · ${num(files.length)} match “${filter}”` : '');
  }
  show($('files-filter-field'), all.length > 0);
  show($('tree-tools'), all.length > 0);
  const tree = buildTree(files);
  const openAll = Boolean(filter) || files.length <= 60;
  container.replaceChildren();
  if (files.length) {
    const list = renderDir(tree, 0, openAll);
    list.setAttribute('aria-label', 'Active files');
    container.append(list);
  } else if (filter && all.length) {
    container.append(el('p', { className: 'muted', text: 'No path matches the filter.' }));
  }
}

const KIND_LABELS = { file: 'file', symlink: 'symlink', submodule: 'submodule', 'lfs-pointer': 'LFS pointer' };

function renderDir(node, depth, openAll) {
  const list = el('ul', { className: depth === 0 ? 'tree-list tree-root' : 'tree-list' });
  const dirs = [...node.dirs.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const dir of dirs) {
    // Single-child chains (a/b/c) read better as one row.
    let name = dir.name;
    let d = dir;
    while (d.files.length === 0 && d.dirs.size === 1) {
      d = [...d.dirs.values()][0];
      name += `/${d.name}`;
    }
    const open = openAll || depth === 0;
    const details = el('details', { open: open ? true : null },
      el('summary', {},
        el('span', { className: 'tree-icon tree-icon-dir', 'aria-hidden': 'true' }),
        el('span', { className: 'tree-name', text: `${name}/` }),
        el('span', { className: 'tree-meta muted', text: `${num(d.count)} ${d.count === 1 ? 'file' : 'files'}` }),
      ),
    );
    if (open) {
      details.append(renderDir(d, depth + 1, openAll));
    } else {
      // A closed directory gets its rows when it is first opened: big trees stay light.
      details.addEventListener('toggle', () => {
        if (details.open && !details.dataset.rendered) {
          details.dataset.rendered = 'true';
          details.append(renderDir(d, depth + 1, openAll));
        }
      });
    }
    list.append(el('li', { className: 'tree-dir', dataset: { dir: name } }, details));
  }
  for (const { name, file } of node.files) {
    const meta = el('span', { className: 'tree-meta' },
      file.kind !== 'file' ? el('span', { className: `kind kind-${file.kind}`, text: KIND_LABELS[file.kind] ?? file.kind }) : null,
      el('span', { className: 'mode mono', title: 'git mode', text: file.mode }),
      el('span', { className: 'size', text: file.size === null || file.size === undefined ? '—' : formatBytes(file.size) }),
      el('code', { className: 'sha', title: `blob ${file.sha}`, text: shortSha(file.sha) }),
    );
    list.append(el('li', { className: 'tree-file', dataset: { path: file.path } },
      el('span', { className: `tree-icon tree-icon-${file.kind}`, 'aria-hidden': 'true' }),
      el('span', { className: 'tree-name', title: file.path, text: name }),
      meta,
    ));
  }
  return list;
}

function setAllDetails(open) {
  if (open && state.files.length > 5000) {
    flashFilesNote('That is a lot of files to show at once: open the directories you need, or filter.');
    return;
  }
  // Opening renders a lazy directory's rows (in its toggle handler), which may hold more
  // closed directories: repeat until none is left closed.
  for (let round = 0; round < 64; round += 1) {
    const closed = [...$('file-tree').querySelectorAll('details')].filter((d) => d.open !== open);
    if (!closed.length) break;
    for (const d of closed) {
      d.open = open;
      if (open && !d.dataset.rendered && d.querySelector(':scope > ul') === null) d.dispatchEvent(new Event('toggle'));
    }
    if (!open) break;
  }
}

function flashFilesNote(text) {
  const summary = $('files-summary');
  const before = summary.textContent;
  summary.textContent = text;
  setTimeout(() => {
    if (summary.textContent === text) summary.textContent = before;
  }, 6000);
}

// ---------------------------------------------------------------------------
// Confirm dialog
// ---------------------------------------------------------------------------

function prefersReducedMotion() {
  return window.matchMedia('(prefers-reduced-motion: reduce)').matches;
}

function confirmDialog({ title, text, ok, danger = false }) {
  const dialog = $('confirm-dialog');
  const opener = document.activeElement;
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  const yes = $('confirm-yes');
  yes.textContent = ok;
  yes.className = danger ? 'btn btn-danger' : 'btn btn-primary';
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'ok');
      if (opener && opener.isConnected) opener.focus();
    }, { once: true });
    dialog.showModal();
    $('confirm-no').focus();
  });
}

// ---------------------------------------------------------------------------
// Start-up
// ---------------------------------------------------------------------------

function wire() {
  $('signin-form').addEventListener('submit', onSignIn);
  $('signin-reveal').addEventListener('click', () => {
    const input = $('signin-token');
    const showing = input.type === 'text';
    input.type = showing ? 'password' : 'text';
    $('signin-reveal').textContent = showing ? 'Show' : 'Hide';
    $('signin-reveal').setAttribute('aria-pressed', String(!showing));
  });
  $('sign-out').addEventListener('click', () => signOut('You are signed out.'));
  $('create-form').addEventListener('submit', onCreateProject);
  $('projects-refresh').addEventListener('click', () => loadProjects());
  $('projects-more').addEventListener('click', () => loadProjects({ append: true }));
  $('project-tracked').addEventListener('change', onTrackedChange);
  $('project-delete').addEventListener('click', onDeleteProject);
  $('sync-form').addEventListener('submit', onStartSync);
  $('sync-cancel').addEventListener('click', onCancelSync);
  $('history-body').addEventListener('click', onHistoryClick);
  $('history-more').addEventListener('click', () => loadHistory(state.projectGen, { append: true }));
  $('history-refresh').addEventListener('click', () => loadHistory(state.projectGen));
  $('tree-expand').addEventListener('click', () => setAllDetails(true));
  $('tree-collapse').addEventListener('click', () => setAllDetails(false));
  let filterTimer = null;
  $('files-filter').addEventListener('input', () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(renderTree, 150);
  });
  window.addEventListener('hashchange', () => route());
}

async function boot() {
  wire();
  let token = null;
  try {
    token = localStorage.getItem(TOKEN_KEY);
  } catch {
    token = null;
  }
  if (token) {
    state.token = token;
    await enterApp();
  } else {
    showSignIn();
  }
  document.documentElement.dataset.ready = 'true';
}

boot();
