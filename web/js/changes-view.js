// The changes card: what one sync changed (opened from its history row), or what turns one
// state into another (compare any two completed syncs, either way, or from the empty state),
// a page at a time, with the filter's marks.
//
// Listens: project-opening (empties), project-opened, history-loaded {items} (the syncs
//          the compare pickers offer), changes-requested {sync} (show that sync's changes).

import { within, el, show, showError } from './dom.js';
import { changeItem } from './change-item.js';
import { RENAME_LIMIT_NOTE, formatTime, num, shortSha } from './format.js';

const PAGE = 100;

const listed = (c) => changeItem(c, { filteredTitle: 'Added or removed by a filter change, not by the branch' });

const syncLabel = (s) => `${formatTime(s.startedAt)}${s.commitSha ? ` · ${shortSha(s.commitSha)}` : ''}${s.kind === 'restore' ? ' · restore' : ''}`;

export class ChangesView {
  #$; // finds an element by id inside this view's own element, never outside it
  #api;
  #project = null;
  #signal = null;
  #list;
  #errorBox;
  /** The list being shown: a function reading one page of it (cursor, signal), and the next cursor. */
  #source = null;
  #cursor = null;
  #shown = 0;

  constructor(root, { api, bus }) {
    this.#$ = within(root);
    this.#list = this.#$('changes-list');
    this.#errorBox = this.#$('changes-error');
    this.#api = api;
    this.#$('compare-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.#compare();
    });
    this.#$('changes-more').addEventListener('click', () => this.#page());
    bus.on('project-opening', ({ signal }) => {
      this.#project = null;
      this.#signal = signal;
      this.#clear();
    });
    bus.on('project-opened', ({ project, signal }) => {
      this.#project = project;
      this.#signal = signal;
    });
    bus.on('history-loaded', ({ items }) => this.#offer(items));
    bus.on('changes-requested', ({ sync }) => this.#showSync(sync));
  }

  #clear() {
    this.#source = null;
    this.#list.replaceChildren();
    this.#limited(false);
    this.#$('changes-title').textContent = 'Pick a sync in the history, or compare two.';
    show(this.#$('changes-more'), false);
    showError(this.#errorBox, null);
  }

  /** The completed (non-dry-run) syncs, newest first, as compare choices. */
  #offer(items) {
    const states = items.filter((s) => s.status === 'COMPLETE' && !s.dryRun);
    for (const [id, first] of [['compare-from', ['', 'the empty state']], ['compare-to', ['', 'the current state']]]) {
      const select = this.#$(id);
      const keep = select.value;
      select.replaceChildren(el('option', { value: first[0], text: first[1] }), ...states.map((s) => el('option', { value: s.id, text: syncLabel(s) })));
      if ([...select.options].some((o) => o.value === keep)) select.value = keep;
    }
  }

  #showSync(sync) {
    this.#$('changes-title').textContent = `Changes of the ${sync.dryRun ? 'dry run' : sync.kind} started ${syncLabel(sync)}`;
    this.#start((options) => this.#api.listChanges(sync.id, options));
    this.#limited(Boolean(sync.renameLimitExceeded));
    this.#$('changes-card').scrollIntoView({ block: 'nearest' });
  }

  #compare() {
    const p = this.#project;
    if (!p) return;
    const from = this.#$('compare-from').value || undefined;
    const to = this.#$('compare-to').value || undefined;
    const name = (select) => select.options[select.selectedIndex]?.text ?? '';
    this.#$('changes-title').textContent = `From ${name(this.#$('compare-from'))} to ${name(this.#$('compare-to'))}`;
    this.#start((options) => this.#api.compareStates(p.id, { from, to, ...options }));
    this.#limited(false);
  }

  /** Says (or stops saying) that git's rename limit left renames with edits unfound. */
  #limited(on) {
    const note = this.#$('changes-limit');
    note.textContent = on ? RENAME_LIMIT_NOTE : '';
    show(note, on);
  }

  #start(source) {
    this.#source = source;
    this.#cursor = null;
    this.#shown = 0;
    this.#list.replaceChildren();
    this.#page();
  }

  async #page() {
    const source = this.#source;
    if (!source) return;
    const signal = this.#signal;
    const cursor = this.#cursor ?? undefined;
    let page;
    try {
      page = await source({ limit: PAGE, cursor, signal });
    } catch (err) {
      if (!signal?.aborted) showError(this.#errorBox, err, 'Could not read the changes.');
      return;
    }
    if (signal?.aborted || source !== this.#source) return;
    showError(this.#errorBox, null);
    this.#list.append(...page.items.map(listed));
    // A sync's pages say it when its renames were limited (a compare never does).
    if (page.renameLimitExceeded) this.#limited(true);
    this.#shown += page.items.length;
    this.#cursor = page.nextCursor ?? null;
    show(this.#$('changes-more'), Boolean(this.#cursor));
    this.#$('changes-count').textContent = this.#shown === 0 ? 'No changes.' : `${num(this.#shown)}${this.#cursor ? '+' : ''} changes`;
  }
}
