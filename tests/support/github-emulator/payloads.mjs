// GitHub JSON shapes built from repository data: repository, commit (REST and
// git-data flavours) and ref objects, with their api / html URLs.
// `ctx` is a handler context for a repository route (see request.mjs).

import { readCommit } from './git.mjs';
import { stableId, nodeId, isoDate } from './format.mjs';

export function repoUrls(ctx) {
  return {
    api: `${ctx.apiBase}/repos/${ctx.repo.owner}/${ctx.repo.name}`,
    html: `${ctx.webBase}/${ctx.repo.owner}/${ctx.repo.name}`,
  };
}

/** The verification object of a commit: nothing is ever verified here. */
function verificationJson(c) {
  return { verified: false, reason: c.signed ? 'unknown_key' : 'unsigned', signature: null, payload: null, verified_at: null };
}

/** GET /repos/{o}/{r}/commits/{ref} shape (also nested in a branch answer). */
export async function commitJson(ctx, sha) {
  const c = await readCommit(ctx.repo.gitDir, sha);
  const { api, html } = repoUrls(ctx);
  return {
    sha,
    node_id: nodeId('C', sha),
    commit: {
      author: c.author,
      committer: c.committer,
      message: c.message,
      tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
      url: `${api}/git/commits/${sha}`,
      comment_count: 0,
      verification: verificationJson(c),
    },
    url: `${api}/commits/${sha}`,
    html_url: `${html}/commit/${sha}`,
    comments_url: `${api}/commits/${sha}/comments`,
    author: null,
    committer: null,
    parents: c.parents.map((p) => ({ sha: p, url: `${api}/commits/${p}`, html_url: `${html}/commit/${p}` })),
  };
}

/** GET /repos/{o}/{r}/git/commits/{sha} shape, from a parsed commit. */
export function gitCommitJson(ctx, sha, c) {
  const { api, html } = repoUrls(ctx);
  return {
    sha,
    node_id: nodeId('C', sha),
    url: `${api}/git/commits/${sha}`,
    html_url: `${html}/commit/${sha}`,
    author: c.author,
    committer: c.committer,
    tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
    message: c.message,
    parents: c.parents.map((p) => ({ sha: p, url: `${api}/git/commits/${p}`, html_url: `${html}/commit/${p}` })),
    verification: verificationJson(c),
  };
}

export function refJson(ctx, refname, { sha, type }) {
  const { api } = repoUrls(ctx);
  const objUrl = type === 'tag' ? `${api}/git/tags/${sha}` : type === 'commit' ? `${api}/git/commits/${sha}` : `${api}/git/${type}s/${sha}`;
  return {
    ref: refname,
    node_id: nodeId('REF', `${ctx.repo.owner}/${ctx.repo.name}:${refname}`),
    url: `${api}/git/${refname}`,
    object: { sha, type, url: objUrl },
  };
}

/** GET /repos/{o}/{r} shape. */
export function repoJson(ctx, isPrivate, defaultBranch) {
  const { owner, name } = ctx.repo;
  const { api, html } = repoUrls(ctx);
  const fullName = `${owner}/${name}`;
  const stamp = isoDate(0);
  return {
    id: stableId(fullName),
    node_id: nodeId('R', fullName),
    name,
    full_name: fullName,
    private: isPrivate,
    owner: {
      login: owner,
      id: stableId(owner),
      node_id: nodeId('U', owner),
      avatar_url: `${ctx.webBase}/${owner}.png`,
      url: `${ctx.apiBase}/users/${owner}`,
      html_url: `${ctx.webBase}/${owner}`,
      type: 'User',
      site_admin: false,
    },
    html_url: html,
    description: null,
    fork: false,
    url: api,
    branches_url: `${api}/branches{/branch}`,
    commits_url: `${api}/commits{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    git_commits_url: `${api}/git/commits{/sha}`,
    trees_url: `${api}/git/trees{/sha}`,
    blobs_url: `${api}/git/blobs{/sha}`,
    archive_url: `${api}/{archive_format}{/ref}`,
    created_at: stamp,
    updated_at: stamp,
    pushed_at: stamp,
    git_url: `git://${ctx.host}/${fullName}.git`,
    ssh_url: `git@${ctx.host}:${fullName}.git`,
    clone_url: `${ctx.webBase}/${fullName}.git`,
    size: 0,
    default_branch: defaultBranch,
    visibility: isPrivate ? 'private' : 'public',
    archived: false,
    disabled: false,
    has_issues: false,
    has_wiki: false,
    is_template: false,
    permissions: { admin: false, maintain: false, push: false, triage: false, pull: true },
  };
}
