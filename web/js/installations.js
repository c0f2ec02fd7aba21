// The New project form's GitHub App part: the installations granted to the user, and, once
// one is picked, the repositories it reaches. Picking a repository fills the form's
// repository field (and shows its default branch); an installation replaces the personal
// token (a project has one credential), so the token field hides while one is picked.
// Hidden altogether for a user without installations.
//
// Listens: signed-out (forgets everything).
// Emits:   nothing. ProjectsView reads `installationId()` when it creates the project.

import { within, el, show, showError } from './dom.js';

export class InstallationPicker {
  #$; // finds an element by id inside this view's own element, never outside it
  #api;
  #field;
  #select;
  #repoField;
  #repoSelect;
  #error;
  #repository;
  #branch;
  #tokenField;
  /** Repositories by installation id, once loaded. */
  #reached = new Map();
  #loading = null;

  constructor(root, { api, bus }) {
    this.#$ = within(root);
    this.#field = this.#$('create-installation-field');
    this.#select = this.#$('create-installation');
    this.#repoField = this.#$('create-installation-repo-field');
    this.#repoSelect = this.#$('create-installation-repo');
    this.#error = this.#$('create-installation-error');
    this.#repository = this.#$('create-repository');
    this.#branch = this.#$('create-branch');
    this.#tokenField = this.#$('create-token-field');
    this.#api = api;
    this.#select.addEventListener('change', () => this.#onInstallation());
    this.#repoSelect.addEventListener('change', () => this.#onRepository());
    bus.on('signed-out', () => this.#forget());
    this.#$('create-form').addEventListener('reset', () => queueMicrotask(() => this.#onInstallation()));
  }

  /** The installation picked, as the API wants it (a number), or null. */
  installationId() {
    const value = this.#select.value;
    return value ? Number(value) : null;
  }

  async load() {
    try {
      const items = await this.#api.all('listInstallations');
      this.#select.replaceChildren(el('option', { value: '', text: 'None: a personal token, or the service’s own' }));
      for (const i of items) {
        const reach = i.repositorySelection === 'all' ? 'all repositories' : 'selected repositories';
        const title = `Installation ${i.installationId} on ${i.account}: ${reach}`;
        this.#select.append(el('option', { value: String(i.installationId), text: `${i.account} · #${i.installationId}`, title }));
      }
      show(this.#field, items.length > 0);
      showError(this.#error, null);
    } catch (err) {
      if (err.status !== 401) showError(this.#error, err, 'Could not load your GitHub App installations.');
    }
    this.#onInstallation();
  }

  async #onInstallation() {
    const id = this.installationId();
    show(this.#tokenField, id === null);
    show(this.#repoField, id !== null);
    if (id === null) return;
    this.#repoSelect.replaceChildren(el('option', { value: '', text: 'Loading repositories…' }));
    this.#repoSelect.disabled = true;
    const loading = (this.#loading = this.#repositoriesOf(id));
    const repos = await loading;
    if (this.#loading !== loading) return; // another installation was picked meanwhile
    this.#repoSelect.disabled = false;
    this.#repoSelect.replaceChildren(el('option', { value: '', text: repos.length ? 'Pick a repository…' : 'It reaches no repository' }));
    for (const r of repos) {
      const text = `${r.repository}${r.private ? ' (private)' : ''}`;
      this.#repoSelect.append(el('option', { value: r.repository, text, dataset: { defaultBranch: r.defaultBranch } }));
    }
    if (repos.some((r) => r.repository === this.#repository.value)) this.#repoSelect.value = this.#repository.value;
  }

  async #repositoriesOf(id) {
    if (this.#reached.has(id)) return this.#reached.get(id);
    try {
      const repos = await this.#api.all('listInstallationRepositories', id);
      this.#reached.set(id, repos);
      showError(this.#error, null);
      return repos;
    } catch (err) {
      if (err.status !== 401) showError(this.#error, err, 'Could not list the installation’s repositories.');
      return [];
    }
  }

  #onRepository() {
    const option = this.#repoSelect.selectedOptions[0];
    if (!option?.value) return;
    this.#repository.value = option.value;
    this.#branch.placeholder = option.dataset.defaultBranch ?? '';
  }

  #forget() {
    this.#reached.clear();
    this.#select.replaceChildren(el('option', { value: '', text: '' }));
    show(this.#field, false);
    show(this.#repoField, false);
    show(this.#tokenField, true);
  }
}
