// <project-sync-banner sync-id="…">: one sync followed live over its event stream (the
// client's watchSync: Last-Event-ID, fresh stream tokens): its phase, an animated indicator,
// the phases done, a progress bar, counts, cost and a ticking duration, a line while the
// connection is being restored. Once it ends, the stored row is read again (its counts and
// stats are the final word). Statuses and texts come from sync-view.js, the one table.
//
// Host attributes it sets: data-status, data-sync-id, data-running; hidden without a sync.
// Events (bubbling, composed):
//   project-sync-event    {id, event, data, sync}  each stream event (sync: the newest row)
//   project-sync-state    {running, sync}          the sync shown, and whether it still runs
//   project-sync-finished {sync, status}           a sync followed here has ended (stored row)
// Methods: follow(sync, eventsUrl) shows `sync` at once (no extra read) and follows it;
// cancelRequested(syncId) says so until the sync stops.

import { COUNT_KEYS, num } from './format.js';
import { announce, node, shadow } from './shadow.js';
import {
  PHASES, PHASE_STATE_TEXT, bannerError, bannerSub, bannerTitle, clampProgress, durationText,
  isTerminal, mergeEventData, phaseIndex, phaseState, statTexts, syncToData,
} from './sync-view.js';

const RECONNECTING = 'Connection lost. Reconnecting…';
const CANCELLING = 'Cancel requested; waiting for the sync to stop…';
const PHASE_NAMES = { FETCHING: 'Fetching', DIFFING: 'Diffing', PROCESSING: 'Processing', PERSISTING: 'Persisting' };
const COUNT_LABELS = { added: 'Added', modified: 'Modified', removed: 'Removed', renamed: 'Renamed', unchanged: 'Unchanged' };
const STAT_LABELS = [
  ['githubRequests', 'GitHub requests'], ['githubNotModified', 'Not modified (304)'],
  ['d1RowsWritten', 'D1 rows written'], ['bytesDownloaded', 'Downloaded'], ['durationMs', 'Duration'],
];

