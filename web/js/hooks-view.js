// The notifications card: the project's hooks (URL, events, whether deliveries are
// signed), a form to add one (the API's 400 shows under the field it names), Delete, and
// each hook's delivery log (status, attempts, the last answer), read again after a sync ends.
//
// Listens: project-opening (empties), project-opened (lists), sync-finished {sync} (follows
//          the open delivery log until that sync's delivery is settled).
// Emits:   notice {text}.

import { within, el, show, showError, timeEl } from './dom.js';

const EVENTS = ['sync.completed', 'sync.failed', 'sync.cancelled'];
const FIELDS = ['url', 'secret', 'events'];
/** Deliveries go out after the sync ends: the open log is read again this often, until
 * the sync's delivery is settled or the tries run out. */
const FOLLOW_MS = 1500;
const FOLLOW_TRIES = 20;

function statusBadge(status) {
  const kind = { delivered: 'complete', failed: 'failed', pending: 'queued' }[status] ?? 'queued';
  return el('span', { className: `badge badge-${kind}`, text: status });
}

function deliveryRow(d) {
  const answer = d.lastStatusCode !== null ? `HTTP ${d.lastStatusCode}` : d.lastError ? 'no answer' : '—';
  return el('tr', { dataset: { deliveryId: d.id, status: d.status } },
    el('td', { 'data-label': 'Created' }, timeEl(d.createdAt)),
    el('td', { 'data-label': 'Event' }, el('code', { text: d.event })),
    el('td', { 'data-label': 'Status' }, statusBadge(d.status)),
    el('td', { 'data-label': 'Attempts', text: String(d.attempts) }),
    el('td', { 'data-label': 'Last answer' }, answer, d.lastError ? el('div', { className: 'row-error', text: d.lastError }) : null),
  );
}

export class HooksView {
  #$; // finds an element by id inside this view's own element, never outside it
  #api;
  #bus;
  #form;
  #list;
  #errorBox;
  #project = null;
  #signal = null;
  #hooks = [];
  /** The hook whose delivery log is open. */
  #open = null;

