// The project's head card: name, repository, branch, commit, the Tracked switch and Delete.
// Also owns which of #project-view and #no-project shows, and the page title.
//
// Listens: project-opening (drops the project; the old head stays until the new one is
//          read), project-opened, project-closed, project-stale and sync-finished (reads
//          the project again).
// Emits:   project-updated {project}, project-deleted {project}.

import { within, show, showError } from './dom.js';
import { shortSha } from './format.js';



/** Which credential the project's GitHub requests use. */
function accessOf(p) {
  if (p.installationId) return `GitHub App installation ${p.installationId}`;
  return p.hasGithubToken ? 'its own token' : 'the service’s token';
}

export class ProjectHeadView {
  #$; // finds an element by id inside this view's own element, never outside it
  #api;
  #bus;
  #confirm;
  #tracked;
  #errorBox;
  #project = null;
  #signal = null;

  /** `confirm` is the dialog's ask(). */
  constructor(root, { api, bus, confirm }) {
    this.#$ = within(root);
    this.#tracked = this.#$('project-tracked');
    this.#errorBox = this.#$('project-error');
    this.#api = api;
    this.#bus = bus;
    this.#confirm = confirm;
    this.#tracked.addEventListener('change', () => this.#onTrackedChange());
    this.#$('project-delete').addEventListener('click', () => this.#onDelete());
    this.#listen();
  }

  #listen() {
    const bus = this.#bus;
    bus.on('project-opening', ({ signal }) => {
      this.#project = null;
      this.#signal = signal;
      showError(this.#errorBox, null);
    });
    bus.on('project-opened', ({ project, signal }) => {
      this.#project = project;
      this.#signal = signal;
      show(this.#$('no-project'), false);
      show(this.#$('project-view'), true);
      this.#render();
    });
    bus.on('project-closed', () => {
      this.#project = null;
      show(this.#$('project-view'), false);
      show(this.#$('no-project'), true);
    });
    bus.on('project-stale', () => this.#refresh());
    // A finished sync moved the project's commit and active sync.
    bus.on('sync-finished', () => this.#refresh());
  }

  #render() {
    const p = this.#project;
    if (!p) return;
    this.#$('project-name').textContent = p.name;
    this.#$('project-repo').textContent = p.repository;
    this.#$('project-branch').textContent = p.branch;
    const commit = this.#$('project-commit');
    commit.textContent = p.currentCommitSha ? shortSha(p.currentCommitSha) : 'not synced yet';
    commit.title = p.currentCommitSha ?? '';
    commit.classList.toggle('muted', !p.currentCommitSha);
    this.#$('project-access').textContent = accessOf(p);
    this.#tracked.checked = Boolean(p.tracked);
    document.title = `${p.name} · Project Sync`;
  }

  #update(fresh) {
    this.#project = fresh;
    this.#render();
    this.#bus.emit('project-updated', { project: fresh });
  }

  /** Reads the project again (its commit, branch and active sync move with syncs). */
  async #refresh() {
    const p = this.#project;
    if (!p) return;
    const signal = this.#signal;
    try {
      const fresh = await this.#api.getProject(p.id, { signal });
      if (!signal.aborted) this.#update(fresh);
    } catch {
      /* the next action shows the problem */
    }
  }

  async #onTrackedChange() {
    const p = this.#project;
    const box = this.#tracked;
    const wanted = box.checked;
    if (!p) {
      box.checked = !wanted; // no project is open yet: nothing to change
      return;
    }
    const signal = this.#signal;
    box.disabled = true;
    try {
      const fresh = await this.#api.updateProject(p.id, { tracked: wanted });
      if (signal.aborted) return;
      showError(this.#errorBox, null);
      this.#update(fresh);
    } catch (err) {
      if (signal.aborted) return;
      box.checked = !wanted;
      showError(this.#errorBox, err, 'Could not change tracking.');
    } finally {
      box.disabled = false;
    }
  }

  async #onDelete() {
    const p = this.#project;
    if (!p) return;
    const ok = await this.#confirm({
      title: 'Delete this project?',
      text: `“${p.name}” (${p.repository}) and its synced files, history and memory will be deleted. A running sync is cancelled. This cannot be undone.`,
      ok: 'Delete project',
      danger: true,
    });
    if (!ok) return;
    try {
      await this.#api.deleteProject(p.id);
    } catch (err) {
      showError(this.#errorBox, err, 'The project was not deleted.');
      return;
    }
    this.#project = null;
    this.#bus.emit('project-deleted', { project: p });
  }
}
