// The dev command's configuration (issue 19, defect 12): a multi-line App key given in the
// environment is folded onto one line of the env file (it used to end the line and break
// the file, so every grant answered 500), the [vars] overrides pass through from the
// environment, and a value that cannot be used is refused with a sentence before anything
// starts. `scripts/dev --print-config` shows what wrangler would be given and starts nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_DIR } from '../support/harness.mjs';

function dev(env) {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ps-dev-'));
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(GITHUB_|MAX_TEXT|REAPER|HOOK_RETRY|PROJECT_DATABASES|ADMIN_TOKEN)/.test(k)));
  const run = spawnSync('bash', ['scripts/dev', '--print-config'], { cwd: PROJECT_DIR, env: { ...clean, STATE_DIR: stateDir, ...env }, encoding: 'utf8' });
  const file = path.join(stateDir, 'dev-secrets.env');
  const envFile = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  fs.rmSync(stateDir, { recursive: true, force: true });
  return { ...run, envFile, args: run.stdout.split('\n').filter((l) => l.startsWith('arg: ')).map((l) => l.slice(5)) };
}

const KEY = '-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\nKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==\n-----END RSA PRIVATE KEY-----\n';

test('a multi-line App key in the environment becomes one line of the env file', () => {
  const run = dev({ GITHUB_APP_ID: '1234', GITHUB_APP_PRIVATE_KEY: KEY });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.envFile.split('\n').filter(Boolean);
  for (const line of lines) assert.match(line, /^[A-Z_]+=/, `every line of the env file is NAME=value: ${JSON.stringify(line)}`);
  const keyLine = lines.find((l) => l.startsWith('GITHUB_APP_PRIVATE_KEY='));
  assert.equal(keyLine, `GITHUB_APP_PRIVATE_KEY=${KEY.replaceAll('\n', '\\n')}`);
  assert.ok(lines.includes('GITHUB_APP_ID=1234'));
  // A key with Windows line ends is folded the same way.
  const crlf = dev({ GITHUB_APP_PRIVATE_KEY: KEY.replaceAll('\n', '\r\n') });
  assert.equal(crlf.envFile.split('\n').find((l) => l.startsWith('GITHUB_APP_PRIVATE_KEY=')), keyLine);
});

test('[vars] overrides pass through from the environment', () => {
  const run = dev({
    MAX_TEXT_BYTES: '2048',
    REAPER_GRACE_MS: '1000',
    HOOK_RETRY_BASE_MS: '50',
    HOOK_DELIVERIES_KEPT: '3',
    HOOK_DELIVERIES_KEPT_MS: '12000',
    PROJECT_DATABASES: 'DB,DB2',
  });
  assert.equal(run.status, 0, run.stderr);
  const given = ['MAX_TEXT_BYTES:2048', 'REAPER_GRACE_MS:1000', 'HOOK_RETRY_BASE_MS:50', 'HOOK_DELIVERIES_KEPT:3', 'HOOK_DELIVERIES_KEPT_MS:12000'];
  for (const v of [...given, 'PROJECT_DATABASES:DB,DB2']) {
    const at = run.args.indexOf(v);
    assert.ok(at > 0 && run.args[at - 1] === '--var', `--var ${v} in ${run.args.join(' ')}`);
  }
  const none = dev({});
  assert.ok(!none.args.some((a) => a.startsWith('MAX_TEXT_BYTES')), 'unset: wrangler.toml decides');
});

test('values that cannot be used are refused with a sentence', () => {
  for (const [env, says] of [
    [{ MAX_TEXT_BYTES: '1MB' }, /MAX_TEXT_BYTES must be a whole number/],
    [{ REAPER_GRACE_MS: '-5' }, /REAPER_GRACE_MS must be a whole number/],
    [{ HOOK_DELIVERIES_KEPT_MS: '30d' }, /HOOK_DELIVERIES_KEPT_MS must be a whole number/],
    [{ PROJECT_DATABASES: 'DB, DB2' }, /PROJECT_DATABASES must be binding names/],
    [{ GITHUB_TOKEN: 'ghp_a\nghp_b' }, /GITHUB_TOKEN spans several lines/],
    [{ ADMIN_TOKEN: 'x\ny' }, /ADMIN_TOKEN spans several lines/],
    [{ GITHUB_APP_PRIVATE_KEY_FILE: '/nonexistent/key.pem' }, /GITHUB_APP_PRIVATE_KEY_FILE .* cannot be read/],
  ]) {
    const run = dev(env);
    assert.equal(run.status, 2, `${JSON.stringify(env)}: ${run.stdout}`);
    assert.match(run.stderr, says);
    assert.equal(run.envFile, '', `${JSON.stringify(env)}: nothing written`);
  }
});
