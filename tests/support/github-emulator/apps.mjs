// GitHub Apps: one configured app (its id and RSA public key), its installations (account,
// repository selection, the repositories each reaches, suspended or not) and the
// installation tokens it has minted. Owns emu.app: JWT verification with real RS256
// crypto and GitHub's error messages, token minting with a lifetime a test can shorten,
// which repositories a token reaches, and the three App endpoints.

import crypto from 'node:crypto';
import { HttpError, notFound } from './http.mjs';
import { locateRepo, defaultBranch } from './git.mjs';
import { nowSeconds, stableId } from './format.mjs';

const JWT_UNREADABLE = 'A JSON web token could not be decoded';
const IAT_RULE = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
const EXP_RULE = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
const EXP_TOO_FAR = "'Expiration time' claim ('exp') is too far in the future";
const ISS_RULE = "'Issuer' claim ('iss') must be an Integer";
/** GitHub accepts an `exp` at most this far ahead. */
const MAX_JWT_LIFETIME_SECONDS = 600;
const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600;

export function freshApps() {
  return {
    id: null,
    publicKey: null,
    installations: new Map(), // id -> { id, account, repositorySelection, repositories: Set(lower full names), suspended }
    tokens: new Map(), // token -> { installationId, expiresAt (ms) }
    privateRepositories: new Set(), // lower full names only installation tokens may see
    tokenLifetimeSeconds: DEFAULT_TOKEN_LIFETIME_SECONDS,
    tokenLength: 40,
    jwtClaims: [], // the claims of the JWTs accepted, newest last (the last 50), with when
  };
}

/** setOption's App options; returns false for a name that is not one of them. */
export function setAppOption(emu, name, value) {
  const apps = emu.apps;
  switch (name) {
    case 'app':
      apps.id = value.id;
      apps.publicKey = crypto.createPublicKey(value.publicKey);
      return true;
    case 'installation': {
      const installation = {
        id: value.id,
        account: value.account,
        repositorySelection: value.repositorySelection ?? 'selected',
        repositories: new Set((value.repositories ?? []).map((r) => r.toLowerCase())),
        suspended: !!value.suspended,
      };
      apps.installations.set(value.id, installation);
      for (const r of value.privateRepositories ?? []) apps.privateRepositories.add(r.toLowerCase());
      return true;
    }
    case 'installationTokenLifetimeSeconds':
      apps.tokenLifetimeSeconds = value ?? DEFAULT_TOKEN_LIFETIME_SECONDS;
      return true;
    case 'installationTokenLength':
      apps.tokenLength = value ?? 40;
      return true;
    case 'revokeInstallationTokens':
      for (const [token, t] of apps.tokens) if (t.installationId === value) apps.tokens.delete(token);
      return true;
    default:
      return false;
  }
}

/** The installation a token belongs to, if it is one of ours and still good. */
export function installationOfToken(emu, token) {
  const t = emu.apps.tokens.get(token);
  if (!t || t.expiresAt <= Date.now()) return null;
  const installation = emu.apps.installations.get(t.installationId);
  return installation && !installation.suspended ? installation : null;
}

export const looksLikeJwt = (token) => /^eyJ[\w-]*\.[\w-]+\.[\w-]+$/.test(token);

/** Whether a credential may read a repository (404 otherwise, as GitHub hides it). */
export function mayRead(emu, auth, owner, name) {
  const full = `${owner}/${name}`.toLowerCase();
  if (auth.kind === 'installation') return auth.installation.repositories.has(full);
  return !emu.apps.privateRepositories.has(full);
}

export const isAppPrivate = (emu, owner, name) => emu.apps.privateRepositories.has(`${owner}/${name}`.toLowerCase());

function decodePart(part) {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new HttpError(401, JWT_UNREADABLE);
  }
}

