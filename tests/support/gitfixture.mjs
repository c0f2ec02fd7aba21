// Git fixture helpers for Project Sync tests.
//
// Owns: building real git repositories on disk (through the `git` CLI only) in
// the layout the GitHub emulator serves: ${root}/${owner}/${name} (work tree)
// or ${root}/${owner}/${name}.git (bare). Every git call runs with a fixed
// identity, fixed dates (advancing one minute per commit per repository) and
// no global/system config, so the same script yields the same SHAs each run.
//
//   const repo = createRepo(root, 'acme', 'widgets');
//   repo.write('src/a.txt', 'hello\n');
//   const sha = repo.commit('first');
//   repo.lsTree('main')  // what GitHub's recursive tree must contain (blobs)

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';

/** 2026-01-01T00:00:00Z; commit N of a repository is dated BASE + N minutes. */
const BASE_EPOCH = Date.UTC(2026, 0, 1) / 1000;

/** `-c` flags on every git invocation (never touch the global config). */
const GIT_CONFIG_FLAGS = [
  '-c', 'init.defaultBranch=main',
  '-c', 'core.symlinks=true',
  '-c', 'commit.gpgsign=false',
  '-c', 'tag.gpgsign=false',
  '-c', 'core.autocrlf=false',
  '-c', 'core.filemode=true',
  '-c', 'core.quotepath=false',
  '-c', 'advice.detachedHead=false',
  '-c', 'gc.auto=0',
  '-c', 'maintenance.auto=false',
];

const BASE_ENV = (() => {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('GIT_')) delete env[k];
  return Object.assign(env, {
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: os.devNull,
    GIT_TERMINAL_PROMPT: '0',
    GIT_LITERAL_PATHSPECS: '1', // paths are paths, never globs
    GIT_AUTHOR_NAME: 'Fixture Author',
    GIT_AUTHOR_EMAIL: 'author@fixture.invalid',
    GIT_COMMITTER_NAME: 'Fixture Committer',
    GIT_COMMITTER_EMAIL: 'committer@fixture.invalid',
    GIT_AUTHOR_DATE: `${BASE_EPOCH} +0000`,
    GIT_COMMITTER_DATE: `${BASE_EPOCH} +0000`,
    LC_ALL: 'C',
  });
})();

/**
 * Run git synchronously. `gitArgs` go before the subcommand (e.g. --git-dir).
 * Returns stdout (string, or Buffer with encoding:'buffer'); throws with stderr.
 */
