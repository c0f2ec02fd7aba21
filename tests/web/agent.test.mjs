// Unit test of web/js/agent.js's client configuration (no DOM). Run: node --test tests/web/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientConfig } from '../../web/js/agent.js';

test('the client configuration names the endpoint over HTTP with a bearer placeholder, never a token', () => {
  const config = JSON.parse(clientConfig('https://sync.example.com/mcp'));
  const server = config.mcpServers['project-sync'];
  assert.deepEqual(Object.keys(config.mcpServers), ['project-sync']);
  assert.equal(server.type, 'http');
  assert.equal(server.url, 'https://sync.example.com/mcp');
  assert.match(server.headers.Authorization, /^Bearer <[^>]+>$/, 'a placeholder where the token goes');
});
