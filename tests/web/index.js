// `node --test tests/web/` hands this directory to Node as one module (Node 22 does not
// expand a directory argument), and a directory resolves to its index.js: this file loads
// every *.test.mjs next to it, so that command runs them all. `node --test
// tests/web/*.test.mjs` runs the same tests one file per process.
import { readdirSync } from 'node:fs';

const here = new URL('./', import.meta.url);
for (const name of readdirSync(here).filter((n) => n.endsWith('.test.mjs')).sort()) {
  await import(new URL(name, here).href);
}
