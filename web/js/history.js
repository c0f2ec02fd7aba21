// The history card: the project's syncs, newest first, paged with "Show older syncs", and
// Restore… on every complete one (after a confirm).
//
// Listens: project-opening (empties), project-opened (loads; the banner may pick a running
//          sync up), project-updated, project-closed, sync-started / sync-updated {sync}
//          (the row follows), watch-changed {running, sync} (the watched sync's row is fresher
//          than a page read meanwhile), sync-finished (reads the first page again).
// Emits:   history-loaded {items, attach}, changes-requested {sync} (its Changes button),
//          sync-started {sync, eventsUrl, reveal},
//          attach-sync {sync}, notice {text}.

import { within, el, show, showError, timeEl } from './dom.js';
import { changeMarks, filterSummary, formatDuration, formatTime, shortSha } from './format.js';
import { isTerminal } from '../client/sync-view.js';

const HISTORY_PAGE = 20;

function statusBadge(status) {
  return el('span', { className: `badge badge-${String(status).toLowerCase()}`, text: status });
}

function changesCell(counts) {
  return changeMarks(counts).map(({ key, text, label }) =>
    el('span', { className: `chg chg-${key}`, title: label },
      el('span', { 'aria-hidden': 'true', text }),
      el('span', { className: 'visually-hidden', text: label }),
    ));
}

function actionsCell(s) {
  const cell = el('td', { className: 'actions', 'data-label': 'Actions' });
  if (s.status === 'COMPLETE') {
    cell.append(el('button', {
      type: 'button',
      className: 'btn btn-quiet btn-small',
      dataset: { changes: s.id },
      'aria-label': `The changes of the sync started ${formatTime(s.startedAt)}`,
      text: 'Changes',
    }));
  }
  // A dry run made no state: there is nothing of it to restore.
  if (s.status === 'COMPLETE' && !s.dryRun) {
    cell.append(el('button', {
      type: 'button',
      className: 'btn btn-quiet btn-small',
      dataset: { restore: s.id },
      'aria-label': `Restore the files of the sync started ${formatTime(s.startedAt)}${s.commitSha ? ` (commit ${shortSha(s.commitSha)})` : ''}`,
      text: 'Restore…',
    }));
  }
  return cell;
}

export class HistoryView {
  #$; // finds an element by id inside this view's own element, never outside it
  #api;
  #bus;
  #confirm;
  #body;
  #errorBox;
  #project = null;
  #signal = null;
  #items = [];
  #cursor = null;
  #live = null; // the sync the banner follows while it runs

  /** `confirm` is the dialog's ask(). */
  constructor(root, { api, bus, confirm }) {
    this.#$ = within(root);
    this.#body = this.#$('history-body');
    this.#errorBox = this.#$('history-error');
    this.#api = api;
    this.#bus = bus;
    this.#confirm = confirm;
    this.#body.addEventListener('click', (event) => this.#onClick(event));
    this.#$('history-more').addEventListener('click', () => this.#load({ append: true }));
    this.#$('history-refresh').addEventListener('click', () => this.#load());
    this.#listen();
  }

