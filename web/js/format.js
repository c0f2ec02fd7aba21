// Pure formatting helpers of the dashboard: numbers, sizes, durations, times, commit ids and
// the change marks of a sync. No DOM here, so `node --test` can import this module as it is.

/** The change counts of a sync, in the order the banner and the history show them. */
export const COUNT_KEYS = ['added', 'modified', 'removed', 'renamed', 'unchanged'];

/** One mark per change kind, as in the history's Changes column (+3 ~1 −2 →1 =40). */
export const CHANGE_MARKS = { added: '+', modified: '~', removed: '−', renamed: '→', unchanged: '=' };

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

/**
 * The marks of a completed sync's changes: every kind that happened, and always the
 * unchanged count (so a sync that changed nothing still says how much it compared).
 * `text` is what is shown, `label` what a screen reader hears.
 */
export function changeMarks(counts = {}) {
  const marks = [];
  for (const key of COUNT_KEYS) {
    const n = Number(counts?.[key] ?? 0);
    if (!n && key !== 'unchanged') continue;
    marks.push({ key, text: `${CHANGE_MARKS[key]}${num(n)}`, label: `${num(n)} ${key}` });
  }
  return marks;
}

/** A filter (`include`, `exclude`) in one line; empty when it holds every path. */
export function filterSummary({ include = [], exclude = [] } = {}) {
  const parts = [];
  if (include.length) parts.push(`include ${include.join(' ')}`);
  if (exclude.length) parts.push(`exclude ${exclude.join(' ')}`);
  return parts.join(' · ');
}

/** The patterns of a textarea: one a line, blank lines and surrounding spaces dropped. */
export function patternLines(text) {
  return String(text ?? '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
}

/**
 * `text` cut into segments, `match: true` where a word of the query `q` occurs (any case):
 * what a search result highlights. Words shorter than 2 characters are not marked.
 */
export function highlightSegments(text, q) {
  const words = [...new Set(String(q ?? '').toLowerCase().split(/[^\p{L}\p{N}_]+/u).filter((w) => w.length >= 2))];
  const source = String(text ?? '');
  if (!words.length) return [{ text: source, match: false }];
  const lower = source.toLowerCase();
  const segments = [];
  let at = 0;
  while (at < source.length) {
    let best = -1;
    let len = 0;
    for (const w of words) {
      const i = lower.indexOf(w, at);
      if (i >= 0 && (best < 0 || i < best || (i === best && w.length > len))) {
        best = i;
        len = w.length;
      }
    }
    if (best < 0) break;
    if (best > at) segments.push({ text: source.slice(at, best), match: false });
    segments.push({ text: source.slice(best, best + len), match: true });
    at = best + len;
  }
  if (at < source.length) segments.push({ text: source.slice(at), match: false });
  return segments;
}
