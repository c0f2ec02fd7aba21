// The sync form: the branch picker, Start sync and Cancel sync, and the sync error line.
//
// Listens: project-opening (empties the picker), project-opened (lists the branches),
//          project-updated, project-closed, watch-changed {running, sync} (the buttons
//          follow the banner), watch-error {error, lead} (the banner could not follow a sync).
// Emits:   sync-started {sync, eventsUrl}, sync-updated {sync}, attach-sync {sync} (a 409
//          named the running sync), project-stale (the project's branch changed),
//          cancel-requested {syncId}, notice {text}.

import { within, el, show, showError } from './dom.js';
import { num } from './format.js';


function branchOptions(branches, current) {
  const names = new Set(branches.map((b) => b.name));
  const options = branches.map((b) =>
    el('option', { value: b.name, text: b.protected ? `${b.name} (protected)` : b.name }),
  );
  if (!names.has(current)) {
    options.unshift(el('option', { value: current, text: `${current} (not on GitHub any more)` }));
  }
  return options;
}

export class SyncControlsView {
  #$; // finds an element by id inside this view's own element, never outside it
  #api;
  #bus;
  #select;
  #status;
  #start;
  #cancel;
  #errorBox;
  #project = null;
  #signal = null;
  // The sync the banner follows while it runs (null otherwise): what Cancel cancels.
  #running = null;

  constructor(root, { api, bus }) {
    this.#$ = within(root);
    this.#select = this.#$('sync-branch');
    this.#status = this.#$('sync-branch-status');
    this.#start = this.#$('sync-start');
    this.#cancel = this.#$('sync-cancel');
    this.#errorBox = this.#$('sync-error');
    this.#api = api;
    this.#bus = bus;
    this.#$('sync-form').addEventListener('submit', (event) => this.#onStart(event));
    this.#cancel.addEventListener('click', () => this.#onCancel());
    this.#listen();
  }

  #listen() {
    const bus = this.#bus;
    bus.on('project-opening', ({ signal }) => {
      this.#project = null;
      this.#signal = signal;
      showError(this.#errorBox, null);
      this.#select.replaceChildren();
      this.#updateButtons();
    });
    bus.on('project-opened', ({ project, signal }) => {
      this.#project = project;
      this.#signal = signal;
      this.#updateButtons();
      return this.#loadBranches();
    });
    bus.on('project-updated', ({ project }) => {
      if (this.#project?.id === project.id) this.#project = project;
    });
    bus.on('project-closed', () => {
      this.#project = null;
      this.#updateButtons();
    });
    bus.on('watch-changed', ({ running, sync }) => {
      this.#running = running ? sync : null;
      this.#updateButtons();
    });
    bus.on('watch-error', ({ error, lead }) => showError(this.#errorBox, error, lead));
  }

  #updateButtons() {
    const running = Boolean(this.#running);
    const start = this.#start;
    start.disabled = running || !this.#project;
    start.textContent = running ? 'Sync running…' : 'Start sync';
    show(this.#cancel, running);
    if (!running) {
      this.#cancel.disabled = false;
      this.#cancel.textContent = 'Cancel sync';
    }
  }

  async #loadBranches() {
    const p = this.#project;
    const signal = this.#signal;
    const select = this.#select;
    const status = this.#status;
    select.disabled = true;
    select.replaceChildren(el('option', { value: p.branch, text: p.branch }));
    status.textContent = 'Loading branches…';
    let branches;
    try {
      branches = await this.#api.all('listBranches', p.id, {
        signal,
        onPage: (n) => {
          status.textContent = `Loading branches… ${num(n)}`;
        },
      });
    } catch (err) {
      if (signal.aborted) return;
      select.disabled = false;
      status.textContent = `Could not list branches (${err.message}). The project's branch is used.`;
      return;
    }
    if (!branches) return;
    select.replaceChildren(...branchOptions(branches, p.branch));
    // The project may have been read again meanwhile: its branch is the newest word.
    select.value = this.#project?.branch ?? p.branch;
    select.disabled = false;
    status.textContent = `${num(branches.length)} ${branches.length === 1 ? 'branch' : 'branches'}. Choosing another one makes it the project's branch.`;
  }

  async #onStart(event) {
    event.preventDefault();
    const p = this.#project;
    if (!p || this.#running) return;
    const signal = this.#signal;
    const branch = this.#select.value;
    showError(this.#errorBox, null);
    this.#bus.emit('notice', { text: null });
    this.#start.disabled = true;
    this.#start.textContent = 'Starting…';
    try {
      const answer = await this.#api.startSync(p.id, branch ? { branch } : {});
      if (signal.aborted) return;
      this.#bus.emit('sync-started', { sync: answer.sync, eventsUrl: answer.eventsUrl });
      if (answer.sync.branch !== p.branch) this.#bus.emit('project-stale');
    } catch (err) {
      if (!signal.aborted) await this.#startRefused(err);
    } finally {
      this.#updateButtons();
    }
  }

  async #startRefused(err) {
    if (err.status === 409 && err.body?.sync) {
      // Another tab (or the schedule) started one: follow it instead of showing an error.
      this.#bus.emit('notice', { text: 'A sync of this project was already running, so it is shown instead of starting another.' });
      this.#bus.emit('sync-updated', { sync: err.body.sync });
      await this.#bus.emit('attach-sync', { sync: err.body.sync });
    } else {
      showError(this.#errorBox, err, 'The sync did not start.');
    }
  }

  async #onCancel() {
    const sync = this.#running;
    if (!sync) return;
    const cancel = this.#cancel;
    cancel.disabled = true;
    cancel.textContent = 'Cancelling…';
    showError(this.#errorBox, null);
    try {
      await this.#api.cancelSync(sync.id);
      this.#bus.emit('cancel-requested', { syncId: sync.id });
    } catch (err) {
      cancel.disabled = false;
      cancel.textContent = 'Cancel sync';
      showError(this.#errorBox, err, 'The sync was not cancelled.');
    }
  }
}
