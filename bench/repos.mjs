// The benchmarks' generated repositories.

import fs from 'node:fs';
import path from 'node:path';
import { createRepo } from '../tests/support/harness.mjs';
import { mulberry32 as seeded } from '../tests/support/prng.mjs';

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

const WORDS = ['api', 'auth', 'cache', 'cli', 'config', 'core', 'data', 'events', 'forms', 'graph', 'http', 'i18n', 'io',
  'jobs', 'layout', 'log', 'mail', 'media', 'net', 'parser', 'query', 'router', 'schema', 'search', 'store', 'sync',
  'theme', 'ui', 'upload', 'utils', 'view', 'worker'];
const EXTS = ['ts', 'ts', 'ts', 'tsx', 'js', 'json', 'md', 'css'];
const word = (k) => (k < WORDS.length ? WORDS[k] : `${WORDS[k % WORDS.length]}${Math.floor(k / WORDS.length)}`);

/**
 * The paths of the mixed layout of ~n files (exactly n for n ≥ 2,000): a monorepo with
 * depths 1 to 6 where a few big directories sit beside many small ones. ~50 root files;
 * `tools/` deep chains (tools/build/scripts/lib/internal/gen); `docs/` of many 2–12-file
 * topic directories; `vendor/` of many small packages, a third of them nested deep
 * (vendor/github.com/<org>/<repo>/pkg/...); two flat directories (`assets/icons`,
 * `test/fixtures/snapshots`, 1.5% and 1% of n); `services/` of eight medium trees; and
 * `packages/` (the rest, ~60%) with power-law sizes: a few packages of thousands of files,
 * thousands of 5–50-file ones. Deterministic: a seeded generator, budgets from n.
 */
export function mixedLayout(n) {
  const rng = seeded(0x5eed2026);
  const int = (lo, hi) => lo + Math.floor(rng() * (hi - lo + 1));
  const paths = [];
  const files = (dir, count, stem = 'f') => {
    for (let j = 0; j < count; j++) paths.push(`${dir}/${stem}${j}.${EXTS[(j * 7 + dir.length) % EXTS.length]}`);
  };
  // `count` files under dir, split into subdirectories until a leaf holds ≤ `cap` or the
  // directory is `maxDepth` levels deep; a few files stay beside the subdirectories.
  const fill = (dir, count, depth, maxDepth = 6, cap = int(12, 60)) => {
    if (count <= cap || depth >= maxDepth) return files(dir, count);
    const direct = Math.min(count, int(1, 6));
    files(dir, direct, 'x');
    let rest = count - direct;
    const k = Math.max(2, Math.ceil((rest / cap) ** (1 / (maxDepth - depth))));
    const shift = (dir.length * 5) % WORDS.length; // varied names, unique among siblings
    const weights = Array.from({ length: k }, (_, i) => (0.3 + rng()) / (i + 1) ** 0.7);
    const total = weights.reduce((a, b) => a + b, 0);
    for (let i = 0; i < k && rest > 0; i++) {
      const c = i === k - 1 ? rest : Math.min(rest, Math.max(1, Math.round(((count - direct) * weights[i]) / total)));
      fill(`${dir}/${word(i + shift)}`, c, depth + 1, maxDepth);
      rest -= c;
    }
  };

  // Root files.
  const rootNames = ['.editorconfig', '.gitattributes', '.gitignore', '.npmrc', '.prettierrc', 'CHANGELOG.md', 'CODEOWNERS',
    'CONTRIBUTING.md', 'LICENSE', 'Makefile', 'README.md', 'SECURITY.md', 'package.json', 'pnpm-lock.yaml', 'tsconfig.json'];
  for (let j = 0; j < 50; j++) paths.push(j < rootNames.length ? rootNames[j] : `config-${j}.json`);

  // Deep chains: 4 of them, 6 directories deep, a few files at each level.
  for (const chain of ['build/scripts/lib/internal/gen', 'release/steps/publish/npm/hooks', 'lint/rules/custom/imports/order',
    'ci/jobs/matrix/linux/arm64']) {
    let dir = 'tools';
    for (const part of chain.split('/')) {
      dir = `${dir}/${part}`;
      files(dir, int(2, 8));
    }
    files(dir, Math.max(3, Math.round(n / 3000)), 'gen');
  }

  // docs/: ~8%, sections of many small topic directories (a few with images/).
  let docs = Math.round(n * 0.08);
  for (let s = 0; docs > 0; s++) {
    const section = `docs/${word(s)}`;
    files(section, int(1, 4), 'index');
    for (let t = 0; t < 80 && docs > 0; t++) {
      const c = Math.min(docs, int(2, 12));
      files(`${section}/${word(t)}-guide`, c);
      docs -= c;
      if (t % 9 === 4 && docs > 0) {
        const img = Math.min(docs, int(2, 6));
        files(`${section}/${word(t)}-guide/images`, img, 'img');
        docs -= img;
      }
    }
  }

  // vendor/: ~15%, many small packages, every third five directories deep.
  let vendor = Math.round(n * 0.15);
  for (let p = 0; vendor > 0; p++) {
    const size = Math.min(vendor, Math.round(3 + 60 * rng() ** 3));
    const dir = p % 3 === 2
      ? `vendor/github.com/${word(p % 23)}-org/${word(p)}/pkg`
      : `vendor/${word(p)}-lib`;
    fill(dir, size, dir.split('/').length, 6, 15);
    vendor -= size;
  }

  // Two big flat directories.
  files('assets/icons', Math.round(n * 0.015), 'icon');
  files('test/fixtures/snapshots', Math.round(n * 0.01), 'snap');

  // services/: eight medium trees, ~15% in all.
  const services = Math.round(n * 0.15);
  for (let s = 0; s < 8; s++) fill(`services/${word(s + 3)}`, Math.floor(services / 8), 2, 6);

  // packages/: the rest, power-law sizes; the tail 5–50 files each.
  let left = n - paths.length;
  const head = left * 0.12;
  for (let i = 0; left > 0; i++) {
    let size = Math.round(head / (i + 1) ** 1.3);
    if (size < 50) size = int(5, 50);
    size = Math.min(left, size);
    const dir = `packages/${word(i)}`;
    const top = Math.min(size, size < 20 ? 2 : 4);
    files(dir, top, 'package');
    if (size - top > 0) fill(`${dir}/src`, size - top, 3, 6);
    left -= size;
  }
  return paths;
}

/**
 * The mixed layout of ~n files (`mixedLayout`) as a repository bench/mixed-<n>, one commit
 * (file contents as makeRepo's). `changePath` is a file a few directories deep in the
 * biggest package, for a one-file change.
 */
export function makeMixedRepo(root, n) {
  const repo = createRepo(root, 'bench', `mixed-${n}`);
  const dir = repo.dir ?? path.join(root, 'bench', `mixed-${n}`);
  const paths = mixedLayout(n);
  const made = new Set();
  paths.forEach((rel, i) => {
    const file = path.join(dir, rel);
    const parent = path.dirname(file);
    if (!made.has(parent)) {
      fs.mkdirSync(parent, { recursive: true });
      made.add(parent);
    }
    fs.writeFileSync(file, `file ${i}\nretry with backoff and jitter, bounded by the platform limits (${i * 7919})\n`);
  });
  repo.git(['add', '-A']);
  const sha = repo.commit(`${paths.length} files, mixed layout`);
  const changePath = paths.find((p) => p.startsWith('packages/api/src/') && p.split('/').length >= 6) ?? paths[0];
  return { repo, dir, sha, changePath };
}
