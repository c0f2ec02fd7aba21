// The benchmarks' generated repositories.

import fs from 'node:fs';
import path from 'node:path';
import { createRepo } from '../tests/support/harness.mjs';

/** N files of ~100 bytes, 100 to a directory, two directory levels deep. */
export function makeRepo(root, n) {
  const repo = createRepo(root, 'bench', `files-${n}`);
  const dir = repo.dir ?? path.join(root, 'bench', `files-${n}`);
  for (let i = 0; i < n; i++) {
    const rel = `t${Math.floor(i / 10_000)}/m${Math.floor(i / 100) % 100}/f${i % 100}.txt`;
    const file = path.join(dir, rel);
    if (i % 100 === 0) fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `file ${i}\nretry with backoff and jitter, bounded by the platform limits (${i * 7919})\n`);
  }
  repo.git(['add', '-A']);
  const sha = repo.commit(`${n} files`);
  return { repo, dir, sha };
}
