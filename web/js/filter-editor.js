// The path filter card: the project's include and exclude patterns, one a line; Preview
// runs a dry run of the edited filter (the banner follows it live) and shows what the next
// sync would add and remove before anything is saved; Save sets the filter, which the next
// sync applies. The API validates: its messages show under the list they are about.
//
// Listens: project-opening (empties), project-opened, project-updated (shows the saved
//          filter unless it is being edited), sync-finished {sync} (the preview's changes).
// Emits:   sync-started {sync, eventsUrl}, project-updated {project}, notice {text}.

import { within, el, show, showError } from './dom.js';
import { changeItem } from './change-item.js';
import { RENAME_LIMIT_NOTE, changeMarks, filterSummary, num, patternLines } from './format.js';

/** Changes a preview lists before "and N more". */
const PREVIEW_ROWS = 100;
const FIELDS = ['include', 'exclude'];

const sameList = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

export class FilterEditor {
  #$; // finds an element by id inside this view's own element, never outside it
  #api;
  #bus;
  #form;
  #errorBox;
  #result;
  #project = null;
  #signal = null;
  /** The dry run whose changes the card waits for. */
  #previewId = null;

  constructor(root, { api, bus }) {
    this.#$ = within(root);
    this.#form = this.#$('filter-form');
    this.#errorBox = this.#$('filter-error');
    this.#result = this.#$('filter-preview-result');
    this.#api = api;
    this.#bus = bus;
    this.#form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#save();
    });
    this.#$('filter-preview').addEventListener('click', () => this.#preview());
    this.#$('filter-reset').addEventListener('click', () => this.#fill(this.#project));
    for (const f of FIELDS) this.#area(f).addEventListener('input', () => this.#markEdited());
    this.#listen();
  }

  #listen() {
    const bus = this.#bus;
    bus.on('project-opening', ({ signal }) => {
      this.#project = null;
      this.#signal = signal;
      this.#previewId = null;
      this.#fill(null);
    });
    bus.on('project-opened', ({ project, signal }) => {
      this.#project = project;
      this.#signal = signal;
      this.#fill(project);
    });
    bus.on('project-updated', ({ project }) => {
      if (this.#project?.id !== project.id) return;
      const editing = this.#edited();
      this.#project = project;
      if (!editing) this.#fill(project);
      this.#summary();
    });
    bus.on('sync-finished', ({ sync }) => {
      if (sync && sync.id === this.#previewId) return this.#showPreview(sync);
      return undefined;
    });
  }

  #area(field) {
    return this.#$(`filter-${field}`);
  }

  #lists() {
    return { include: patternLines(this.#area('include').value), exclude: patternLines(this.#area('exclude').value) };
  }

  #edited() {
    const p = this.#project;
    if (!p) return false;
    const now = this.#lists();
    return FIELDS.some((f) => !sameList(now[f], p[f] ?? []));
  }

  #fill(project) {
    for (const f of FIELDS) this.#area(f).value = (project?.[f] ?? []).join('\n');
    this.#clearErrors();
    show(this.#result, false);
    this.#result.replaceChildren();
    this.#markEdited();
    this.#summary();
  }

  #summary() {
    const text = this.#project ? filterSummary(this.#project) : '';
    this.#$('filter-summary').textContent = text ? `Holding: ${text}` : 'Holding every path';
  }

  #markEdited() {
    const edited = this.#edited();
    show(this.#$('filter-reset'), edited);
    this.#$('filter-save').disabled = !edited;
  }

  #clearErrors() {
    showError(this.#errorBox, null);
    for (const f of FIELDS) {
      const box = this.#$(`filter-${f}-error`);
      box.textContent = '';
      show(box, false);
      this.#area(f).removeAttribute('aria-invalid');
    }
  }

  /** A 400 names its list: the message goes under it; anything else in the error box. */
  #showProblem(err, lead) {
    if (err.status === 400 && FIELDS.includes(err.field)) {
      const box = this.#$(`filter-${err.field}-error`);
      box.textContent = err.message;
      show(box, true);
      this.#area(err.field).setAttribute('aria-invalid', 'true');
      this.#area(err.field).focus();
      return;
    }
    showError(this.#errorBox, err, lead);
  }

  async #save() {
    const p = this.#project;
    if (!p) return;
    const signal = this.#signal;
    this.#clearErrors();
    this.#$('filter-save').disabled = true;
    try {
      const fresh = await this.#api.updateProject(p.id, this.#lists());
      if (signal.aborted) return;
      this.#project = fresh;
      this.#fill(fresh);
      await this.#bus.emit('project-updated', { project: fresh });
      this.#bus.emit('notice', { text: 'Filter saved. The next sync removes what it no longer admits and adds what it now does.' });
    } catch (err) {
      if (signal.aborted) return;
      this.#showProblem(err, 'The filter was not saved.');
      this.#markEdited();
    }
  }

  async #preview() {
    const p = this.#project;
    if (!p) return;
    const signal = this.#signal;
    this.#clearErrors();
    const button = this.#$('filter-preview');
    button.disabled = true;
    try {
      const answer = await this.#api.startSync(p.id, { dryRun: true, ...this.#lists() });
      if (signal.aborted) return;
      this.#previewId = answer.sync.id;
      this.#result.replaceChildren(el('p', { className: 'muted', text: 'Dry run running… nothing is changed.' }));
      show(this.#result, true);
      this.#bus.emit('sync-started', { sync: answer.sync, eventsUrl: answer.eventsUrl });
    } catch (err) {
      if (signal.aborted) return;
      if (err.status === 409) showError(this.#errorBox, err, 'A sync of this project is running; preview once it has ended.');
      else this.#showProblem(err, 'The preview did not start.');
    } finally {
      button.disabled = false;
    }
  }

  /** The finished dry run: its counts and the changes it found (reasons marked). */
  async #showPreview(sync) {
    this.#previewId = null;
    const signal = this.#signal;
    if (sync.status !== 'COMPLETE') {
      this.#result.replaceChildren(el('p', { className: 'form-error', text: `The dry run ended ${sync.status.toLowerCase()}: ${sync.error ?? 'no changes to show'}` }));
      return;
    }
    let page;
    try {
      page = await this.#api.listChanges(sync.id, { limit: PREVIEW_ROWS, signal });
    } catch (err) {
      if (!signal?.aborted) showError(this.#errorBox, err, 'Could not read the preview.');
      return;
    }
    if (signal?.aborted) return;
    this.#result.replaceChildren(...previewNodes(sync, page));
  }
}