/** The banner's parts, by the ids the dashboard has always used for them. */
function build(root) {
  const $ = {};
  const part = (key, tag, props, ...children) => ($[key] = node(tag, props, ...children));
  const phases = PHASES.map((p) => node('li', { 'data-phase': p },
    node('span', { className: 'phase-dot', 'aria-hidden': 'true' }),
    node('span', { className: 'phase-name', text: PHASE_NAMES[p] }),
    node('span', { className: 'visually-hidden phase-state' })));
  const dl = (className, entries) => node('dl', { className }, ...entries);
  root.append(part('box', 'div', { className: 'banner box', part: 'box' },
    node('div', { className: 'banner-top' },
      node('div', { className: 'banner-status' },
        node('span', { className: 'phase-indicator indicator', 'aria-hidden': 'true' }),
        part('title', 'p', { className: 'banner-title title', id: 'banner-status', part: 'title', 'aria-live': 'polite', 'aria-atomic': 'true' })),
      part('sub', 'p', { className: 'banner-sub sub', id: 'banner-sub', part: 'sub' })),
    part('phases', 'ol', { className: 'phases', 'aria-label': 'Sync phases' }, ...phases),
    node('div', { className: 'progress-row' },
      part('track', 'div', { className: 'progress track', id: 'banner-progress', role: 'progressbar', 'aria-label': 'Sync progress', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0' },
        part('fill', 'div', { className: 'progress-fill fill', id: 'banner-progress-fill', part: 'fill' })),
      part('value', 'span', { className: 'progress-value', id: 'banner-progress-value', 'aria-hidden': 'true', text: '0%' })),
    part('message', 'p', { className: 'banner-message message', id: 'banner-message', part: 'message' }),
    part('error', 'p', { className: 'banner-error error', id: 'banner-error', part: 'error', hidden: true }),
    part('connection', 'p', { className: 'banner-connection', id: 'banner-connection', role: 'status', hidden: true }),
    node('div', { className: 'banner-grid figures', part: 'figures' },
      node('div', {}, node('h3', { className: 'mini-title', text: 'Changes' }),
        dl('counts', COUNT_KEYS.map((k) => node('div', { className: `count count-${k}` }, node('dt', { text: COUNT_LABELS[k] }), node('dd', { 'data-count': k, text: '0' }))))),
      node('div', {}, node('h3', { className: 'mini-title', text: 'Cost' }),
        dl('stats', STAT_LABELS.map(([k, label]) => node('div', {}, node('dt', { text: label }), node('dd', { 'data-stat': k, text: '0' }))))))));
  return $;
}

export function bannerClass(client) {
  return class ProjectSyncBanner extends HTMLElement {
    static observedAttributes = ['sync-id'];
    #$ = null;
    #abort = null;
    #w = null; // the sync shown: { sync, data, maxPhase, running, note, cancelNote }
    #tick = null;
    #given = null; // { sync, eventsUrl } handed over by follow(), used by the next #follow

    connectedCallback() {
      if (!this.#$) this.#$ = build(shadow(this));
      this.#follow();
    }

    disconnectedCallback() {
      this.#stop();
    }

    attributeChangedCallback(_name, before, after) {
      if (this.isConnected && this.#$ && before !== after) this.#follow();
    }

    /** Shows `sync` now (its start answer, say) and follows it with `eventsUrl` if given. */
    follow(sync, eventsUrl) {
      this.#given = { sync, eventsUrl };
      if (this.getAttribute('sync-id') === sync.id && this.#w?.sync.id === sync.id) return;
      this.setAttribute('sync-id', sync.id);
    }

    /** The sync shown (null for none) and whether it still runs. */
    get sync() {
      return this.#w?.sync ?? null;
    }

    get running() {
      return Boolean(this.#w?.running);
    }

    /** A cancel of `syncId` was asked for: the banner says so until the sync stops. */
    cancelRequested(syncId) {
      const w = this.#w;
      if (w?.sync.id === syncId && w.running) this.#note(w, CANCELLING, true);
    }

    #stop() {
      this.#abort?.abort();
      this.#abort = null;
      clearInterval(this.#tick);
      this.#tick = null;
    }

    async #follow() {
      this.#stop();
      const id = this.getAttribute('sync-id');
      const given = this.#given?.sync.id === id ? this.#given : null;
      this.#given = null;
      if (!id) {
        this.#w = null;
        this.hidden = true;
        delete this.dataset.status;
        delete this.dataset.syncId;
        this.removeAttribute('data-running');
        announce(this, 'project-sync-state', { running: false, sync: null });
        return;
      }
      const abort = new AbortController();
      this.#abort = abort;
      const { signal } = abort;
      try {
        const sync = given?.sync ?? (await client.getSync(id, { signal }));
        if (signal.aborted) return;
        const w = { sync, data: syncToData(sync), maxPhase: phaseIndex(sync.status), running: !isTerminal(sync.status), note: null, cancelNote: false };
        this.#w = w;
        this.#render(w);
        this.#note(w, null);
        announce(this, 'project-sync-state', { running: w.running, sync });
        if (!w.running) return;
        this.#tick = setInterval(() => this.#renderDuration(w), 1000);
        await client.watchSync(id, {
          signal,
          eventsUrl: given?.eventsUrl,
          onEvent: (e) => this.#apply(w, e),
          onConnection: (state) => {
            if (!w.cancelNote) this.#note(w, state === 'reconnecting' ? RECONNECTING : null);
          },
        });
        if (!signal.aborted) await this.#finish(w, signal);
      } catch (err) {
        if (signal.aborted) return;
        this.#problem(err);
      }
    }

    #apply(w, e) {
      if (this.#w !== w) return;
      if (e.data?.syncId && e.data.syncId !== w.sync.id) return;
      w.data = mergeEventData(w.data, e.data ?? {});
      const { status, progress, message, counts, stats } = w.data;
      w.sync = { ...w.sync, status, progress, message, counts, stats };
      w.maxPhase = Math.max(w.maxPhase, phaseIndex(status));
      if (!w.cancelNote) this.#note(w, null);
      this.#render(w);
      announce(this, 'project-sync-event', { ...e, sync: w.sync });
      if (isTerminal(status)) this.#ended(w);
    }

    /** The stream said the sync ended: nothing ticks, and whoever listens knows at once. */
    #ended(w) {
      if (!w.running) return;
      clearInterval(this.#tick);
      this.#tick = null;
      w.running = false;
      this.#note(w, null);
      announce(this, 'project-sync-state', { running: false, sync: w.sync });
    }

    /** The sync ended: the stored row is authoritative for the final counts, stats and error. */
    async #finish(w, signal) {
      this.#ended(w);
      try {
        const sync = await client.getSync(w.sync.id, { signal });
        if (signal.aborted || this.#w !== w) return;
        w.sync = sync;
        const status = isTerminal(sync.status) ? sync.status : w.data.status;
        w.data = { ...w.data, counts: sync.counts ?? w.data.counts, stats: sync.stats ?? w.data.stats, status };
      } catch {
        if (signal.aborted) return; // else keep what the stream said
      }
      this.#render(w);
      announce(this, 'project-sync-finished', { sync: w.sync, status: w.data.status });
    }

    /** The sync could not be read or followed: said in the error line; it counts as not running. */
    #problem(err) {
      const w = this.#w;
      clearInterval(this.#tick);
      this.#tick = null;
      if (w) w.running = false;
      this.hidden = false;
      this.removeAttribute('data-running');
      this.#$.error.textContent = `Could not follow the sync: ${err.message}`;
      this.#$.error.hidden = false;
      announce(this, 'project-sync-state', { running: false, sync: w?.sync ?? null });
    }

    #note(w, text, cancel = false) {
      if (this.#w !== w) return;
      w.note = text;
      w.cancelNote = cancel;
      this.#$.connection.textContent = text ?? '';
      this.#$.connection.hidden = !text;
    }

    #render(w) {
      const { data, sync } = w;
      const $ = this.#$;
      this.hidden = false;
      this.dataset.status = data.status;
      this.dataset.syncId = sync.id;
      this.toggleAttribute('data-running', !isTerminal(data.status));
      // The live region changes only when the title does, so screen readers hear each phase once.
      const title = bannerTitle(data.status, sync.kind, sync.dryRun);
      if ($.title.textContent !== title) $.title.textContent = title;
      $.sub.textContent = bannerSub(sync);
      for (const li of $.phases.children) {
        const state = phaseState(li.dataset.phase, data.status, w.maxPhase);
        li.dataset.state = state;
        if (state === 'current') li.setAttribute('aria-current', 'step');
        else li.removeAttribute('aria-current');
        li.querySelector('.phase-state').textContent = PHASE_STATE_TEXT[state];
      }
      const progress = clampProgress(data.progress);
      $.track.setAttribute('aria-valuenow', String(progress));
      $.track.setAttribute('aria-valuetext', `${progress}%`);
      $.fill.style.width = `${progress}%`;
      $.value.textContent = `${progress}%`;
      $.message.textContent = data.message || '';
      const error = bannerError(data.status, sync, data);
      $.error.textContent = error;
      $.error.hidden = !error;
      for (const key of COUNT_KEYS) $.box.querySelector(`[data-count="${key}"]`).textContent = num(data.counts?.[key] ?? 0);
      for (const [key, text] of Object.entries(statTexts(data.stats ?? {}))) $.box.querySelector(`[data-stat="${key}"]`).textContent = text;
      this.#renderDuration(w);
    }

    #renderDuration(w) {
      if (this.#w !== w) return;
      this.#$.box.querySelector('[data-stat="durationMs"]').textContent = durationText(w.data, w.sync, Date.now());
    }
  };
}
