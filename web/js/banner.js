// The sync banner: the sync being watched (or the latest one), followed live over its
// EventSource stream. Owns the watch: the stream, its reconnection, the ticking duration.
//
// Listens: project-opening (stops, hides), project-opened, sync-started {sync, eventsUrl,
//          reveal} (watch it), attach-sync {sync} (follow a running sync with a fresh stream
//          URL), history-loaded {items, attach} (after a reload: pick the running sync up),
//          cancel-requested {syncId}. The project's AbortSignal stops the watch.
// Emits:   watch-changed {running, sync}, sync-updated {sync} (each stream event),
//          watch-error {error, lead}, sync-finished {sync, status}, files-changed.

import { within, show, prefersReducedMotion } from './dom.js';
import { COUNT_KEYS, num } from './format.js';
import {
  PHASE_STATE_TEXT, bannerError, bannerSub, bannerTitle, clampProgress, durationText,
  isTerminal, mergeEventData, phaseIndex, phaseState, statTexts, syncToData,
} from './sync-view.js';
import { openStream } from './sync-stream.js';


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
    maxPhase: phaseIndex(sync.status),
    note: null,
  };
}

export class BannerView {
  #$; // finds an element by id inside this view's own element, never outside it
  #api;
  #bus;
  #root;
  #project = null;
  #signal = null;
  #watch = null; // the sync shown: { syncId, sync, data, done, source, timer, ... }
  #tick = null;
  // What the stream (sync-stream.js) needs from the banner.
  #hooks = {
    isCurrent: (w) => this.#watch === w && !w.done,
    applyEvent: (w, type, data) => this.#applyEvent(w, type, data),
    setNote: (w, text) => this.#setNote(w, text),
    freshUrl: (w) => this.#eventsUrl(w.syncId, this.#signal),
    lost: (w, text) => {
      this.#setNote(w, text);
      w.done = true;
      this.#announce();
    },
  };

  constructor(root, { api, bus }) {
    this.#$ = within(root);
    this.#root = this.#$('banner');
    this.#api = api;
    this.#bus = bus;
    this.#listen();
  }

  #listen() {
    const bus = this.#bus;
    bus.on('project-opening', ({ signal }) => this.#leave(signal));
    bus.on('project-opened', ({ project }) => {
      this.#project = project;
    });
    bus.on('sync-started', ({ sync, eventsUrl, reveal }) => {
      this.#watchSync(sync, eventsUrl);
      if (reveal) this.#root.scrollIntoView({ block: 'nearest', behavior: prefersReducedMotion() ? 'auto' : 'smooth' });
    });
    bus.on('attach-sync', ({ sync }) => this.#attach(sync));
    bus.on('history-loaded', ({ items, attach }) => (attach && !this.#watch ? this.#pickUp(items) : undefined));
    bus.on('cancel-requested', ({ syncId }) => {
      const w = this.#watch;
      if (w && w.syncId === syncId) this.#setNote(w, 'Cancel requested; waiting for the sync to stop…');
    });
  }

  /** A project is being opened: the banner is empty until it shows one of its syncs. */
  #leave(signal) {
    this.#project = null;
    this.#signal = signal;
    // Leaving that project (another one, closing it, signing out) ends the watch.
    signal.addEventListener('abort', () => this.#stop(), { once: true });
    this.#stop();
    show(this.#root, false);
  }

  /** After a reload: the newest sync that has not ended is followed again. */
  #pickUp(items) {
    const running = items.find((s) => !isTerminal(s.status));
    if (running) return this.#attach(running);
    if (items.length) this.#showFinished(items[0]);
    return undefined;
  }

  #isRunning() {
    const w = this.#watch;
    return Boolean(w && !w.done && this.#project && w.sync.projectId === this.#project.id);
  }

  #announce() {
    this.#bus.emit('watch-changed', { running: this.#isRunning(), sync: this.#watch?.sync ?? null });
  }

  async #eventsUrl(syncId, signal) {
    return (await this.#api.getEventsUrl(syncId, { signal })).eventsUrl;
  }

  #stop() {
    const w = this.#watch;
    if (w) {
      w.done = true;
      w.source?.close();
      clearTimeout(w.timer);
    }
    this.#watch = null;
    clearInterval(this.#tick);
    this.#tick = null;
    this.#announce();
  }

  /** Shows a sync without a stream (a finished one). */
  #showFinished(sync) {
    this.#stop();
    const w = newWatch(sync);
    w.done = true;
    this.#watch = w;
    this.#render(w);
    this.#announce();
  }

  #watchSync(sync, eventsUrl) {
    this.#stop();
    const w = newWatch(sync);
    this.#watch = w;
    this.#render(w);
    if (isTerminal(sync.status)) {
      w.done = true;
      this.#announce();
      return;
    }
    this.#announce();
    this.#tick = setInterval(() => {
      if (this.#watch === w && !w.done) this.#renderDuration(w);
    }, 1000);
    openStream(w, eventsUrl, this.#hooks);
  }

  /** Asks for a fresh stream URL for `sync` and watches it. */
  async #attach(sync) {
    if (isTerminal(sync.status)) {
      this.#showFinished(sync);
      return;
    }
    const signal = this.#signal;
    let url;
    try {
      url = await this.#eventsUrl(sync.id, signal);
    } catch (err) {
      if (signal?.aborted) return;
      this.#bus.emit('watch-error', { error: err, lead: 'Could not follow the running sync.' });
      this.#showFinished(sync);
      return;
    }
    if (signal?.aborted) return;
    this.#watchSync(sync, url);
  }

  #setNote(w, text) {
    if (this.#watch !== w) return;
    w.note = text;
    w.cancelNote = Boolean(text && text.startsWith('Cancel'));
    const node = this.#$('banner-connection');
    node.textContent = text ?? '';
    show(node, Boolean(text));
  }

  #applyEvent(w, type, data) {
    if (data.syncId && data.syncId !== w.syncId) return;
    w.data = mergeEventData(w.data, data);
    const { status, progress, message, counts, stats } = w.data;
    w.sync = { ...w.sync, status, progress, message, counts, stats };
    w.maxPhase = Math.max(w.maxPhase, phaseIndex(status));
    this.#render(w);
    this.#bus.emit('sync-updated', { sync: w.sync });
    if (type !== 'progress' || isTerminal(status)) this.#finish(w);
  }

  async #finish(w) {
    w.done = true;
    w.source?.close();
    clearTimeout(w.timer);
    clearInterval(this.#tick);
    this.#tick = null;
    this.#setNote(w, null);
    this.#announce();
    const signal = this.#signal;
    await this.#readStored(w, signal);
    if (signal?.aborted) return;
    await this.#bus.emit('sync-finished', { sync: w.sync, status: w.data.status });
    // Only a complete sync changes the active files; read them once the project (and so the
    // commit the files summary names) has been read again.
    if (!signal?.aborted && w.data.status === 'COMPLETE') await this.#bus.emit('files-changed');
  }

  /** The stored row is authoritative for the final counts, stats and error. */
  async #readStored(w, signal) {
    try {
      const sync = await this.#api.getSync(w.syncId, { signal });
      if (this.#watch !== w) return;
      w.sync = sync;
      const status = isTerminal(sync.status) ? sync.status : w.data.status;
      w.data = { ...w.data, counts: sync.counts ?? w.data.counts, stats: sync.stats ?? w.data.stats, status };
      this.#render(w);
    } catch {
      /* keep what the stream said */
    }
  }

  #render(w) {
    const { data, sync } = w;
    const root = this.#root;
    show(root, true);
    root.dataset.status = data.status;
    root.dataset.syncId = w.syncId;
    root.classList.toggle('is-running', !isTerminal(data.status));
    // The live region changes only when the status does, so screen readers hear each phase once.
    const title = bannerTitle(data.status, sync.kind, sync.dryRun);
    const statusNode = this.#$('banner-status');
    if (statusNode.textContent !== title) statusNode.textContent = title;
    this.#$('banner-sub').textContent = bannerSub(sync);
    this.#renderPhases(w);
    this.#renderProgress(data.progress);
    this.#$('banner-message').textContent = data.message || '';
    const error = bannerError(data.status, sync, data);
    this.#$('banner-error').textContent = error;
    show(this.#$('banner-error'), Boolean(error));
    for (const key of COUNT_KEYS) {
      root.querySelector(`[data-count="${key}"]`).textContent = num(data.counts?.[key] ?? 0);
    }
    for (const [key, text] of Object.entries(statTexts(data.stats ?? {}))) {
      root.querySelector(`[data-stat="${key}"]`).textContent = text;
    }
    this.#renderDuration(w);
  }

  #renderPhases(w) {
    for (const li of this.#root.querySelectorAll('.phases li')) {
      const state = phaseState(li.dataset.phase, w.data.status, w.maxPhase);
      li.dataset.state = state;
      if (state === 'current') li.setAttribute('aria-current', 'step');
      else li.removeAttribute('aria-current');
      li.querySelector('.phase-state').textContent = PHASE_STATE_TEXT[state];
    }
  }

  #renderProgress(value) {
    const progress = clampProgress(value);
    const bar = this.#$('banner-progress');
    bar.setAttribute('aria-valuenow', String(progress));
    bar.setAttribute('aria-valuetext', `${progress}%`);
    this.#$('banner-progress-fill').style.width = `${progress}%`;
    this.#$('banner-progress-value').textContent = `${progress}%`;
  }

  #renderDuration(w) {
    this.#root.querySelector('[data-stat="durationMs"]').textContent = durationText(w.data, w.sync, Date.now());
  }
}