function previewNodes(sync, page) {
  const marks = changeMarks(sync.counts).map(({ key, text, label }) => el('span', { className: `chg chg-${key}`, title: label }, text));
  const total = ['added', 'modified', 'removed', 'renamed'].reduce((n, k) => n + (sync.counts?.[k] ?? 0), 0);
  const head = el('p', { className: 'preview-head' },
    el('strong', { text: 'Dry run: ' }),
    total ? `the next sync would make ${num(total)} changes ` : 'the next sync would change nothing ',
    el('span', { className: 'changes' }, marks),
    el('span', { className: 'muted small', text: ` · ${num(sync.stats?.githubRequests ?? 0)} GitHub requests · nothing was changed` }));
  const rows = page.items.map((c) => changeItem(c, { filteredTitle: 'Added or removed by the filter change, not by the branch' }));
  const nodes = [head];
  if (page.renameLimitExceeded || sync.renameLimitExceeded) nodes.push(el('p', { className: 'muted small', id: 'filter-preview-limit', text: RENAME_LIMIT_NOTE }));
  if (rows.length) nodes.push(el('ul', { className: 'preview-list', id: 'filter-preview-list' }, rows));
  if (page.nextCursor) nodes.push(el('p', { className: 'muted small', text: `…and more (${num(total - page.items.length)} not shown).` }));
  return nodes;
}
