// <project-sync-controls project-id="…" for="banner-id">: the branch picker (every branch,
// page after page; the project's branch first if GitHub no longer has it), Start sync and
// Cancel sync, and the line that says why either was refused. With `for`, the banner of that
// id follows what it starts (a 409 naming the running sync: that one) and the buttons follow
// the banner; without it, the element follows its own sync's stream.
//
// Events (bubbling, composed):
//   project-sync-started {sync, eventsUrl, attached}  a sync was started (attached: a 409
//                                                     named one already running)

import { num } from './format.js';
import { announce, node, shadow, showProblem } from './shadow.js';

function branchOptions(branches, current) {
  const names = new Set(branches.map((b) => b.name));
  const options = branches.map((b) => node('option', { value: b.name, text: b.protected ? `${b.name} (protected)` : b.name }));
  if (!names.has(current)) options.unshift(node('option', { value: current, text: `${current} (not on GitHub any more)` }));
  return options;
}

function build(root) {
  const $ = {
    select: node('select', { id: 'sync-branch', name: 'branch', part: 'select', 'aria-describedby': 'sync-branch-status' }),
    status: node('p', { className: 'help', id: 'sync-branch-status', part: 'status', 'aria-live': 'polite' }),
    start: node('button', { type: 'submit', className: 'btn btn-primary', id: 'sync-start', part: 'start', text: 'Start sync' }),
    cancel: node('button', { type: 'button', className: 'btn btn-danger cancel', id: 'sync-cancel', part: 'cancel', text: 'Cancel sync', hidden: true }),
    error: node('p', { className: 'form-error error', id: 'sync-error', part: 'error', role: 'alert', hidden: true }),
  };
  $.form = node('form', { className: 'sync-controls', id: 'sync-form', novalidate: true },
    node('div', { className: 'field' }, node('label', { for: 'sync-branch', text: 'Branch' }), $.select, $.status),
    node('div', { className: 'sync-buttons' }, $.start, $.cancel));
  root.append($.form, $.error);
  return $;
}

export function controlsClass(client) {
  return class ProjectSyncControls extends HTMLElement {
    static observedAttributes = ['project-id'];
    #$ = null;
    #project = null;
    #loading = null; // aborts the branch listing of a project left meanwhile
    #running = null; // the sync that runs (what Cancel cancels), or null
    #watching = null; // stops the element's own stream (used without a banner)
    #onState = (e) => this.#bannerState(e);

    connectedCallback() {
      if (!this.#$) {
        this.#$ = build(shadow(this));
        this.#$.form.addEventListener('submit', (e) => {
          e.preventDefault();
          this.#start();
        });
        this.#$.cancel.addEventListener('click', () => this.#cancel());
      }
      this.getRootNode().addEventListener('project-sync-state', this.#onState);
      this.#load();
    }

    disconnectedCallback() {
      this.getRootNode().removeEventListener('project-sync-state', this.#onState);
      this.#loading?.abort();
      this.#watching?.abort();
    }

    attributeChangedCallback(_name, before, after) {
      if (this.isConnected && this.#$ && before !== after) this.#load();
    }

    /** The banner this element drives (`for`), if any. */
    #banner() {
      const id = this.getAttribute('for');
      return id ? this.getRootNode().getElementById?.(id) ?? null : null;
    }

    /** The banner's sync and state: the buttons follow the sync it shows while it runs. */
    #bannerState(e) {
      const banner = this.#banner();
      if (!banner || e.target !== banner) return;
      const { running, sync } = e.detail;
      this.#running = running && sync && (!this.#project || sync.projectId === this.#project.id) ? sync : null;
      this.#buttons();
    }

    #buttons() {
      const $ = this.#$;
      const running = Boolean(this.#running);
      $.start.disabled = running || !this.#project;
      $.start.textContent = running ? 'Sync running…' : 'Start sync';
      $.cancel.hidden = !running;
      if (!running) {
        $.cancel.disabled = false;
        $.cancel.textContent = 'Cancel sync';
      }
    }

    /** The project and its branches (all pages, counted while they come). */
    async #load() {
      this.#loading?.abort();
      const loading = new AbortController();
      this.#loading = loading;
      const { signal } = loading;
      const $ = this.#$;
      const id = this.getAttribute('project-id');
      this.#project = null;
      this.#running = this.#banner()?.running ? this.#banner().sync : null;
      showProblem($.error, null);
      $.select.replaceChildren();
      $.status.textContent = '';
      this.#buttons();
      if (!id) return;
      try {
        const project = await client.getProject(id, { signal });
        if (signal.aborted) return;
        this.#project = project;
        this.#buttons();
        $.select.disabled = true;
        $.select.replaceChildren(node('option', { value: project.branch, text: project.branch }));
        $.status.textContent = 'Loading branches…';
        const branches = [];
        for await (const b of client.paginate('listBranches', id, { limit: 500, signal })) {
          branches.push(b);
          if (branches.length % 100 === 0) $.status.textContent = `Loading branches… ${num(branches.length)}`;
        }
        if (signal.aborted) return;
        $.select.replaceChildren(...branchOptions(branches, project.branch));
        $.select.value = this.#project.branch;
        $.status.textContent = `${num(branches.length)} ${branches.length === 1 ? 'branch' : 'branches'}. Choosing another one makes it the project's branch.`;
      } catch (err) {
        if (signal.aborted) return;
        if (this.#project) $.status.textContent = `Could not list branches (${err.message}). The project's branch is used.`;
        else showProblem($.error, err, 'Could not read the project.');
      } finally {
        if (!signal.aborted) $.select.disabled = false;
      }
    }

    async #start() {
      const p = this.#project;
      const $ = this.#$;
      if (!p || this.#running) return;
      const branch = $.select.value;
      showProblem($.error, null);
      $.start.disabled = true;
      $.start.textContent = 'Starting…';
      try {
        const { sync, eventsUrl } = await client.startSync(p.id, branch ? { branch } : {});
        if (this.#project !== p) return;
        // Choosing another branch made it the project's branch.
        this.#project = { ...p, branch: sync.branch };
        this.#follow(sync, eventsUrl, false);
      } catch (err) {
        if (this.#project !== p) return;
        // Another tab (or the schedule) started one: follow it instead of showing an error.
        if (err.status === 409 && err.sync) this.#follow(err.sync, undefined, true);
        else showProblem($.error, err, 'The sync did not start.');
      } finally {
        this.#buttons();
      }
    }

    #follow(sync, eventsUrl, attached) {
      this.#running = sync;
      announce(this, 'project-sync-started', { sync, eventsUrl, attached });
      const banner = this.#banner();
      if (banner) {
        banner.follow(sync, eventsUrl);
        return;
      }
      this.#watching?.abort();
      const watching = new AbortController();
      this.#watching = watching;
      client.watchSync(sync.id, { eventsUrl, signal: watching.signal }).catch(() => {}).finally(() => {
        if (this.#running?.id !== sync.id) return;
        this.#running = null;
        this.#buttons();
      });
    }

    async #cancel() {
      const sync = this.#running;
      const $ = this.#$;
      if (!sync) return;
      $.cancel.disabled = true;
      $.cancel.textContent = 'Cancelling…';
      showProblem($.error, null);
      try {
        await client.cancelSync(sync.id);
        this.#banner()?.cancelRequested?.(sync.id);
      } catch (err) {
        $.cancel.disabled = false;
        $.cancel.textContent = 'Cancel sync';
        showProblem($.error, err, 'The sync was not cancelled.');
      }
    }
  };
}
