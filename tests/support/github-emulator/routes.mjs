// Routing: decoding a request path into segments and matching them to a named
// route ({ name, owner, repo, arg }). ROUTE_NAMES is the public list of names
// used in stats().byRoute, the request log and fault specs.

/** Route names used in stats().byRoute, the request log and fault specs. */
export const ROUTE_NAMES = Object.freeze([
  'repo', 'branches', 'branch', 'ref', 'refs', 'matchingRefs', 'commit',
  'gitCommit', 'tree', 'blob', 'tarball', 'zipball', 'codeload', 'rateLimit',
  'appInstallation', 'appAccessToken', 'installationRepositories', 'unknown',
]);
export const ROUTE_NAME_SET = new Set(ROUTE_NAMES);

/** Decode path segments ("%2F" inside a segment becomes "/"). */
export function splitPath(pathname) {
  return pathname
    .split('/')
    .filter((s) => s.length > 0)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}

/** Map decoded path segments to { name, owner, repo, arg }. */
export function matchRoute(segments) {
  const s = segments;
  if (s.length === 1 && s[0] === 'rate_limit') return { name: 'rateLimit' };
  if (s[0] === 'app' && s[1] === 'installations' && s.length === 3) return { name: 'appInstallation', arg: s[2] };
  if (s[0] === 'app' && s[1] === 'installations' && s.length === 4 && s[3] === 'access_tokens') {
    return { name: 'appAccessToken', arg: s[2] };
  }
  if (s.length === 2 && s[0] === 'installation' && s[1] === 'repositories') return { name: 'installationRepositories' };
  if (s[0] === '_codeload' && s.length >= 5) {
    return { name: 'codeload', owner: s[1], repo: s[2], format: s[3], arg: s.slice(4).join('/') };
  }
  if (s[0] !== 'repos' || s.length < 3) return { name: 'unknown' };
  const [, owner, repo, ...rest] = s;
  const r = (name, arg) => ({ name, owner, repo, arg });
  if (rest.length === 0) return r('repo');
  const [a, b] = rest;
  if (a === 'branches') return rest.length === 1 ? r('branches') : r('branch', rest.slice(1).join('/'));
  if (a === 'commits' && rest.length >= 2) return r('commit', rest.slice(1).join('/'));
  if (a === 'tarball') return r('tarball', rest.slice(1).join('/'));
  if (a === 'zipball') return r('zipball', rest.slice(1).join('/'));
  if (a === 'git') {
    if (b === 'ref' && rest.length >= 3) return r('ref', rest.slice(2).join('/'));
    if (b === 'refs') return r('refs', rest.slice(2).join('/'));
    if (b === 'matching-refs') return r('matchingRefs', rest.slice(2).join('/'));
    if (b === 'commits' && rest.length === 3) return r('gitCommit', rest[2]);
    if (b === 'trees' && rest.length >= 3) return r('tree', rest.slice(2).join('/'));
    if (b === 'blobs' && rest.length === 3) return r('blob', rest[2]);
  }
  return { name: 'unknown' };
}
