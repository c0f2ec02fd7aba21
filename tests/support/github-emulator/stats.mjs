// Request statistics of one emulator: totals, 304 count, per-route counts and
// a bounded request log. State lives in emu.stats (see state.mjs).

const MAX_LOG_ENTRIES = 10000;

export function freshStats() {
  return { total: 0, notModified: 0, byRoute: {}, log: [] };
}

export function snapshotStats(emu) {
  return structuredClone(emu.stats);
}

export function resetStats(emu) {
  emu.stats = freshStats();
}

export function record(emu, entry) {
  const { stats } = emu;
  stats.total += 1;
  stats.byRoute[entry.route] = (stats.byRoute[entry.route] ?? 0) + 1;
  if (entry.status === 304) stats.notModified += 1;
  stats.log.push(entry);
  if (stats.log.length > MAX_LOG_ENTRIES) stats.log.splice(0, stats.log.length - MAX_LOG_ENTRIES);
}
