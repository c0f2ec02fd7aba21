// Formatting for people, shared by the embeddable elements and the dashboard: numbers,
// sizes, durations, times, commit ids. No DOM here, so `node --test` can import it.

/** The change counts of a sync, in the order the banner and the history show them. */
export const COUNT_KEYS = ['added', 'modified', 'removed', 'renamed', 'unchanged'];

export const shortSha = (sha) => (sha ? String(sha).slice(0, 7) : '');

export const num = (n) => (Number.isFinite(Number(n)) ? Number(n).toLocaleString() : '0');

export function formatBytes(n) {
  n = Number(n) || 0;
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i += 1;
  } while (v >= 1024 && i < units.length - 1);
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export function formatDuration(ms) {
  ms = Number(ms);
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  if (m < 60) return `${m} min ${String(rest).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

// The browser's locale, 24-hour clock: the history is read by time of day.
const timeFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});

/** A timestamp for people; what is not a date is shown as it came. */
export function formatTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso ?? '') : timeFormat.format(d);
}
