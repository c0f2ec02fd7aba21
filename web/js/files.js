// The files card: the project's active files as a tree of <details>, with a path filter and
// Expand all / Collapse all. Big trees stay light: a closed directory gets its rows only
// when it is first opened.
//
// A file's name is a button: it asks the file viewer to show it.
//
// Listens: project-opening (empties), project-opened and files-changed (loads),
//          project-updated (the summary names the project's commit), project-closed.
// Emits:   file-picked ({ file }).

import { within, el, show, showError } from './dom.js';
import { formatBytes, num, shortSha } from './format.js';
import { buildTree, compactDir, filesSummary, filterFiles, normalizeFilter, opensAll, sortedDirs } from './tree.js';

const KIND_LABELS = { file: 'file', symlink: 'symlink', submodule: 'submodule', 'lfs-pointer': 'LFS pointer' };
// Expand all on more files than this would freeze the page.
const EXPAND_ALL_LIMIT = 5000;
const FILTER_DELAY_MS = 150;
const NOTE_MS = 6000;

function fileRow(name, file, onPick) {
  const meta = el('span', { className: 'tree-meta' },
    file.kind !== 'file' ? el('span', { className: `kind kind-${file.kind}`, text: KIND_LABELS[file.kind] ?? file.kind }) : null,
    el('span', { className: 'mode mono', title: 'git mode', text: file.mode }),
    el('span', { className: 'size', text: file.size === null || file.size === undefined ? '—' : formatBytes(file.size) }),
    el('code', { className: 'sha', title: `blob ${file.sha}`, text: shortSha(file.sha) }),
  );
  return el('li', { className: 'tree-file', dataset: { path: file.path } },
    el('span', { className: `tree-icon tree-icon-${file.kind}`, 'aria-hidden': 'true' }),
    file.kind === 'submodule'
      ? el('span', { className: 'tree-name', title: file.path, text: name })
      : el('button', { type: 'button', className: 'tree-name tree-open', title: `Show ${file.path}`, text: name, onclick: () => onPick(file) }),
    meta,
  );
}

function dirRow(dir, depth, openAll, onPick) {
  const { name, node } = compactDir(dir);
  const open = openAll || depth === 0;
  const details = el('details', { open: open ? true : null },
    el('summary', {},
      el('span', { className: 'tree-icon tree-icon-dir', 'aria-hidden': 'true' }),
      el('span', { className: 'tree-name', text: `${name}/` }),
      el('span', { className: 'tree-meta muted', text: `${num(node.count)} ${node.count === 1 ? 'file' : 'files'}` }),
    ),
  );
  if (open) {
    details.append(renderDir(node, depth + 1, openAll, onPick));
  } else {
    // A closed directory gets its rows when it is first opened: big trees stay light.
    details.addEventListener('toggle', () => {
      if (details.open && !details.dataset.rendered) {
        details.dataset.rendered = 'true';
        details.append(renderDir(node, depth + 1, openAll, onPick));
      }
    });
  }
  return el('li', { className: 'tree-dir', dataset: { dir: name } }, details);
}

function renderDir(node, depth, openAll, onPick) {
  const list = el('ul', { className: depth === 0 ? 'tree-list tree-root' : 'tree-list' });
  for (const dir of sortedDirs(node)) list.append(dirRow(dir, depth, openAll, onPick));
  for (const { name, file } of node.files) list.append(fileRow(name, file, onPick));
  return list;
}

export class FilesView {
  #$; // finds an element by id inside this view's own element, never outside it
  #api;
  #container;
  #summary;
  #filterInput;
  #errorBox;
  #project = null;
  #signal = null;
  #files = [];
  #filterTimer = null;

  #bus;

  constructor(root, { api, bus }) {
    this.#$ = within(root);
    this.#container = this.#$('file-tree');
    this.#summary = this.#$('files-summary');
    this.#filterInput = this.#$('files-filter');
    this.#errorBox = this.#$('files-error');
    this.#api = api;
    this.#bus = bus;
    this.#$('tree-expand').addEventListener('click', () => this.#setAllDetails(true));
    this.#$('tree-collapse').addEventListener('click', () => this.#setAllDetails(false));
    this.#filterInput.addEventListener('input', () => {
      clearTimeout(this.#filterTimer);
      this.#filterTimer = setTimeout(() => this.#render(), FILTER_DELAY_MS);
    });
    bus.on('project-opening', ({ signal }) => this.#reset(signal));
    bus.on('project-opened', ({ project, signal }) => {
      this.#project = project;
      this.#signal = signal;
      return this.#load();
    });
    bus.on('project-updated', ({ project }) => {
      if (this.#project?.id === project.id) this.#project = project;
    });
    bus.on('project-closed', () => {
      this.#project = null;
    });
    bus.on('files-changed', () => this.#load());
  }

  #render() {
    const files = this.#files;
    const filter = normalizeFilter(this.#filterInput.value);
    const shown = filterFiles(files, filter);
    this.#summary.textContent = filesSummary({ all: files, shown, filter, project: this.#project });
    show(this.#$('files-filter-field'), files.length > 0);
    show(this.#$('tree-tools'), files.length > 0);
    const container = this.#container;
    container.replaceChildren();
    if (shown.length) {
      const onPick = (file) => this.#bus.emit('file-picked', { file });
      const list = renderDir(buildTree(shown), 0, opensAll(filter, shown.length), onPick);
      list.setAttribute('aria-label', 'Active files');
      container.append(list);
    } else if (filter && files.length) {
      container.append(el('p', { className: 'muted', text: 'No path matches the filter.' }));
    }
  }

  async #load() {
    const p = this.#project;
    if (!p) return;
    const signal = this.#signal;
    const summary = this.#summary;
    summary.textContent = 'Loading files…';
    let loaded;
    try {
      loaded = await this.#api.all('listFiles', p.id, {
        signal,
        onPage: (n) => {
          summary.textContent = `Loading files… ${num(n)}`;
        },
      });
    } catch (err) {
      if (signal.aborted) return;
      summary.textContent = '';
      showError(this.#errorBox, err, 'Could not load the files.');
      return;
    }
    if (!loaded) return;
    showError(this.#errorBox, null);
    this.#files = loaded;
    this.#render();
  }

  #reset(signal) {
    this.#project = null;
    this.#signal = signal;
    clearTimeout(this.#filterTimer);
    this.#files = [];
    showError(this.#errorBox, null);
    this.#container.replaceChildren();
    this.#summary.textContent = '';
    this.#filterInput.value = '';
    show(this.#$('files-filter-field'), false);
    show(this.#$('tree-tools'), false);
  }

  /** Shows `text` in place of the summary for a while. */
  #flashNote(text) {
    const summary = this.#summary;
    const before = summary.textContent;
    summary.textContent = text;
    setTimeout(() => {
      if (summary.textContent === text) summary.textContent = before;
    }, NOTE_MS);
  }

  #setAllDetails(open) {
    if (open && this.#files.length > EXPAND_ALL_LIMIT) {
      this.#flashNote('That is a lot of files to show at once: open the directories you need, or filter.');
      return;
    }
    // Opening renders a lazy directory's rows (in its toggle handler), which may hold more
    // closed directories: repeat until none is left closed.
    for (let round = 0; round < 64; round += 1) {
      const closed = [...this.#container.querySelectorAll('details')].filter((d) => d.open !== open);
      if (!closed.length) break;
      for (const d of closed) {
        d.open = open;
        if (open && !d.dataset.rendered && d.querySelector(':scope > ul') === null) d.dispatchEvent(new Event('toggle'));
      }
      if (!open) break;
    }
  }
}
