// The memory card: full-text search over the project's synced text, the matching words
// marked in each result (as text nodes and <mark>s: nothing the server sends is markup).
//
// Listens: project-opening (empties), project-opened.

import { within, el, show, showError } from './dom.js';
import { highlightSegments } from './format.js';

const RESULTS = 20;

export class MemorySearch {
  #$; // finds an element by id inside this view's own element, never outside it
  #api;
  #project = null;
  #signal = null;
  #results;
  #errorBox;

  constructor(root, { api, bus }) {
    this.#$ = within(root);
    this.#results = this.#$('memory-results');
    this.#errorBox = this.#$('memory-error');
    this.#api = api;
    this.#$('memory-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.#search();
    });
    bus.on('project-opening', ({ signal }) => {
      this.#project = null;
      this.#signal = signal;
      this.#results.replaceChildren();
      this.#$('memory-q').value = '';
      show(this.#$('memory-empty'), false);
      showError(this.#errorBox, null);
    });
    bus.on('project-opened', ({ project, signal }) => {
      this.#project = project;
      this.#signal = signal;
    });
  }

  async #search() {
    const p = this.#project;
    const q = this.#$('memory-q').value.trim();
    if (!p || !q) return;
    const signal = this.#signal;
    let page;
    try {
      page = await this.#api.searchMemory(p.id, { q, limit: RESULTS, signal });
    } catch (err) {
      if (!signal.aborted) showError(this.#errorBox, err, 'The search failed.');
      return;
    }
    if (signal.aborted) return;
    showError(this.#errorBox, null);
    this.#results.replaceChildren(...page.items.map((m) => el('li', { className: 'memory-hit', dataset: { path: m.path } },
      el('div', { className: 'memory-path' }, el('code', { text: m.path }), el('span', { className: 'muted small', text: ` · chunk ${m.chunk}` })),
      el('pre', { className: 'memory-text' }, highlightSegments(m.text, q).map((s) => (s.match ? el('mark', { text: s.text }) : s.text))))));
    show(this.#$('memory-empty'), page.items.length === 0);
  }
}
