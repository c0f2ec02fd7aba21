// The REST endpoint handlers, keyed by route name (see routes.mjs).
// Each takes a handler context ctx = { emu, req, url, route, bucket, baseUrl,
// and for repository routes repo, host, apiBase, webBase } and returns
// { status, body, headers?, contentType? }; body may be an object (sent as JSON) or a Buffer.

import { HttpError, notFound, emptyRepository } from './http.mjs';
import {
  HEX_SHA_RE, runGit, listRefs, isEmptyRepo, objectInfo, peel, resolveCommitish, readCommit,
  lsTreeCached, parseLsTree, defaultBranch,
} from './git.mjs';
import { nodeId, encode64, byteCompare } from './format.mjs';
import { repoUrls, commitJson, gitCommitJson, refJson, repoJson } from './payloads.mjs';
import { archiveRedirect } from './archives.mjs';
import { isAppPrivate } from './apps.mjs';

/** per_page (default 30, at most 100) and page (default 1) query parameters. */
function pageParams(q) {
  let perPage = parseInt(q.get('per_page') ?? '', 10);
  if (!(perPage > 0)) perPage = 30;
  perPage = Math.min(perPage, 100);
  let page = parseInt(q.get('page') ?? '', 10);
  if (!(page > 0)) page = 1;
  return { perPage, page };
}

/** The Link header of a paginated answer, in GitHub's order: prev, next, last, first. */
function linkHeader(ctx, page, lastPage, perPage) {
  const link = (p, rel) => {
    const u = new URL(ctx.url.href);
    u.searchParams.delete('per_page');
    u.searchParams.delete('page');
    u.searchParams.append('per_page', String(perPage));
    u.searchParams.append('page', String(p));
    return `<${u.href}>; rel="${rel}"`;
  };
  const parts = [];
  if (page > 1) parts.push(link(Math.min(page - 1, lastPage), 'prev'));
  if (page < lastPage) parts.push(link(page + 1, 'next'), link(lastPage, 'last'));
  if (page > 1) parts.push(link(1, 'first'));
  return parts.join(', ');
}

/** Refs under a prefix, in byte order. */
function refsUnder(all, prefix) {
  return [...all.entries()].filter(([r]) => r.startsWith(prefix)).sort((a, b) => byteCompare(a[0], b[0]));
}