  constructor(root, { api, bus }) {
    this.#$ = within(root);
    this.#form = this.#$('hook-form');
    this.#list = this.#$('hook-list');
    this.#errorBox = this.#$('hooks-error');
    this.#api = api;
    this.#bus = bus;
    this.#form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#add();
    });
    this.#list.addEventListener('click', (event) => this.#onClick(event));
    this.#listen();
  }

  #listen() {
    const bus = this.#bus;
    bus.on('project-opening', ({ signal }) => {
      this.#project = null;
      this.#signal = signal;
      this.#hooks = [];
      this.#open = null;
      this.#render();
    });
    bus.on('project-opened', ({ project, signal }) => {
      this.#project = project;
      this.#signal = signal;
      return this.#load();
    });
    bus.on('sync-finished', ({ sync }) => {
      if (this.#open) this.#follow(sync?.id, this.#signal, FOLLOW_TRIES);
    });
  }

  async #load() {
    const p = this.#project;
    if (!p) return;
    const signal = this.#signal;
    try {
      const page = await this.#api.listHooks(p.id, { limit: 50, signal });
      if (signal.aborted) return;
      this.#hooks = page.items;
      showError(this.#errorBox, null);
    } catch (err) {
      if (!signal.aborted) showError(this.#errorBox, err, 'Could not list the hooks.');
    }
    this.#render();
  }

  #render() {
    const items = this.#hooks.map((h) => el('li', { className: 'hook', dataset: { hookId: h.id } },
      el('div', { className: 'hook-head' },
        el('code', { className: 'hook-url', text: h.url }),
        el('span', { className: 'muted small', text: ` ${h.events.join(', ')}${h.hasSecret ? ' · signed' : ''}` })),
      el('div', { className: 'hook-actions' },
        el('button', { type: 'button', className: 'btn btn-quiet btn-small', dataset: { log: h.id }, 'aria-expanded': String(this.#open === h.id), text: 'Deliveries' }),
        el('button', { type: 'button', className: 'btn btn-danger-quiet btn-small', dataset: { remove: h.id }, 'aria-label': `Delete the hook to ${h.url}`, text: 'Delete' })),
      el('div', { className: 'hook-log', id: `hook-log-${h.id}`, hidden: this.#open !== h.id }),
    ));
    this.#list.replaceChildren(...items);
    show(this.#$('hooks-empty'), this.#project !== null && this.#hooks.length === 0);
    if (this.#open) this.#showLog(this.#open);
  }

  #clearErrors() {
    showError(this.#errorBox, null);
    for (const f of FIELDS) {
      const box = this.#$(`hook-${f}-error`);
      box.textContent = '';
      show(box, false);
    }
  }

  async #add() {
    const p = this.#project;
    if (!p) return;
    const signal = this.#signal;
    this.#clearErrors();
    const body = { url: this.#$('hook-url').value.trim() };
    const secret = this.#$('hook-secret').value;
    if (secret) body.secret = secret;
    body.events = EVENTS.filter((e) => this.#$(`hook-event-${e.replace('sync.', '')}`).checked);
    try {
      await this.#api.createHook(p.id, body);
      if (signal.aborted) return;
      this.#form.reset();
      this.#bus.emit('notice', { text: 'Hook added. The next sync that ends is delivered to it.' });
      await this.#load();
    } catch (err) {
      if (signal.aborted) return;
      if (err.status === 400 && FIELDS.includes(err.field)) {
        const box = this.#$(`hook-${err.field}-error`);
        box.textContent = err.message;
        show(box, true);
      } else {
        showError(this.#errorBox, err, 'The hook was not added.');
      }
    }
  }

  async #onClick(event) {
    const remove = event.target.closest('button[data-remove]');
    const log = event.target.closest('button[data-log]');
    const p = this.#project;
    if (!p) return;
    if (remove) {
      try {
        await this.#api.deleteHook(p.id, remove.dataset.remove);
        if (this.#open === remove.dataset.remove) this.#open = null;
        await this.#load();
      } catch (err) {
        showError(this.#errorBox, err, 'The hook was not deleted.');
      }
    } else if (log) {
      this.#open = this.#open === log.dataset.log ? null : log.dataset.log;
      this.#render();
    }
  }

  /** Reads the open log again until `syncId`'s delivery is no longer pending. */
  #follow(syncId, signal, tries) {
    setTimeout(async () => {
      if (signal?.aborted || !this.#open) return;
      const items = await this.#showLog(this.#open);
      const mine = items?.find((d) => d.syncId === syncId);
      if (tries > 1 && (!mine || mine.status === 'pending')) this.#follow(syncId, signal, tries - 1);
    }, FOLLOW_MS);
  }

  /** Shows a hook's newest deliveries; returns them (undefined when they could not be read). */
  async #showLog(hookId) {
    const p = this.#project;
    const box = this.#$(`hook-log-${hookId}`);
    if (!p || !box) return;
    const signal = this.#signal;
    let page;
    try {
      page = await this.#api.listDeliveries(p.id, hookId, { limit: 20, signal });
    } catch (err) {
      if (!signal.aborted) showError(this.#errorBox, err, 'Could not read the deliveries.');
      return;
    }
    if (signal.aborted) return;
    if (page.items.length === 0) {
      box.replaceChildren(el('p', { className: 'muted small', text: 'No deliveries yet: one goes out when a sync of this project ends.' }));
      return page.items;
    }
    box.replaceChildren(el('div', { className: 'table-wrap' },
      el('table', { className: 'history deliveries' },
        el('caption', { className: 'visually-hidden', text: 'Deliveries of this hook, newest first' }),
        el('thead', {}, el('tr', {}, ...['Created', 'Event', 'Status', 'Attempts', 'Last answer'].map((t) => el('th', { scope: 'col', text: t })))),
        el('tbody', {}, page.items.map(deliveryRow)))));
    return page.items;
  }
}
