// Pure value formatting for GitHub-shaped payloads.
// Owns: stable ids and node_ids, Ruby-style base64, ISO dates, epoch seconds
// and GitHub's byte-order name sorting. No I/O and no state.

import crypto from 'node:crypto';

/** Stable positive integer id derived from a string (repo ids, owner ids). */
export function stableId(s) {
  return (parseInt(crypto.createHash('sha256').update(s).digest('hex').slice(0, 8), 16) % 900_000_000) + 1000;
}

/** GitHub-style node_id (opaque; only needs to be stable). */
export function nodeId(kind, s) {
  return `${kind}_${Buffer.from(String(s)).toString('base64url')}`;
}

/** Ruby's Base64.encode64 as used by GitHub: a "\n" after every 60 chars and at the end. */
export function encode64(buf) {
  const b64 = buf.toString('base64');
  let out = '';
  for (let i = 0; i < b64.length; i += 60) out += b64.slice(i, i + 60) + '\n';
  return out;
}

/** Epoch seconds (+ tz offset, ignored) -> "2026-01-01T00:00:00Z". */
export function isoDate(epochSeconds) {
  return new Date(Number(epochSeconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Byte-order comparison of two strings (GitHub sorts names by bytes). */
export function byteCompare(a, b) {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
