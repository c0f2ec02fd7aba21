// The figures this benchmark reported before (bench/RESULTS.md of 2026-11-22, and the
// 300,000-file and wasm-memory figures measured for issue 13), printed next to today's so
// a change reads at a glance. Keyed by `<files>:<sync>`; a missing figure was not measured.

export const PREVIOUS = {
  '10000:first': { wallMs: 2870, githubRequests: 3, d1RowsWritten: 100543, bytesDownloaded: 12530457, peakRssMb: 405 },
  '10000:1-file change': { wallMs: 411, githubRequests: 5, d1RowsWritten: 51 },
  '10000:unchanged head': { wallMs: 211, githubRequests: 1, d1RowsWritten: 10 },
  '30000:first': { wasmMiB: 17.6 },
  '100000:first': { wallMs: 26746, githubRequests: 14, d1RowsWritten: 1005271, rowsPerFile: 10.05, bytesDownloaded: 147169656, peakRssMb: 682, wasmMiB: 65.7 },
  '100000:1-file change': { wallMs: 993, githubRequests: 5, d1RowsWritten: 51 },
  '100000:unchanged head': { wallMs: 661, githubRequests: 1, d1RowsWritten: 10 },
  '300000:first': { wallMs: 174000, githubRequests: 1241, d1RowsWritten: 3039675, rowsPerFile: 10.13, bytesDownloaded: 408000000, wasmMiB: 137.9 },
  '300000:1-file change': { wallMs: 3600, githubRequests: 3, d1RowsWritten: 35 },
};

/** `now (was before)`, or just `now`. */
export function withPrevious(files, sync, key, now) {
  const was = PREVIOUS[`${files}:${sync}`]?.[key];
  const show = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(2)) : String(v ?? '-'));
  return was === undefined ? show(now) : `${show(now)} (was ${show(was)})`;
}
