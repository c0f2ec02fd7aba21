// Source archives: the tarball / zipball endpoints' 302 to the emulator's own
// codeload route, and codeload itself (`git archive`, gzipped for tar), with
// the one-off ?token= grants in emu.codeloadTokens that stand in for GitHub's signed URLs.

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { notFound } from './http.mjs';
import { GIT_ENV, locateRepo, runGit, isEmptyRepo, resolveCommitish } from './git.mjs';
import { parseAuth } from './limits.mjs';
import { isAppPrivate, mayRead } from './apps.mjs';

export async function archiveRedirect(ctx, format) {
  const { gitDir, owner, name } = ctx.repo;
  const ref = ctx.route.arg || 'HEAD';
  const sha = (await isEmptyRepo(gitDir)) ? null : await resolveCommitish(gitDir, ref);
  if (!sha) throw notFound();
  let location = `${ctx.baseUrl}/_codeload/${owner}/${name}/${format}/${sha}`;
  if (ctx.emu.options.tokens !== null || isAppPrivate(ctx.emu, owner, name)) {
    // Like GitHub's signed codeload URLs for private repos: a one-off token.
    const t = crypto.randomBytes(12).toString('hex');
    ctx.emu.codeloadTokens.set(t, { repo: `${owner}/${name}`, expires: Date.now() + 5 * 60_000 });
    location += `?token=${t}`;
  }
  return { status: 302, body: Buffer.alloc(0), contentType: 'text/html;charset=utf-8', headers: { location } };
}

/**
 * GET /_codeload/{owner}/{repo}/{format}/{sha}: the archive itself. A tarball streams as
 * `git archive` writes it, gzipped on the way, as codeload does (a 300,000-file archive
 * buffered whole would keep its first byte back for longer than a client waits); a zip is
 * buffered. Returns { status, body | stream, contentType, headers }.
 */
export async function codeload(emu, req, url, route) {
  const repo = locateRepo(emu.root, route.owner, route.repo);
  if (!repo) throw notFound();
  if (emu.options.tokens !== null || isAppPrivate(emu, repo.owner, repo.name)) {
    const t = url.searchParams.get('token');
    const grant = t && emu.codeloadTokens.get(t);
    const auth = parseAuth(emu, req);
    const granted = grant && grant.expires > Date.now() && grant.repo === `${repo.owner}/${repo.name}`;
    const ok = granted || (auth.valid && mayRead(emu, auth, repo.owner, repo.name));
    if (!ok) throw notFound();
  }
  const isZip = route.format === 'legacy.zip' || route.format === 'zip';
  if (!isZip && route.format !== 'legacy.tar.gz' && route.format !== 'tar.gz') throw notFound();
  const sha = (await isEmptyRepo(repo.gitDir)) ? null : await resolveCommitish(repo.gitDir, route.arg);
  if (!sha) throw notFound();
  const prefix = `${repo.owner}-${repo.name}-${sha.slice(0, 7)}/`;
  const filename = `${prefix.slice(0, -1)}.${isZip ? 'zip' : 'tar.gz'}`;
  const headers = { 'content-disposition': `attachment; filename=${filename}` };
  if (isZip) {
    const { stdout } = await runGit(repo.gitDir, ['archive', '--format=zip', `--prefix=${prefix}`, sha]);
    return { status: 200, body: stdout, contentType: 'application/zip', headers };
  }
  const git = spawn('git', [`--git-dir=${repo.gitDir}`, 'archive', '--format=tar', `--prefix=${prefix}`, sha], { env: GIT_ENV, stdio: ['ignore', 'pipe', 'ignore'] });
  const stream = git.stdout.pipe(zlib.createGzip());
  git.on('error', (e) => stream.destroy(e));
  return { status: 200, stream, contentType: 'application/x-gzip', headers };
}