export function runGit(args, { cwd, gitArgs = [], input, env = {}, encoding = 'utf8' } = {}) {
  try {
    return execFileSync('git', [...GIT_CONFIG_FLAGS, ...gitArgs, ...args], {
      cwd,
      env: { ...BASE_ENV, ...env },
      input,
      encoding,
      maxBuffer: 1 << 30,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (e) {
    const stderr = e.stderr ? e.stderr.toString() : '';
    throw new Error(`git ${args.join(' ')} failed: ${stderr.trim() || e.message}`);
  }
}

/** Parse `git ls-tree -l -z` records: "<mode> <type> <sha> <size|->\t<path>\0". */
export function parseLsTree(out) {
  return out
    .split('\0')
    .filter(Boolean)
    .map((rec) => {
      const tab = rec.indexOf('\t');
      const [mode, type, sha, size] = rec.slice(0, tab).split(/ +/);
      return { path: rec.slice(tab + 1), mode, type, sha, size: size === '-' ? null : Number(size) };
    });
}

/** Resolve `p` inside `dir`, refusing paths that escape it. */
function inside(dir, p) {
  const abs = path.resolve(dir, p);
  if (abs !== dir && !abs.startsWith(dir + path.sep)) throw new Error(`path escapes repository: ${p}`);
  return abs;
}

/** Remove whatever is at abs (file, symlink or directory). */
function removePath(abs) {
  fs.rmSync(abs, { recursive: true, force: true });
}

/**
 * Create a non-bare repository at ${root}/${owner}/${name} and return a handle.
 * Throws if the directory already exists.
 */
export function createRepo(root, owner, name) {
  const dir = path.resolve(root, owner, name);
  if (fs.existsSync(dir)) throw new Error(`createRepo: ${dir} already exists`);
  fs.mkdirSync(dir, { recursive: true });
  runGit(['init', '-q', dir]);
  return makeHandle(dir, owner, name);
}

/**
 * Open an existing work-tree repository made by createRepo (e.g. in another
 * test file). Commit dates restart at the base date unless `tick` is given.
 */
export function openRepo(root, owner, name, { tick } = {}) {
  const dir = path.resolve(root, owner, name);
  const h = makeHandle(dir, owner, name);
  if (tick !== undefined) h.tick = tick;
  else h.tick = Number(runGit(['rev-list', '--all', '--count'], { cwd: dir, gitArgs: h.gitArgs }).trim());
  return h;
}

/**
 * Create a repository with no commits (GitHub answers 409 "Git Repository is
 * empty." for it). Bare at ${root}/${owner}/${name}.git by default.
 * Returns its directory.
 */
export function createEmptyRepo(root, owner, name, { bare = true } = {}) {
  const dir = path.resolve(root, owner, bare ? `${name}.git` : name);
  fs.mkdirSync(dir, { recursive: true });
  runGit(bare ? ['init', '-q', '--bare', dir] : ['init', '-q', dir]);
  return dir;
}

/**
 * Clone a handle's repository as a bare repository at
 * ${root}/${owner}/${name}.git (all branches and tags). Returns its directory.
 * Use it to check that the emulator serves bare repositories too.
 */
export function cloneBare(handle, root, owner, name) {
  const dir = path.resolve(root, owner, `${name}.git`);
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  runGit(['clone', '-q', '--bare', '--no-local', handle.dir, dir]);
  return dir;
}

function makeHandle(dir, owner, name) {
  const gitArgs = [`--git-dir=${path.join(dir, '.git')}`, `--work-tree=${dir}`];
  const h = {
    /** Absolute path of the work tree. */
    dir,
    owner,
    name,
    /** Absolute path of the .git directory. */
    gitDir: path.join(dir, '.git'),
    /** Number of commits made through this handle (drives the fixed dates). */
    tick: 0,
    gitArgs,

    /** Run any git command in this repository; returns stdout. */
    git(args, opts = {}) {
      return runGit(args, { cwd: dir, gitArgs, ...opts });
    },

    /** Environment pinning the date of the next commit. */
    dateEnv() {
      const d = `${BASE_EPOCH + h.tick * 60} +0000`;
      return { GIT_AUTHOR_DATE: d, GIT_COMMITTER_DATE: d };
    },

    /**
     * Write a file (string or Buffer) and stage it. `mode` 0o755 (any x bit)
     * makes it executable (100755), otherwise 100644. Parent dirs are created.
     */
    write(p, content, { mode } = {}) {
      const abs = inside(dir, p);
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      if (fs.lstatSync(abs, { throwIfNoEntry: false })) {
        const st = fs.lstatSync(abs);
        if (st.isSymbolicLink() || st.isDirectory()) removePath(abs);
      }
      fs.writeFileSync(abs, content);
      const exec = mode !== undefined && (mode & 0o111) !== 0;
      fs.chmodSync(abs, exec ? 0o755 : 0o644);
      h.git(['add', '--', p]);
      h.git(['update-index', `--chmod=${exec ? '+x' : '-x'}`, '--', p]);
      return h;
    },

    /** Create (or replace) a symlink `p` -> `target` and stage it (mode 120000). */
    symlink(p, target) {
      const abs = inside(dir, p);
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      removePath(abs);
      fs.symlinkSync(target, abs);
      h.git(['add', '--', p]);
      return h;
    },

    /** Delete a file, symlink, submodule entry or directory and stage the removal. */
    remove(p) {
      const abs = inside(dir, p);
      h.git(['rm', '-r', '-q', '--cached', '--ignore-unmatch', '--', p]);
      removePath(abs);
      return h;
    },

    /** `git mv from to` (creates the destination's parent directories). */
    move(from, to) {
      fs.mkdirSync(path.dirname(inside(dir, to)), { recursive: true });
      h.git(['mv', '--', from, to]);
      return h;
    },

    /** Change a tracked file's mode: any x bit -> 100755, else 100644. */
    chmod(p, mode) {
      const exec = (mode & 0o111) !== 0;
      fs.chmodSync(inside(dir, p), exec ? 0o755 : 0o644);
      h.git(['update-index', `--chmod=${exec ? '+x' : '-x'}`, '--', p]);
      return h;
    },

    /**
     * Add a submodule entry: a gitlink (mode 160000) pointing at `commitSha`
     * plus a .gitmodules section. The submodule is never cloned.
     */
    addSubmodule(p, commitSha, { url = `https://example.invalid/${p.replace(/[^A-Za-z0-9]+/g, '-')}.git` } = {}) {
      h.git(['update-index', '--add', '--cacheinfo', `160000,${commitSha},${p}`]);
      fs.mkdirSync(inside(dir, p), { recursive: true });
      const gm = path.join(dir, '.gitmodules');
      h.git(['config', '-f', gm, `submodule.${p}.path`, p]);
      h.git(['config', '-f', gm, `submodule.${p}.url`, url]);
      h.git(['add', '--', '.gitmodules']);
      return h;
    },

    /** Commit the index; returns the new commit SHA. */
    commit(message, { allowEmpty = false } = {}) {
      const env = h.dateEnv();
      h.tick += 1;
      h.git(['commit', '-q', '--no-verify', ...(allowEmpty ? ['--allow-empty'] : []), '-F', '-'], { input: message, env });
      return h.headSha();
    },

    /** Create branch `name` (slashes allowed) at `fromRef` (default HEAD); returns its SHA. */
    branch(name, fromRef = 'HEAD') {
      h.git(['branch', '--no-track', name, fromRef]);
      return h.headSha(name);
    },

    /** Create many branches at once (one `git update-ref --stdin`); returns the SHA. */
    branches(names, fromRef = 'HEAD') {
      const sha = h.revParse(`${fromRef}^{commit}`);
      h.git(['update-ref', '--stdin'], { input: names.map((n) => `create refs/heads/${n} ${sha}\n`).join('') });
      return sha;
    },

    /** Switch the work tree to branch `name`. */
    checkout(name) {
      h.git(['checkout', '-q', name]);
      return h;
    },

    /** Create a tag (annotated when `message` is given); returns the tag's target commit. */
    tag(name, ref = 'HEAD', { message } = {}) {
      if (message !== undefined) h.git(['tag', '-a', name, ref, '-F', '-'], { input: message, env: h.dateEnv() });
      else h.git(['tag', name, ref]);
      return h.revParse(`refs/tags/${name}^{commit}`);
    },

    /**
     * Point `branch` at a brand-new root commit (unrelated history), as if
     * someone force-pushed an orphan branch. `files` maps path -> string |
     * Buffer | {content, mode}. The current index/work tree is left alone,
     * unless `branch` is checked out, in which case it is reset to the new
     * commit. Returns the new commit SHA.
     */
    forcePushOrphan(branch, files = { 'ORPHAN.md': `unrelated history for ${branch}\n` }, message = `orphan ${branch}`) {
      const indexFile = path.join(h.gitDir, `orphan-index-${crypto.randomBytes(6).toString('hex')}`);
      try {
        const env = { GIT_INDEX_FILE: indexFile };
        for (const [p, spec] of Object.entries(files)) {
          const content = typeof spec === 'string' || Buffer.isBuffer(spec) ? spec : spec.content;
          const mode = typeof spec === 'object' && !Buffer.isBuffer(spec) && spec.mode && (spec.mode & 0o111) ? '100755' : '100644';
          const blob = h.git(['hash-object', '-w', '--stdin'], { input: content }).trim();
          h.git(['update-index', '--add', '--cacheinfo', `${mode},${blob},${p}`], { env });
        }
        const tree = h.git(['write-tree'], { env }).trim();
        const commit = h.git(['commit-tree', tree, '-F', '-'], { input: message, env: h.dateEnv() }).trim();
        h.tick += 1;
        h.git(['update-ref', `refs/heads/${branch}`, commit]);
        let current = null;
        try {
          current = h.git(['symbolic-ref', '-q', '--short', 'HEAD']).trim();
        } catch {
          /* detached HEAD */
        }
        if (current === branch) h.git(['reset', '-q', '--hard', commit]);
        return commit;
      } finally {
        fs.rmSync(indexFile, { force: true });
      }
    },

    /**
     * `git ls-tree -r -l --full-tree -z <ref>` parsed into
     * [{path, mode, type, sha, size}] (size null for submodules; for symlinks
     * the length of the link text). `trees: true` adds -t (directory entries,
     * size null), which is exactly GitHub's recursive tree listing.
     */
    lsTree(ref = 'HEAD', { trees = false } = {}) {
      const out = h.git(['ls-tree', '-r', ...(trees ? ['-t'] : []), '-l', '--full-tree', '-z', ref]);
      return parseLsTree(out);
    },

    /**
     * `git diff --name-status -M -z a b` parsed into
     * [{status: 'A'|'M'|'D'|'R'|'T'|'C', path, previousPath?, score?}].
     */
    diffNameStatus(a, b) {
      const out = h.git(['diff', '--name-status', '-M', '-z', '--no-ext-diff', '--no-color', a, b, '--']);
      const tok = out.split('\0');
      const result = [];
      for (let i = 0; i < tok.length && tok[i]; ) {
        const raw = tok[i++];
        const status = raw[0];
        if (status === 'R' || status === 'C') {
          const previousPath = tok[i++];
          const p = tok[i++];
          result.push({ status, path: p, previousPath, score: Number(raw.slice(1)) });
        } else {
          result.push({ status, path: tok[i++] });
        }
      }
      return result;
    },

    /** SHA of refs/heads/<branch>, or of HEAD when no branch is given. */
    headSha(branch) {
      return h.revParse(branch === undefined ? 'HEAD^{commit}' : `refs/heads/${branch}^{commit}`);
    },

    /** `git rev-parse --verify <rev>`. */
    revParse(rev) {
      return h.git(['rev-parse', '--verify', '-q', '--end-of-options', rev]).trim();
    },
  };
  return h;
}

/** The binary fixture: every byte value twice, so it has NULs and invalid UTF-8. */
export const BINARY_FIXTURE = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00]),
  Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256)),
]);

