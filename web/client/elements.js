// Embeddable components over the client: <project-sync-banner sync-id="…"> follows a sync
// live (phase, an animated indicator, a progress bar, counts, cost) and
// <project-sync-controls project-id="…" for="banner-id"> picks a branch, starts a sync and
// cancels it (the banner named by `for` follows what it starts). They work inside any page:
// shadow DOM, styles from elements.css beside this file (themed by --ps-* custom
// properties), text only through textContent.
//
//   import { createClient } from '/client/project-sync.js';
//   import { defineElements } from '/client/elements.js';
//   defineElements(createClient({ baseUrl, token }));
//
// Events (bubbling, composed): project-sync-event {detail: event} from the banner for each
// stream event, project-sync-started {detail: {sync, eventsUrl}} from the controls.

const PHASES = { QUEUED: 'Queued', FETCHING: 'Fetching', DIFFING: 'Diffing', PROCESSING: 'Processing', PERSISTING: 'Persisting' };
const ENDED = { COMPLETE: 'Complete', FAILED: 'Failed', CANCELLED: 'Cancelled' };
const COUNTS = ['added', 'modified', 'removed', 'renamed', 'unchanged'];
const STATS = [['githubRequests', 'GitHub requests', String], ['d1RowsWritten', 'D1 rows', String], ['durationMs', 'duration', (ms) => `${(ms / 1000).toFixed(1)} s`]];
const CSS_URL = new URL('./elements.css', import.meta.url).href;

function node(tag, props = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'text') n.textContent = v;
    else if (k === 'className') n.className = v;
    else n.setAttribute(k, v);
  }
  n.append(...children);
  return n;
}

function shadow(host) {
  const root = host.attachShadow({ mode: 'open' });
  root.append(node('link', { rel: 'stylesheet', href: CSS_URL }));
  return root;
}

/** Registers both elements with `client` (a createClient() result); idempotent. */
export function defineElements(client) {
  if (!customElements.get('project-sync-banner')) customElements.define('project-sync-banner', bannerClass(client));
  if (!customElements.get('project-sync-controls')) customElements.define('project-sync-controls', controlsClass(client));
}

