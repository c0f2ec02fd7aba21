// Following a running sync over its EventSource stream, for the banner.
//
// The browser reconnects a dropped stream by itself, sending Last-Event-ID. When the server
// closes it for good (the stream token in the URL expired) or it keeps failing, the page
// asks for a fresh stream URL and opens that; a fresh URL carries no Last-Event-ID, so the
// stream replays from the start and the ids already seen are skipped.

const EVENTS = ['progress', 'complete', 'failed', 'cancelled'];
const RECONNECTING = 'Connection lost. Reconnecting…';

/**
 * Opens the stream of watch `w` at `url`. `hooks`: isCurrent(w) — still the banner's live
 * watch; applyEvent(w, type, data); setNote(w, text|null) — the connection line;
 * freshUrl(w) — resolves a new stream URL (rejects with an ApiError); lost(w, text) — the
 * sync cannot be followed any more.
 */
export function openStream(w, url, hooks) {
  w.source?.close();
  const source = new EventSource(url);
  w.source = source;
  const current = () => hooks.isCurrent(w) && w.source === source;
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
    if (w.note && !w.cancelNote) hooks.setNote(w, null);
    hooks.applyEvent(w, event.type, data);
  };
  for (const name of EVENTS) source.addEventListener(name, onEvent);
  source.addEventListener('open', () => {
    if (!current()) return;
    w.errors = 0;
    if (!w.cancelNote) hooks.setNote(w, null);
  });
  source.addEventListener('error', () => {
    if (!current()) return;
    w.errors += 1;
    if (source.readyState === EventSource.CONNECTING && w.errors <= 3) {
      // The browser reconnects by itself (sending Last-Event-ID).
      hooks.setNote(w, RECONNECTING);
      return;
    }
    // Closed by the server (the stream token may have expired) or failing again and again:
    // ask for a fresh stream URL and reopen.
    source.close();
    reopenWithFreshUrl(w, hooks);
  });
}

/** The wait before the next fresh URL: quick the first time, then doubling up to 30 s. */
export function retryDelay(retry) {
  return retry === 0 ? 300 : Math.min(30000, 1000 * 2 ** retry);
}

function reopenWithFreshUrl(w, hooks) {
  hooks.setNote(w, RECONNECTING);
  const delay = retryDelay(w.retry);
  w.retry += 1;
  clearTimeout(w.timer);
  w.timer = setTimeout(async () => {
    if (!hooks.isCurrent(w)) return;
    try {
      const url = await hooks.freshUrl(w);
      if (!hooks.isCurrent(w)) return;
      w.errors = 0;
      openStream(w, url, hooks);
    } catch (err) {
      if (!hooks.isCurrent(w)) return;
      if (err.status === 404 || err.status === 401) {
        hooks.lost(w, 'This sync cannot be followed any more.');
        return;
      }
      reopenWithFreshUrl(w, hooks);
    }
  }, delay);
}
