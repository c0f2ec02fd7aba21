// Path filters as git itself reads gitignore patterns: `git check-ignore --no-index` over a
// patterns file is the oracle the end-to-end tests hold the service's matcher to (a
// pattern that matches a directory matches every path in it, as in git).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The subset of `paths` that some of `patterns` match, by git. */
function matchedByGit(repoDir, patterns, paths) {
  if (patterns.length === 0 || paths.length === 0) return new Set();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'patterns-'));
  const file = path.join(dir, 'patterns');
  fs.writeFileSync(file, patterns.join('\n') + '\n');
  try {
    const out = spawnSync('git', ['-c', `core.excludesFile=${file}`, 'check-ignore', '--no-index', '--stdin', '-z'], {
      cwd: repoDir,
      input: paths.join('\0') + '\0',
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    // 0: some matched, 1: none did; anything else is an error.
    if (out.status !== 0 && out.status !== 1) throw new Error(`git check-ignore: ${out.stderr}`);
    return new Set(out.stdout.split('\0').filter(Boolean));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Which of `paths` a filter admits: some include matches (or none is given) and no exclude. */
export function admittedPaths(repo, paths, { include = [], exclude = [] } = {}) {
  const included = include.length ? matchedByGit(repo.dir, include, paths) : null;
  const excluded = matchedByGit(repo.dir, exclude, paths);
  return new Set(paths.filter((p) => (included === null || included.has(p)) && !excluded.has(p)));
}

/** `expectedFiles`-shaped rows (or any rows with `path`) the filter admits. */
export function admittedRows(repo, rows, filter) {
  const keep = admittedPaths(repo, rows.map((r) => r.path), filter);
  return rows.filter((r) => keep.has(r.path));
}
