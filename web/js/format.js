// Pure formatting helpers of the dashboard: the change marks of a sync, filters, patterns,
// search highlights; numbers, sizes, durations, times and commit ids come from the client's
// format.js (the elements show them too). No DOM here, so `node --test` can import it.

import { COUNT_KEYS, num } from '../client/format.js';

export { COUNT_KEYS, formatBytes, formatDuration, formatTime, num, shortSha } from '../client/format.js';

/** One mark per change kind, as in the history's Changes column (+3 ~1 −2 →1 =40). */
export const CHANGE_MARKS = { added: '+', modified: '~', removed: '−', renamed: '→', unchanged: '=' };

/**
 * A rename's similarity as its badge shows it (`87%`); null for any other change, and for
 * a rename without a score (a service from before scores).
 */
export function similarityText(change) {
  return change?.change === 'renamed' && Number.isInteger(change.similarity) ? `${change.similarity}%` : null;
}

/** What a list of a sync's changes says when git's rename limit stopped its rename search. */
export const RENAME_LIMIT_NOTE = 'Too many files were added and removed to look for every rename with edits (git\'s rename limit): some moved files show as removed and added.';

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