  #listen() {
    const bus = this.#bus;
    bus.on('project-opening', ({ signal }) => this.#reset(signal));
    bus.on('project-opened', ({ project, signal }) => {
      this.#project = project;
      this.#signal = signal;
      return this.#load({ attach: true });
    });
    bus.on('project-updated', ({ project }) => {
      if (this.#project?.id === project.id) this.#project = project;
    });
    bus.on('project-closed', () => {
      this.#project = null;
    });
    bus.on('sync-started', ({ sync }) => this.#upsert(sync));
    bus.on('sync-updated', ({ sync }) => {
      if (this.#live?.id === sync.id) this.#live = sync;
      this.#upsert(sync);
    });
    bus.on('watch-changed', ({ running, sync }) => {
      this.#live = running ? sync : null;
    });
    bus.on('sync-finished', () => this.#load());
  }

  #statusCell(s) {
    const cell = el('td', { 'data-label': 'Status' }, statusBadge(s.status));
    if (!isTerminal(s.status)) cell.append(' ', el('span', { className: 'muted small', text: `${Math.round(s.progress ?? 0)}%` }));
    if (this.#project?.currentSyncId === s.id) cell.append(' ', el('span', { className: 'tag-current', text: 'active' }));
    if (s.status === 'FAILED' && s.error) cell.append(el('div', { className: 'row-error', text: s.error }));
    return cell;
  }

  #kindCell(s) {
    const cell = el('td', { 'data-label': 'Kind' }, s.kind, el('span', { className: 'muted small', text: ` · ${s.trigger}` }));
    if (s.dryRun) cell.append(' ', el('span', { className: 'tag-dry-run', title: 'A dry run: it changed nothing', text: 'dry run' }));
    const filter = filterSummary(s);
    if (filter) cell.append(el('div', { className: 'muted small filter-of', title: 'The filter that made this state', text: filter }));
    if (s.kind === 'restore' && s.restoredFromSyncId) {
      const from = this.#items.find((h) => h.id === s.restoredFromSyncId);
      cell.append(el('div', {
        className: 'muted small',
        text: from?.commitSha ? `of ${shortSha(from.commitSha)}` : `of ${shortSha(s.restoredFromSyncId)}…`,
      }));
    }
    return cell;
  }

  #row(s) {
    const running = !isTerminal(s.status);
    return el('tr', { dataset: { syncId: s.id, status: s.status } },
      el('td', { 'data-label': 'Started' }, timeEl(s.startedAt)),
      this.#statusCell(s),
      el('td', { 'data-label': 'Commit' },
        s.commitSha ? el('code', { className: 'sha', title: s.commitSha, text: shortSha(s.commitSha) }) : el('span', { className: 'muted', text: '—' })),
      this.#kindCell(s),
      el('td', { 'data-label': 'Changes', className: 'changes' },
        s.status === 'COMPLETE' ? changesCell(s.counts)
          : el('span', { className: 'muted', title: running ? 'still running' : 'nothing was changed', text: running ? '…' : 'none' })),
      el('td', { 'data-label': 'Duration' }, running ? '…' : formatDuration(s.stats?.durationMs ?? 0)),
      actionsCell(s),
    );
  }

  #render() {
    const items = this.#items;
    this.#body.replaceChildren(...items.map((s) => this.#row(s)));
    show(this.#$('history-table'), items.length > 0);
    show(this.#$('history-empty'), items.length === 0);
    show(this.#$('history-more'), Boolean(this.#cursor));
  }

  #reset(signal) {
    this.#project = null;
    this.#signal = signal;
    this.#items = [];
    this.#cursor = null;
    showError(this.#errorBox, null);
    this.#body.replaceChildren();
    show(this.#$('history-table'), false);
    show(this.#$('history-empty'), false);
    show(this.#$('history-more'), false);
  }

  /** Puts a sync's newest state into its row (a new sync goes on top). */
  #upsert(sync) {
    if (!this.#project || sync.projectId !== this.#project.id) return;
    const items = this.#items;
    const i = items.findIndex((s) => s.id === sync.id);
    if (i < 0) {
      items.unshift(sync);
      this.#render();
      return;
    }
    items[i] = { ...items[i], ...sync };
    const old = this.#body.querySelector(`tr[data-sync-id="${CSS.escape(sync.id)}"]`);
    if (old) old.replaceWith(this.#row(items[i]));
    else this.#render();
  }

  /** Reads the first page again (or the next one: `append`); `attach` after opening the project. */
  async #load({ append = false, attach = false } = {}) {
    const p = this.#project;
    if (!p) return;
    const signal = this.#signal;
    const cursor = append && this.#cursor ? this.#cursor : undefined;
    let page;
    try {
      page = await this.#api.listSyncs(p.id, { limit: HISTORY_PAGE, cursor, signal });
    } catch (err) {
      if (!signal.aborted) showError(this.#errorBox, err, 'Could not load the history.');
      return;
    }
    if (signal.aborted) return;
    showError(this.#errorBox, null);
    this.#items = append ? [...this.#items, ...page.items] : page.items;
    this.#cursor = page.nextCursor ?? null;
    // A sync being watched is fresher than the row we just read.
    const live = this.#live;
    const i = live ? this.#items.findIndex((s) => s.id === live.id) : -1;
    if (i >= 0) this.#items[i] = { ...this.#items[i], ...live };
    this.#render();
    await this.#bus.emit('history-loaded', { items: [...this.#items], attach });
  }

  async #onClick(event) {
    const changes = event.target.closest('button[data-changes]');
    if (changes) {
      const sync = this.#items.find((s) => s.id === changes.dataset.changes);
      if (sync) this.#bus.emit('changes-requested', { sync });
      return;
    }
    const button = event.target.closest('button[data-restore]');
    if (!button) return;
    const target = this.#items.find((s) => s.id === button.dataset.restore);
    if (!target || !this.#project) return;
    const ok = await this.#confirm({
      title: 'Restore these files?',
      text: `The active files become exactly those right after the sync started ${formatTime(target.startedAt)}`
        + `${target.commitSha ? ` (commit ${shortSha(target.commitSha)})` : ''}. `
        + 'This runs as a new restore sync; nothing is fetched from GitHub and the history keeps every version.',
      ok: 'Restore',
    });
    if (ok && this.#project) await this.#restore(target);
  }

  async #restore(target) {
    const signal = this.#signal;
    showError(this.#errorBox, null);
    try {
      const answer = await this.#api.restore(this.#project.id, { syncId: target.id });
      if (signal.aborted) return;
      this.#bus.emit('sync-started', { sync: answer.sync, eventsUrl: answer.eventsUrl, reveal: true });
    } catch (err) {
      if (signal.aborted) return;
      if (err.status === 409 && err.body?.sync) {
        this.#bus.emit('notice', { text: 'A sync of this project is already running; wait for it to finish before restoring.' });
        await this.#bus.emit('attach-sync', { sync: err.body.sync });
      } else {
        showError(this.#errorBox, err, 'The restore did not start.');
      }
    }
  }
}