export const handlers = {
  async repo(ctx) {
    const isPrivate = ctx.emu.options.tokens !== null || isAppPrivate(ctx.emu, ctx.repo.owner, ctx.repo.name);
    return { status: 200, body: repoJson(ctx, isPrivate, await defaultBranch(ctx.repo.gitDir)) };
  },

  async branches(ctx) {
    const { gitDir } = ctx.repo;
    const q = ctx.url.searchParams;
    const { perPage, page } = pageParams(q);
    const { api } = repoUrls(ctx);
    let names = [...(await listRefs(gitDir, ['refs/heads'])).entries()].map(([ref, v]) => ({
      name: ref.slice('refs/heads/'.length),
      sha: v.sha,
    }));
    if (q.get('protected') === 'true') names = []; // nothing is protected here
    names.sort((a, b) => byteCompare(a.name, b.name));
    const lastPage = Math.max(1, Math.ceil(names.length / perPage));
    const items = names.slice((page - 1) * perPage, page * perPage).map((b) => ({
      name: b.name,
      commit: { sha: b.sha, url: `${api}/commits/${b.sha}` },
      protected: false,
    }));
    const headers = {};
    if (lastPage > 1) headers.link = linkHeader(ctx, page, lastPage, perPage);
    return { status: 200, body: items, headers };
  },

  async branch(ctx) {
    const { gitDir, owner, name } = ctx.repo;
    if (await isEmptyRepo(gitDir)) throw emptyRepository();
    const branchName = ctx.route.arg;
    const hit = (await listRefs(gitDir, ['refs/heads'])).get(`refs/heads/${branchName}`);
    if (!hit) throw notFound('Branch not found');
    const { api, html } = repoUrls(ctx);
    const encoded = branchName.split('/').map(encodeURIComponent).join('/');
    return {
      status: 200,
      body: {
        name: branchName,
        commit: await commitJson(ctx, hit.sha),
        _links: { self: `${api}/branches/${encoded}`, html: `${ctx.webBase}/${owner}/${name}/tree/${encoded}` },
        protected: false,
        protection: { enabled: false, required_status_checks: { enforcement_level: 'off', contexts: [], checks: [] } },
        protection_url: `${api}/branches/${encoded}/protection`,
        html_url: `${html}/tree/${encoded}`,
      },
    };
  },

  async ref(ctx) {
    const { gitDir } = ctx.repo;
    if (await isEmptyRepo(gitDir)) throw emptyRepository();
    const refname = `refs/${ctx.route.arg.replace(/^refs\//, '')}`;
    const hit = (await listRefs(gitDir)).get(refname);
    if (!hit) throw notFound();
    return { status: 200, body: refJson(ctx, refname, hit) };
  },

  // Legacy GET /git/refs/{ref}: exact match -> object, else prefix matches -> array.
  async refs(ctx) {
    const { gitDir } = ctx.repo;
    if (await isEmptyRepo(gitDir)) throw emptyRepository();
    const all = await listRefs(gitDir);
    const arg = ctx.route.arg.replace(/^refs\//, '');
    const refname = arg ? `refs/${arg}` : 'refs/';
    if (arg && all.has(refname)) return { status: 200, body: refJson(ctx, refname, all.get(refname)) };
    const matches = refsUnder(all, refname);
    if (!matches.length) throw notFound();
    return { status: 200, body: matches.map(([r, v]) => refJson(ctx, r, v)) };
  },

  async matchingRefs(ctx) {
    const { gitDir } = ctx.repo;
    if (await isEmptyRepo(gitDir)) throw emptyRepository();
    const prefix = `refs/${ctx.route.arg.replace(/^refs\//, '')}`;
    const all = await listRefs(gitDir);
    const matches = refsUnder(all, prefix);
    return { status: 200, body: matches.map(([r, v]) => refJson(ctx, r, v)) };
  },

  async commit(ctx) {
    const { gitDir } = ctx.repo;
    if (await isEmptyRepo(gitDir)) throw emptyRepository();
    const ref = ctx.route.arg;
    const sha = await resolveCommitish(gitDir, ref);
    // GitHub answers an unknown ref on this endpoint with 422, not 404.
    if (!sha) throw new HttpError(422, `No commit found for SHA: ${ref}`);
    if (/application\/vnd\.github(?:\.v3)?\.sha/i.test(ctx.req.headers.accept ?? '')) {
      return {
        status: 200,
        body: Buffer.from(sha),
        contentType: 'application/vnd.github.sha; charset=utf-8',
        headers: { 'x-github-media-type': 'github.v3; param=sha' },
      };
    }
    return { status: 200, body: await commitJson(ctx, sha) };
  },

  async gitCommit(ctx) {
    const { gitDir } = ctx.repo;
    if (await isEmptyRepo(gitDir)) throw emptyRepository();
    const sha = ctx.route.arg.toLowerCase();
    const info = await objectInfo(gitDir, sha);
    if (!info || info.type !== 'commit') throw notFound();
    const c = await readCommit(gitDir, sha);
    return { status: 200, body: gitCommitJson(ctx, sha, c) };
  },

  async tree(ctx) {
    const { gitDir } = ctx.repo;
    if (await isEmptyRepo(gitDir)) throw emptyRepository();
    const treeish = ctx.route.arg;
    let treeSha = null;
    if (HEX_SHA_RE.test(treeish)) treeSha = await peel(gitDir, treeish, 'tree');
    if (!treeSha) {
      const commit = await resolveCommitish(gitDir, treeish, { allowAbbrev: false });
      if (commit) treeSha = (await readCommit(gitDir, commit)).tree;
    }
    if (!treeSha) throw notFound();
    const recursive = ctx.url.searchParams.has('recursive'); // any value, even 0/false
    const stdout = await lsTreeCached(gitDir, treeSha, recursive);
    const { api } = repoUrls(ctx);
    const { entries, truncated } = parseLsTree(stdout, api, ctx.emu.options.maxTreeEntries);
    return { status: 200, body: { sha: treeSha, url: `${api}/git/trees/${treeSha}`, tree: entries, truncated } };
  },

  async blob(ctx) {
    const { gitDir } = ctx.repo;
    if (await isEmptyRepo(gitDir)) throw emptyRepository();
    const sha = ctx.route.arg.toLowerCase();
    const info = await objectInfo(gitDir, sha);
    if (!info || info.type !== 'blob') throw notFound();
    const { stdout } = await runGit(gitDir, ['cat-file', 'blob', sha]);
    const accept = ctx.req.headers.accept ?? '';
    if (/application\/vnd\.github(?:\.v3)?\.raw/i.test(accept)) {
      return {
        status: 200,
        body: stdout,
        contentType: 'application/vnd.github.raw',
        headers: { 'x-github-media-type': 'github.v3; param=raw' },
      };
    }
    const { api } = repoUrls(ctx);
    return {
      status: 200,
      body: { sha, node_id: nodeId('B', sha), size: info.size, url: `${api}/git/blobs/${sha}`, content: encode64(stdout), encoding: 'base64' },
    };
  },

  async tarball(ctx) {
    return archiveRedirect(ctx, 'legacy.tar.gz');
  },

  async zipball(ctx) {
    return archiveRedirect(ctx, 'legacy.zip');
  },

  async rateLimit(ctx) {
    const b = ctx.bucket;
    const res = { limit: b.limit, used: b.limit - b.remaining, remaining: b.remaining, reset: b.reset };
    return { status: 200, body: { resources: { core: res }, rate: res } };
  },
};