function bannerClass(client) {
  return class ProjectSyncBanner extends HTMLElement {
    static observedAttributes = ['sync-id'];
    #abort = null;
    #parts = null;

    connectedCallback() {
      if (!this.#parts) this.#build();
      this.#follow();
    }

    disconnectedCallback() {
      this.#abort?.abort();
    }

    attributeChangedCallback() {
      if (this.isConnected && this.#parts) this.#follow();
    }

    #build() {
      const root = shadow(this);
      const p = {
        title: node('p', { className: 'title', part: 'title', 'aria-live': 'polite' }),
        sub: node('p', { className: 'sub', part: 'sub' }),
        fill: node('div', { className: 'fill', part: 'fill' }),
        message: node('p', { className: 'message', part: 'message' }),
        error: node('p', { className: 'error', part: 'error', hidden: '' }),
        figures: node('dl', { className: 'figures', part: 'figures' }),
      };
      p.track = node('div', { className: 'track', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0', 'aria-label': 'Sync progress' }, p.fill);
      root.append(node('div', { className: 'box', part: 'box' },
        node('div', { className: 'top' }, node('span', { className: 'indicator', 'aria-hidden': 'true' }), p.title),
        p.sub, p.track, p.message, p.error, p.figures));
      this.#parts = p;
    }

    async #follow() {
      this.#abort?.abort();
      const id = this.getAttribute('sync-id');
      if (!id) {
        this.hidden = true;
        return;
      }
      this.hidden = false;
      const abort = new AbortController();
      this.#abort = abort;
      try {
        const sync = await client.getSync(id, { signal: abort.signal });
        this.#render(sync, sync);
        if (sync.status in ENDED) return;
        await client.watchSync(id, {
          signal: abort.signal,
          onEvent: (e) => {
            this.#render(sync, e.data);
            this.dispatchEvent(new CustomEvent('project-sync-event', { detail: e, bubbles: true, composed: true }));
          },
        });
        if (!abort.signal.aborted) this.#render(sync, await client.getSync(id, { signal: abort.signal }));
      } catch (err) {
        if (abort.signal.aborted) return;
        this.#parts.error.textContent = err.message;
        this.#parts.error.hidden = false;
      }
    }

    /** `sync`: the stored row (branch, kind); `data`: its newest state. */
    #render(sync, data) {
      const p = this.#parts;
      const status = data.status;
      const progress = Math.max(0, Math.min(100, Math.round(data.progress ?? 0)));
      this.dataset.status = status;
      this.toggleAttribute('data-running', !(status in ENDED));
      const what = sync.dryRun ? 'Dry run' : sync.kind === 'restore' ? 'Restore' : 'Sync';
      p.title.textContent = status in ENDED ? `${what} ${ENDED[status].toLowerCase()}` : `${PHASES[status] ?? status}…`;
      p.sub.textContent = [`${what} of ${sync.branch}`, sync.commitSha ? sync.commitSha.slice(0, 7) : null].filter(Boolean).join(' · ');
      p.fill.style.width = `${progress}%`;
      p.track.setAttribute('aria-valuenow', String(progress));
      p.message.textContent = data.message ?? '';
      const error = status === 'FAILED' ? data.error ?? sync.error : null;
      p.error.textContent = error ?? '';
      p.error.hidden = !error;
      const figures = [
        ...COUNTS.map((k) => [k, Number(data.counts?.[k] ?? 0).toLocaleString()]),
        ...STATS.map(([k, label, show]) => [label, show(Number(data.stats?.[k] ?? 0))]),
      ];
      p.figures.replaceChildren(...figures.map(([k, v]) => node('div', {}, node('dt', { text: k }), node('dd', { text: v }))));
    }
  };
}

function controlsClass(client) {
  return class ProjectSyncControls extends HTMLElement {
    static observedAttributes = ['project-id'];
    #parts = null;
    #running = null;
    /** Stops the stream the element follows (on a new sync, or when it leaves the page). */
    #watching = null;

    connectedCallback() {
      if (!this.#parts) this.#build();
      this.#load();
    }

    disconnectedCallback() {
      this.#watching?.abort();
    }

    attributeChangedCallback() {
      if (this.isConnected && this.#parts) this.#load();
    }

    #build() {
      const root = shadow(this);
      const p = {
        select: node('select', { part: 'select' }),
        start: node('button', { type: 'submit', part: 'start', text: 'Start sync' }),
        cancel: node('button', { type: 'button', className: 'cancel', part: 'cancel', text: 'Cancel', hidden: '' }),
        error: node('p', { className: 'error', part: 'error', role: 'alert', hidden: '' }),
      };
      const form = node('form', {}, node('label', {}, 'Branch', p.select), p.start, p.cancel);
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        this.#start();
      });
      p.cancel.addEventListener('click', () => this.#cancel());
      root.append(form, p.error);
      this.#parts = p;
    }

    #problem(err) {
      this.#parts.error.textContent = err ? err.message : '';
      this.#parts.error.hidden = !err;
    }

    async #load() {
      const id = this.getAttribute('project-id');
      if (!id) return;
      try {
        const [project, branches] = await Promise.all([client.getProject(id), client.listBranches(id, { limit: 500 })]);
        if (this.getAttribute('project-id') !== id) return; // another project was set meanwhile
        const names = branches.items.map((b) => b.name);
        if (!names.includes(project.branch)) names.unshift(project.branch);
        this.#parts.select.replaceChildren(...names.map((n) => node('option', { value: n, text: n })));
        this.#parts.select.value = project.branch;
        this.#problem(null);
      } catch (err) {
        this.#problem(err);
      }
    }

    /** The banner this element drives (`for`), if any. */
    #banner() {
      const id = this.getAttribute('for');
      return id ? this.getRootNode().getElementById?.(id) ?? document.getElementById(id) : null;
    }

    #watch(sync, eventsUrl) {
      this.#running = sync;
      this.#parts.cancel.hidden = false;
      this.#parts.start.disabled = true;
      this.#banner()?.setAttribute('sync-id', sync.id);
      this.dispatchEvent(new CustomEvent('project-sync-started', { detail: { sync, eventsUrl }, bubbles: true, composed: true }));
      this.#watching?.abort();
      const watching = new AbortController();
      this.#watching = watching;
      client.watchSync(sync.id, { eventsUrl, signal: watching.signal }).catch(() => {}).finally(() => {
        if (this.#running?.id !== sync.id) return;
        this.#running = null;
        this.#parts.cancel.hidden = true;
        this.#parts.start.disabled = false;
      });
    }

    async #start() {
      const id = this.getAttribute('project-id');
      if (!id) return;
      this.#problem(null);
      try {
        const { sync, eventsUrl } = await client.startSync(id, { branch: this.#parts.select.value });
        this.#watch(sync, eventsUrl);
      } catch (err) {
        // A sync already runs: follow that one instead.
        if (err.status === 409 && err.sync) this.#watch(err.sync, undefined);
        else this.#problem(err);
      }
    }

    async #cancel() {
      if (!this.#running) return;
      try {
        await client.cancelSync(this.#running.id);
      } catch (err) {
        this.#problem(err);
      }
    }
  };
}
