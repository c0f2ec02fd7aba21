// GitHub push webhooks as GitHub sends them: its own example payload (npm
// @octokit/webhooks-examples) pointed at a test repository, signed by @octokit/webhooks-methods
// and posted with GitHub's headers. Shared by the webhook and placement tests.

import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { sign } from '@octokit/webhooks-methods';

const examples = createRequire(import.meta.url)('@octokit/webhooks-examples');

/** GitHub's example push to a branch, pointed at `fullName`'s main and grown to `bytes`. */
export function pushPayload({ after, fullName, bytes = 0 }) {
  const example = examples.find((e) => e.name === 'push').examples.find((x) => x.ref?.startsWith('refs/heads/') && x.commits?.length);
  const payload = structuredClone(example);
  payload.ref = 'refs/heads/main';
  payload.after = after;
  payload.head_commit = { ...payload.head_commit, id: after };
  const [owner, name] = fullName.split('/');
  payload.repository = { ...payload.repository, full_name: fullName, name, owner: { ...payload.repository.owner, login: owner, name: owner } };
  const commit = payload.commits[0];
  // A large push lists many commits (GitHub sends up to 2,048 of them, and 25 MB).
  while (JSON.stringify(payload).length < bytes) {
    payload.commits.push({ ...commit, id: crypto.randomBytes(20).toString('hex'), message: `commit ${payload.commits.length}\n\n${'x'.repeat(900)}` });
  }
  return JSON.stringify(payload);
}

/**
 * GitHub's example App event (`installation` or `installation_repositories`) with `action`,
 * pointed at `installationId`; `removed` (full names) replaces the removed repositories;
 * `at` (a Date) is when GitHub changed it: `updated_at` with an offset as GitHub writes it,
 * and `suspended_at` in UTC for a suspension.
 */
export function installationPayload(event, action, { installationId, removed, at }) {
  const example = examples.find((e) => e.name === event).examples.find((x) => x.action === action);
  const payload = structuredClone(example);
  payload.installation = { ...payload.installation, id: installationId };
  if (at) {
    // GitHub's form, e.g. 2021-04-28T22:32:50.000-04:00: the same instant at UTC-4.
    const local = new Date(at.getTime() - 4 * 3600_000).toISOString().replace('Z', '-04:00');
    payload.installation.updated_at = local;
    if (action === 'suspend') payload.installation.suspended_at = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  if (removed) {
    payload.repositories_removed = removed.map((fullName) => ({ ...(example.repositories_removed?.[0] ?? {}), full_name: fullName, name: fullName.split('/')[1] }));
  }
  return JSON.stringify(payload);
}

/** POST `raw` to the worker's webhook as GitHub would; returns { res, ms, delivery }. */
export async function deliverPush(world, secret, raw, { delivery = crypto.randomUUID(), event = 'push' } = {}) {
  const signature = await sign(secret, raw);
  const started = Date.now();
  const res = await world.api('POST', '/api/v1/webhooks/github', {
    body: raw,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/044aadd',
      'x-github-event': event,
      'x-github-delivery': delivery,
      'x-hub-signature-256': signature,
    },
  });
  return { res, ms: Date.now() - started, delivery };
}
