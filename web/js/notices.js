// The notice line of the sync card (#sync-notice): short messages about what just happened
// (a project created or deleted, a sync already running), gone after a while.
//
// Listens: notice {text} — shows `text` for 12 s; a falsy `text` hides the line now.

import { within, show } from './dom.js';

const NOTICE_MS = 12000;

export class NoticesView {
  #$; // finds an element by id inside this view's own element, never outside it
  #box;
  #timer = null;

  constructor(root, { bus }) {
    this.#$ = within(root);
    this.#box = this.#$('sync-notice');
    bus.on('notice', ({ text }) => (text ? this.#flash(text) : show(this.#box, false)));
  }

  #flash(text) {
    this.#box.textContent = text;
    show(this.#box, true);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => show(this.#box, false), NOTICE_MS);
  }
}
