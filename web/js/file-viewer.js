// The file viewer: a file picked in the tree, shown below it. Text the service keeps is
// shown with line numbers; anything else (binary, too large, an LFS pointer, a symlink's
// target) with its size, why no text is kept, and a download button (the bytes come from
// GitHub, through the API, when asked for).
//
// Listens: file-picked ({ file }) from the tree, project-opening and project-closed (hides).
// Emits:   nothing.

import { within, el, show, showError } from './dom.js';
import { formatBytes, num, shortSha } from './format.js';

/** Lines drawn at most; a longer text says how much is left out. */
const MAX_LINES = 20_000;
const SKIPPED = {
  binary: 'It is binary, so no text is kept.',
  'too-large': 'It is over the text limit, so no text is kept.',
  'not-text': 'It is not UTF-8 text, so no text is kept.',
  'lfs-pointer': 'It is a Git LFS pointer; the service keeps no text of it.',
};

/** The lines of a text, without the empty one after a final newline. */
export function linesOf(text) {
  const lines = text.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export class FileViewer {
  #$; // finds an element by id inside this view's own element, never outside it
  #api;
  #card;
  #title;
  #meta;
  #body;
  #error;
  #project = null;
  #loading = null;

  constructor(root, { api, bus }) {
    this.#$ = within(root);
    this.#card = this.#$('file-viewer');
    this.#title = this.#$('file-viewer-path');
    this.#meta = this.#$('file-viewer-meta');
    this.#body = this.#$('file-viewer-body');
    this.#error = this.#$('file-viewer-error');
    this.#api = api;
    this.#$('file-viewer-close').addEventListener('click', () => this.#hide());
    bus.on('project-opened', ({ project }) => {
      this.#project = project;
    });
    bus.on('project-opening', () => this.#hide());
    bus.on('project-closed', () => this.#hide());
    bus.on('file-picked', ({ file }) => this.open(file));
  }

  async open(file) {
    const project = this.#project;
    if (!project) return;
    const controller = new AbortController();
    this.#loading?.abort();
    this.#loading = controller;
    show(this.#card, true);
    showError(this.#error, null);
    this.#card.dataset.path = file.path;
    this.#title.textContent = file.path;
    this.#meta.textContent = `${file.kind} · ${file.size === null ? '—' : formatBytes(file.size)} · blob ${shortSha(file.sha)}`;
    this.#body.replaceChildren(el('p', { className: 'muted', text: 'Loading…' }));
    this.#card.scrollIntoView({ block: 'nearest' });
    // The bytes of this file at the current state (through the API, from GitHub when not kept).
    const content = (signal) => this.#api.getFileContent(project.id, { path: file.path, signal });
    const kept = file.kind === 'file' && !file.contentSkipped;
    if (!kept) {
      this.#showSkipped(file, content, controller.signal);
      return;
    }
    try {
      const { blob } = await content(controller.signal);
      if (controller.signal.aborted) return;
      this.#showText(await blob.text());
    } catch (err) {
      if (!controller.signal.aborted) showError(this.#error, err, 'Could not read the file.');
    }
  }

  #showText(text) {
    const lines = linesOf(text);
    const list = el('ol', { className: 'code', 'aria-label': 'Lines' });
    for (const line of lines.slice(0, MAX_LINES)) list.append(el('li', {}, el('code', { text: line })));
    const parts = [list];
    if (lines.length > MAX_LINES) parts.push(el('p', { className: 'muted', text: `${num(lines.length - MAX_LINES)} more lines not shown.` }));
    this.#card.dataset.view = 'text';
    this.#body.replaceChildren(...parts);
  }

  #showSkipped(file, content, signal) {
    const why = file.kind === 'symlink'
      ? 'A symbolic link: its content is the path it points to.'
      : file.kind === 'lfs-pointer' ? SKIPPED['lfs-pointer'] : SKIPPED[file.contentSkipped] ?? 'No text of it is kept.';
    const download = el('button', { type: 'button', className: 'btn btn-small', id: 'file-download', text: `Download (${formatBytes(file.size ?? 0)})` });
    download.addEventListener('click', () => this.#download(file, content, signal));
    this.#card.dataset.view = 'binary';
    this.#body.replaceChildren(el('p', { text: why }), el('p', { className: 'muted', text: 'Its bytes are read from GitHub when you download it.' }), download);
  }

  async #download(file, content, signal) {
    try {
      const { blob } = await content(signal);
      const url = URL.createObjectURL(blob);
      const link = el('a', { href: url, download: file.path.split('/').pop() });
      this.#card.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (err) {
      if (!signal.aborted) showError(this.#error, err, 'Could not download the file.');
    }
  }

  #hide() {
    this.#loading?.abort();
    this.#loading = null;
    show(this.#card, false);
    this.#body.replaceChildren();
  }
}
