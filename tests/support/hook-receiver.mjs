// A loopback HTTP server that receives hook deliveries: it keeps every request (method,
// path, headers, raw body, time) and answers what a test scripts per path (a status list,
// one per request, the last repeating; 204 when nothing is scripted).

import http from 'node:http';

export async function startHookReceiver() {
  const received = [];
  const scripts = new Map();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      received.push({ method: req.method, path: req.url, headers: req.headers, raw, at: Date.now() });
      const script = scripts.get(req.url) ?? [204];
      const status = script.length > 1 ? script.shift() : script[0];
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status < 300 ? 'ok' : 'no');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    /** Answers `statuses` in turn to requests for `path` (the last one from then on). */
    script: (path, statuses) => scripts.set(path, [...statuses]),
    received: (path) => received.filter((r) => !path || r.path === path),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort() {
  const s = http.createServer();
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}
