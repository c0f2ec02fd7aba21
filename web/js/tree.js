// Pure helpers of the file tree: the directory tree built from the flat file list, the
// single-child-chain compaction of directory rows, the filter and the summary line.
// No DOM here (files.js renders), so `node --test` can import this module as it is.

import { formatBytes, num, shortSha } from './format.js';

/** Up to this many files (or any filtered view) the tree starts fully open. */
export const OPEN_ALL_LIMIT = 60;

function dirNode(name) {
  return { name, dirs: new Map(), files: [], count: 0, size: 0 };
}

/**
 * Builds the directory tree of `files` ({path, size, ...}). Every directory counts the
 * files below it and their total size; a file keeps its own object as `file`.
 */
export function buildTree(files) {
  const root = dirNode('');
  for (const f of files) {
    const parts = String(f.path).split('/');
    let node = root;
    node.count += 1;
    node.size += Number(f.size) || 0;
    for (const part of parts.slice(0, -1)) {
      if (!node.dirs.has(part)) node.dirs.set(part, dirNode(part));
      node = node.dirs.get(part);
      node.count += 1;
      node.size += Number(f.size) || 0;
    }
    node.files.push({ name: parts[parts.length - 1], file: f });
  }
  return root;
}

/** The subdirectories of `node`, by name (code-unit order, like git). */
export function sortedDirs(node) {
  return [...node.dirs.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Single-child chains (a/b/c with nothing else in a and b) read better as one row:
 * returns the row's name ("a/b/c") and the directory whose contents the row shows.
 */
export function compactDir(dir) {
  let name = dir.name;
  let node = dir;
  while (node.files.length === 0 && node.dirs.size === 1) {
    node = [...node.dirs.values()][0];
    name += `/${node.name}`;
  }
  return { name, node };
}

/** The filter as it is applied: trimmed, case-insensitive. */
export function normalizeFilter(text) {
  return String(text ?? '').trim().toLowerCase();
}

/** The files whose path contains `filter` (already normalized); all of them without one. */
export function filterFiles(files, filter) {
  return filter ? files.filter((f) => String(f.path).toLowerCase().includes(filter)) : files;
}

/** Whether every directory starts open: a filtered view, or a small tree. */
export function opensAll(filter, shownCount) {
  return Boolean(filter) || shownCount <= OPEN_ALL_LIMIT;
}

/**
 * The line above the tree. `project` says whether the project was ever synced (an empty
 * branch and a project never synced read differently) and at which commit it is.
 */
export function filesSummary({ all, shown, filter, project }) {
  if (!all.length) {
    return project?.currentSyncId ? 'The branch has no files.' : 'No files yet. Start a sync to bring them in.';
  }
  const totalSize = all.reduce((a, f) => a + (Number(f.size) || 0), 0);
  const at = project?.currentCommitSha ? ` at commit ${shortSha(project.currentCommitSha)}` : '';
  return `${num(all.length)} ${all.length === 1 ? 'file' : 'files'} · ${formatBytes(totalSize)}${at}`
    + (filter ? ` · ${num(shown.length)} match “${filter}”` : '');
}
