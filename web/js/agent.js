// The "Connect an agent" card: the MCP endpoint of this very page's origin and a client
// configuration to paste into an MCP client (Claude Code, Cursor, an SDK), with a
// placeholder where the user's token goes. The token itself is never written into it: the
// configuration is meant to be copied elsewhere, and the token stays in this browser.
//
// Listens: nothing. Emits: nothing.

import { within } from './dom.js';

/** The client configuration for `endpoint`, as MCP clients read it (`mcpServers`). */
export function clientConfig(endpoint) {
  const server = { type: 'http', url: endpoint, headers: { Authorization: 'Bearer <your Project Sync token>' } };
  return JSON.stringify({ mcpServers: { 'project-sync': server } }, null, 2);
}

export class AgentCard {
  #$;
  #config;
  #status;

  constructor(root, { origin = window.location.origin } = {}) {
    this.#$ = within(root);
    const endpoint = `${origin}/mcp`;
    this.#$('agent-endpoint').textContent = endpoint;
    this.#config = clientConfig(endpoint);
    this.#$('agent-config').textContent = this.#config;
    this.#status = this.#$('agent-copy-status');
    this.#$('agent-copy').addEventListener('click', () => this.#copy());
  }

  async #copy() {
    try {
      await navigator.clipboard.writeText(this.#config);
      this.#status.textContent = 'Copied. Replace the placeholder with your token.';
    } catch {
      // No clipboard (an insecure origin, a refused permission): select it for a manual copy.
      const range = document.createRange();
      range.selectNodeContents(this.#$('agent-config'));
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      this.#status.textContent = 'Selected: copy it with your keyboard.';
    }
  }
}