/** Verifies an app JWT as GitHub does: RS256 over header.claims, then iat, exp and iss. */
export function verifyAppJwt(emu, token) {
  const { apps } = emu;
  const parts = (token ?? '').split('.');
  if (!apps.publicKey || parts.length !== 3) throw new HttpError(401, JWT_UNREADABLE);
  const header = decodePart(parts[0]);
  const claims = decodePart(parts[1]);
  if (header.alg !== 'RS256') throw new HttpError(401, JWT_UNREADABLE);
  const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
  const signature = Buffer.from(parts[2], 'base64url');
  if (!crypto.verify('RSA-SHA256', signed, apps.publicKey, signature)) throw new HttpError(401, JWT_UNREADABLE);
  const now = nowSeconds();
  if (!Number.isInteger(claims.iat) || claims.iat > now) throw new HttpError(401, IAT_RULE);
  if (typeof claims.exp !== 'number' || claims.exp <= now) throw new HttpError(401, EXP_RULE);
  if (claims.exp > now + MAX_JWT_LIFETIME_SECONDS) throw new HttpError(401, EXP_TOO_FAR);
  if (!/^\d+$/.test(String(claims.iss))) throw new HttpError(401, ISS_RULE);
  if (String(claims.iss) !== String(apps.id)) throw new HttpError(401, JWT_UNREADABLE);
  apps.jwtClaims.push({ ...claims, receivedAt: now });
  if (apps.jwtClaims.length > 50) apps.jwtClaims.shift();
}

function installationOf(emu, rawId) {
  const installation = emu.apps.installations.get(Number(rawId));
  if (!installation) throw notFound();
  return installation;
}

function installationJson(ctx, installation) {
  const api = ctx.baseUrl;
  return {
    id: installation.id,
    account: { login: installation.account, id: stableId(installation.account), type: 'Organization' },
    repository_selection: installation.repositorySelection,
    access_tokens_url: `${api}/app/installations/${installation.id}/access_tokens`,
    repositories_url: `${api}/installation/repositories`,
    app_id: ctx.emu.apps.id,
    target_type: 'Organization',
    permissions: { contents: 'read', metadata: 'read' },
    events: ['push'],
    suspended_at: installation.suspended ? new Date().toISOString() : null,
  };
}

function mint(emu, installation) {
  const { apps } = emu;
  const body = crypto.randomBytes(Math.ceil(apps.tokenLength)).toString('base64url').replace(/[-_]/g, 'x');
  const token = `ghs_${body}`.slice(0, Math.max(8, apps.tokenLength));
  const expiresAt = Date.now() + apps.tokenLifetimeSeconds * 1000;
  apps.tokens.set(token, { installationId: installation.id, expiresAt });
  return { token, expiresAt };
}

/** Handlers of the App endpoints (ctx as in endpoints.mjs; ctx.auth is the parsed credential). */
export const appHandlers = {
  async appInstallation(ctx) {
    verifyAppJwt(ctx.emu, ctx.auth.token);
    return { status: 200, body: installationJson(ctx, installationOf(ctx.emu, ctx.route.arg)) };
  },

  async appAccessToken(ctx) {
    verifyAppJwt(ctx.emu, ctx.auth.token);
    const installation = installationOf(ctx.emu, ctx.route.arg);
    if (installation.suspended) throw new HttpError(403, 'This installation has been suspended');
    const { token, expiresAt } = mint(ctx.emu, installation);
    return {
      status: 201,
      body: {
        token,
        expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        permissions: { contents: 'read', metadata: 'read' },
        repository_selection: installation.repositorySelection,
      },
    };
  },

  async installationRepositories(ctx) {
    const installation = ctx.auth.kind === 'installation' ? ctx.auth.installation : null;
    if (!installation) {
      throw new HttpError(403, 'You must authenticate with an installation access token in order to list repositories for an installation.');
    }
    const q = ctx.url.searchParams;
    const perPage = Math.min(Math.max(parseInt(q.get('per_page') ?? '30', 10) || 30, 1), 100);
    const page = Math.max(parseInt(q.get('page') ?? '1', 10) || 1, 1);
    const names = [...installation.repositories].sort();
    const slice = names.slice((page - 1) * perPage, page * perPage);
    const repositories = [];
    for (const full of slice) {
      const [owner, name] = full.split('/');
      const repo = locateRepo(ctx.emu.root, owner, name);
      repositories.push({
        id: stableId(full),
        name: repo?.name ?? name,
        full_name: repo ? `${repo.owner}/${repo.name}` : full,
        owner: { login: repo?.owner ?? owner },
        private: isAppPrivate(ctx.emu, owner, name),
        default_branch: repo ? (await defaultBranch(repo.gitDir)) ?? 'main' : 'main',
      });
    }
    return { status: 200, body: { total_count: names.length, repository_selection: installation.repositorySelection, repositories } };
  },
};

export const APP_ROUTES = new Set(['appInstallation', 'appAccessToken']);
