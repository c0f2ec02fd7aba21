// The dashboard's one route, #/projects/<id>: pure, so `node --test` can import it.

/** The project id in a location hash, or null. */
export function projectIdFromHash(hash) {
  const m = /^#\/projects\/([^/?#]+)/.exec(hash);
  return m ? decodeURIComponent(m[1]) : null;
}

/** The hash that opens project `id`. */
export function projectHash(id) {
  return `#/projects/${encodeURIComponent(id)}`;
}
