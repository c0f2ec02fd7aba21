// A GitHub App for tests: an RSA key pair (the private key in both PEM forms GitHub's
// users meet: PKCS#1 as GitHub hands it out, and PKCS#8), JWTs signed with it, and the
// emulator configured with the app and its installations.

import crypto from 'node:crypto';

/** A fresh 2048-bit key pair: { pkcs1, pkcs8, publicKey } as PEM strings. */
export function makeAppKeys() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    pkcs1: privateKey.export({ type: 'pkcs1', format: 'pem' }),
    pkcs8: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }),
  };
}

/** An RS256 JWT over `claims` (header and claims as given, so tests can break them). */
export function signJwt(privatePem, claims, header = { alg: 'RS256', typ: 'JWT' }) {
  const part = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${part(header)}.${part(claims)}`;
  const signature = crypto.sign('RSA-SHA256', Buffer.from(input), privatePem).toString('base64url');
  return `${input}.${signature}`;
}

/** The claims GitHub asks for, `now` in epoch seconds. */
export function appClaims(appId, now = Math.floor(Date.now() / 1000)) {
  return { iat: now - 60, exp: now + 540, iss: appId };
}

/** Configures the emulator (in this process) with the app and its installations. */
export function installApp(emulator, { appId, keys, installations = [] }) {
  emulator.setOption('app', { id: appId, publicKey: keys.publicKey });
  for (const installation of installations) emulator.setOption('installation', installation);
}