/** Paths used by makeStandardRepo, for tests to refer to. */
export const STANDARD_PATHS = Object.freeze({
  deep: 'src/net/http/client/retry.rs',
  executable: 'scripts/build.sh',
  symlink: 'link-to-readme',
  symlinkTarget: 'README.md',
  submodule: 'vendor/widget-lib',
  spaces: 'docs/user guide/getting started.md',
  unicode: 'docs/i18n/日本語/ünïcödé.md',
  binary: 'assets/logo.bin',
  empty: 'assets/empty.txt',
});

/**
 * Build acme/widgets under `root` (plus acme/widget-lib, the submodule's
 * target): nested directories, an executable, a symlink, a submodule, paths
 * with spaces and unicode, a binary file, two commits on main, 119
 * `feature/f-NNN` branches at main and `release/2026/q4` with one extra commit
 * (120 extra branches, 121 in total). Leaves `main` checked out.
 * Returns the widgets handle, with `handle.fixture` = { lib, librarySha,
 * firstSha, mainSha, releaseSha, extraBranches, paths }.
 */
export function makeStandardRepo(root) {
  const lib = createRepo(root, 'acme', 'widget-lib');
  lib.write('lib.txt', 'widget library\n');
  const librarySha = lib.commit('library: initial');

  const r = createRepo(root, 'acme', 'widgets');
  const P = STANDARD_PATHS;
  r.write('README.md', '# widgets\n\nFixture repository for Project Sync.\n');
  r.write('src/lib.rs', 'pub mod net;\n');
  r.write('src/net/mod.rs', 'pub mod http;\n');
  r.write('src/net/http/mod.rs', 'pub mod client;\n');
  r.write('src/net/http/client/mod.rs', 'pub mod retry;\n');
  r.write(P.deep, 'pub fn retry() {}\n');
  r.write(P.executable, '#!/bin/sh\necho build\n', { mode: 0o755 });
  r.symlink(P.symlink, P.symlinkTarget);
  r.addSubmodule(P.submodule, librarySha, { url: '../widget-lib.git' });
  r.write(P.spaces, 'Spaces in the path.\n');
  r.write(P.unicode, 'Unicode in the path.\n');
  r.write(P.binary, BINARY_FIXTURE);
  r.write(P.empty, '');
  const firstSha = r.commit('initial import');

  r.write('README.md', '# widgets\n\nFixture repository for Project Sync.\n\nSecond revision.\n');
  r.write('docs/CHANGELOG.md', '- second commit\n');
  const mainSha = r.commit('second commit');

  const extraBranches = [];
  for (let i = 1; i <= 119; i++) extraBranches.push(`feature/f-${String(i).padStart(3, '0')}`);
  r.branches(extraBranches, 'main');

  r.git(['checkout', '-q', '-b', 'release/2026/q4']);
  r.write('RELEASE.md', 'release 2026 Q4\n');
  r.remove(P.empty);
  const releaseSha = r.commit('release 2026 q4');
  r.checkout('main');
  extraBranches.push('release/2026/q4');

  r.fixture = { lib, librarySha, firstSha, mainSha, releaseSha, extraBranches, paths: P };
  return r;
}
