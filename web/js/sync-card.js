// The sync card: the embeddable elements <project-sync-controls id="sync-controls"> (branch,
// Start, Cancel) and <project-sync-banner id="banner"> (the sync being watched, or the
// latest one), and the notice line, wired to the bus. The elements own the watch, its
// stream and the one status table (web/client/); this view only tells them which project
// and which sync, and turns their events into the bus's.
//
// Listens: project-opening (empties both), project-opened (the project for the controls),
//          project-updated, project-closed, sync-started {sync, eventsUrl, reveal} (the
//          banner follows it), attach-sync {sync}, history-loaded {items, attach} (after a
//          reload: pick the running sync up).
// Emits:   sync-started {sync, eventsUrl} (from the controls), sync-updated {sync} (each
//          stream event; a 409 naming the running sync), watch-changed {running, sync},
//          sync-finished {sync, status}, files-changed (after a complete one), project-stale
//          (the project's branch changed), notice {text}.

import { within, prefersReducedMotion } from './dom.js';
import { isTerminal } from '../client/sync-view.js';

export class SyncCard {
  #$; // finds an element by id inside this view's own element, never outside it
  #bus;
  #banner;
  #controls;
  #project = null;
  #signal = null;

  constructor(root, { bus }) {
    this.#$ = within(root);
    this.#bus = bus;
    this.#banner = this.#$('banner');
    this.#controls = this.#$('sync-controls');
    this.#listenToElements();
    this.#listenToBus();
  }

  #listenToBus() {
    const bus = this.#bus;
    bus.on('project-opening', ({ signal }) => {
      this.#project = null;
      this.#signal = signal;
      // Leaving that project (another one, closing it, signing out) ends the watch.
      signal.addEventListener('abort', () => this.#empty(), { once: true });
      this.#empty();
    });
    bus.on('project-opened', ({ project, signal }) => {
      this.#project = project;
      this.#signal = signal;
      this.#controls.setAttribute('project-id', project.id);
    });
    bus.on('project-updated', ({ project }) => {
      if (this.#project?.id === project.id) this.#project = project;
    });
    bus.on('project-closed', () => {
      this.#project = null;
      this.#empty();
    });
    bus.on('sync-started', ({ sync, eventsUrl, reveal }) => {
      this.#banner.follow(sync, eventsUrl);
      if (reveal) this.#banner.scrollIntoView({ block: 'nearest', behavior: prefersReducedMotion() ? 'auto' : 'smooth' });
    });
    bus.on('attach-sync', ({ sync }) => this.#banner.follow(sync));
    bus.on('history-loaded', ({ items, attach }) => {
      if (!attach || this.#banner.getAttribute('sync-id')) return;
      // After a reload: the newest sync that has not ended is followed again, else the newest.
      const shown = items.find((s) => !isTerminal(s.status)) ?? items[0];
      if (shown) this.#banner.follow(shown);
    });
  }

  /** No project: the banner hides, the controls offer nothing to start. */
  #empty() {
    this.#banner.removeAttribute('sync-id');
    this.#controls.removeAttribute('project-id');
  }

  /** What the elements say, as the bus's events (only for the project open now). */
  #listenToElements() {
    const mine = (sync) => Boolean(sync && this.#project && sync.projectId === this.#project.id && !this.#signal?.aborted);
    this.#controls.addEventListener('project-sync-started', ({ detail: { sync, eventsUrl, attached } }) => {
      if (!mine(sync)) return;
      if (attached) {
        // Another tab (or the schedule) started one: it is shown instead of an error.
        this.#bus.emit('notice', { text: 'A sync of this project was already running, so it is shown instead of starting another.' });
        this.#bus.emit('sync-updated', { sync });
        return;
      }
      this.#bus.emit('notice', { text: null });
      this.#bus.emit('sync-started', { sync, eventsUrl });
      if (sync.branch !== this.#project.branch) this.#bus.emit('project-stale');
    });
    this.#banner.addEventListener('project-sync-event', ({ detail }) => {
      if (mine(detail.sync)) this.#bus.emit('sync-updated', { sync: detail.sync });
    });
    this.#banner.addEventListener('project-sync-state', ({ detail: { running, sync } }) => {
      this.#bus.emit('watch-changed', { running: running && mine(sync), sync });
    });
    this.#banner.addEventListener('project-sync-finished', async ({ detail: { sync, status } }) => {
      if (!mine(sync)) return;
      const signal = this.#signal;
      await this.#bus.emit('sync-finished', { sync, status });
      // Only a complete sync changes the active files; read them once the project (and so the
      // commit the files summary names) has been read again.
      if (!signal?.aborted && status === 'COMPLETE') await this.#bus.emit('files-changed');
    });
  }
}
