// The one status table of a sync and what <project-sync-banner> shows for it (title, sub
// line, phase states, clamped progress, error, cost, duration), and how a stream event
// updates the shown data. No DOM here (banner-element.js renders), so `node --test` can
// import it; the dashboard reads statuses from here too.

import { formatBytes, formatDuration, formatTime, num, shortSha } from './format.js';

export const TERMINAL = new Set(['COMPLETE', 'FAILED', 'CANCELLED']);
export const PHASES = ['FETCHING', 'DIFFING', 'PROCESSING', 'PERSISTING'];

export const STATUS_TITLES = {
  QUEUED: 'Queued',
  FETCHING: 'Fetching from GitHub',
  DIFFING: 'Comparing with the active files',
  PROCESSING: 'Processing changed files',
  PERSISTING: 'Saving to the database',
  COMPLETE: 'Complete',
  FAILED: 'Failed',
  CANCELLED: 'Cancelled',
};

/** What a screen reader hears after a phase's name, by phase state. */
export const PHASE_STATE_TEXT = {
  done: ' (done)', current: ' (in progress)', stopped: ' (stopped here)', pending: '',
};

export const isTerminal = (status) => TERMINAL.has(status);

/** The index of `status` in PHASES, -1 for QUEUED and the terminal statuses. */
export const phaseIndex = (status) => PHASES.indexOf(status);

/** What a sync is called: a dry run is named as such wherever it shows. */
const what = (kind, dryRun = false) => (dryRun ? 'Dry run' : kind === 'restore' ? 'Restore' : 'Sync');

/** The data the banner shows, taken from a stored sync row. */
export function syncToData(sync) {
  return {
    syncId: sync.id,
    status: sync.status,
    progress: sync.progress ?? 0,
    message: sync.message ?? '',
    counts: sync.counts ?? {},
    stats: sync.stats ?? {},
  };
}

/** The shown data after a stream event: its fields win, counts and stats merge key by key. */
export function mergeEventData(data, event) {
  return {
    ...data,
    ...event,
    counts: { ...data.counts, ...(event.counts ?? {}) },
    stats: { ...data.stats, ...(event.stats ?? {}) },
  };
}

/**
 * The banner's title (an aria-live region): a running phase says which step it is, the
 * rest say what the sync is ("Restore complete", "Sync queued").
 */
export function bannerTitle(status, kind, dryRun = false) {
  const phaseNo = phaseIndex(status);
  if (isTerminal(status)) return `${what(kind, dryRun)} ${STATUS_TITLES[status].toLowerCase()}`;
  if (phaseNo >= 0) return `${STATUS_TITLES[status]} (step ${phaseNo + 1} of ${PHASES.length})`;
  return `${what(kind, dryRun)} ${STATUS_TITLES[status]?.toLowerCase() ?? status}`;
}

/** The line under the title: branch, commit, restored sync and start time, as far as known. */
export function bannerSub(sync) {
  const sub = [`${what(sync.kind, sync.dryRun)} of ${sync.branch}`];
  if (sync.dryRun) sub.push('nothing is changed');
  if (sync.commitSha) sub.push(`commit ${shortSha(sync.commitSha)}`);
  if (sync.kind === 'restore' && sync.restoredFromSyncId) sub.push(`from sync ${shortSha(sync.restoredFromSyncId)}`);
  if (sync.startedAt) sub.push(`started ${formatTime(sync.startedAt)}`);
  return sub.join(' · ');
}

/**
 * The state of one phase: done, current, stopped or pending. `maxPhase` is the furthest
 * phase the sync was seen in, so a failed or cancelled sync shows where it stopped.
 */
export function phaseState(phase, status, maxPhase) {
  const i = phaseIndex(phase);
  const terminal = isTerminal(status);
  const phaseNo = phaseIndex(status);
  if (status === 'COMPLETE') return 'done';
  if (!terminal && i < phaseNo) return 'done';
  if (!terminal && i === phaseNo) return 'current';
  if (terminal && maxPhase >= 0 && i < maxPhase) return 'done';
  if (terminal && i === maxPhase) return 'stopped';
  return 'pending';
}

/** A whole percentage between 0 and 100; anything else counts as 0. */
export function clampProgress(progress) {
  return Math.max(0, Math.min(100, Math.round(Number(progress) || 0)));
}

/** The error line of a failed sync, or '' when it would only repeat the message. */
export function bannerError(status, sync, data) {
  const error = status === 'FAILED' ? sync.error || data.message : null;
  return error && error !== data.message ? error : '';
}

/** The cost figures of the banner, by data-stat key (the duration is separate: it ticks). */
export function statTexts(stats = {}) {
  return {
    githubRequests: num(stats.githubRequests ?? 0),
    githubNotModified: num(stats.githubNotModified ?? 0),
    d1RowsWritten: num(stats.d1RowsWritten ?? 0),
    bytesDownloaded: formatBytes(stats.bytesDownloaded ?? 0),
  };
}

/**
 * The duration: the measured one once there is one (or the sync ended), else the time
 * since it started, "so far" (`now` in ms, for the banner's ticking clock).
 */
export function durationText(data, sync, now) {
  const ms = Number(data.stats?.durationMs) || 0;
  if (ms > 0 || isTerminal(data.status)) return formatDuration(ms);
  const started = Date.parse(sync.startedAt);
  return Number.isNaN(started) ? '–' : `${formatDuration(Math.max(0, now - started))} so far`;
}
