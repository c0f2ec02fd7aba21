// The sidebar: the project list (with its refresh and "more" buttons) and the New project
// form. Owns the list of the user's projects and which one is marked current.
//
// The form's credential comes from the InstallationPicker (installations.js) when one is picked.
//
// Listens: project-opened, project-updated (the entry and the current mark), project-closed,
//          signed-out (forgets the list).
// Emits:   notice (a project was created). Navigates to a new project through the hash.

import { within, el, show, showError } from './dom.js';
import { projectHash } from './route.js';

const PROJECTS_PAGE = 100;
const FIELDS = ['name', 'repository', 'branch', 'githubToken', 'installationId'];
const REPOSITORY = /^[^/\s]+\/[^/\s]+$/;

/** The checks worth doing before asking the server: [field, message] pairs. */
function problemsOf({ name, repository }) {
  const problems = [];
  if (!name) problems.push(['name', 'Give the project a name.']);
  if (!REPOSITORY.test(repository)) problems.push(['repository', 'Write the repository as owner/repo.']);
  return problems;
}

export class ProjectsView {
  #$; // finds an element by id inside this view's own element, never outside it
  #api;
  #bus;
  #list;
  #errorBox;
  #form;
  #createError;
  #submit;
  #projects = [];
  #cursor = null;
  #currentId = null;

  #installations;

  /** `installations` is the form's InstallationPicker (which credential a new project uses). */
  constructor(root, { api, bus, installations }) {
    this.#$ = within(root);
    this.#list = this.#$('project-list');
    this.#errorBox = this.#$('projects-error');
    this.#form = this.#$('create-form');
    this.#createError = this.#$('create-error');
    this.#submit = this.#$('create-submit');
    this.#api = api;
    this.#bus = bus;
    this.#installations = installations;
    this.#form.addEventListener('submit', (event) => this.#onCreate(event));
    this.#$('projects-refresh').addEventListener('click', () => this.load());
    this.#$('projects-more').addEventListener('click', () => this.load({ append: true }));
    this.#listen();
  }

  #listen() {
    const bus = this.#bus;
    bus.on('project-opened', ({ project }) => {
      this.#currentId = project.id;
      this.#replace(project);
      this.#render();
    });
    bus.on('project-updated', ({ project }) => {
      this.#replace(project);
      this.#render();
    });
    bus.on('project-closed', () => {
      this.#currentId = null;
      this.#render();
    });
    bus.on('signed-out', () => {
      this.#projects = [];
      this.#cursor = null;
      this.#currentId = null;
    });
  }

  /** The id of the first project listed, or null: where the dashboard goes by default. */
  firstId() {
    return this.#projects[0]?.id ?? null;
  }

  /** Drops a deleted project; the list is drawn again when the next project opens. */
  remove(id) {
    this.#projects = this.#projects.filter((p) => p.id !== id);
  }

  async load({ append = false } = {}) {
    const cursor = append && this.#cursor ? this.#cursor : undefined;
    try {
      const page = await this.#api.listProjects({ limit: PROJECTS_PAGE, cursor });
      this.#projects = append ? [...this.#projects, ...page.items] : page.items;
      this.#cursor = page.nextCursor ?? null;
      showError(this.#errorBox, null);
    } catch (err) {
      // A 401 has signed out already: the sign-in card says so.
      if (err.status !== 401) showError(this.#errorBox, err, 'Could not load projects.');
    }
    this.#render();
  }

  #render() {
    const list = this.#list;
    list.replaceChildren();
    for (const p of this.#projects) {
      const link = el(
        'a',
        { href: projectHash(p.id), className: 'project-link', 'aria-current': this.#currentId === p.id ? 'page' : null },
        el('span', { className: 'project-link-name', text: p.name }),
        el('span', { className: 'project-link-meta mono', text: `${p.repository} · ${p.branch}` }),
      );
      list.append(el('li', {}, link));
    }
    show(this.#$('projects-empty'), this.#projects.length === 0);
    show(this.#$('projects-more'), Boolean(this.#cursor));
  }

  /** Keeps the list's copy of a project fresh (the server's answer is the newest). */
  #replace(project) {
    const i = this.#projects.findIndex((p) => p.id === project.id);
    if (i >= 0) this.#projects[i] = project;
  }

  #fieldInput(field) {
    return this.#form.elements.namedItem(field);
  }

  #clearCreateErrors() {
    for (const field of FIELDS) {
      const box = this.#$(`create-${field}-error`);
      box.textContent = '';
      show(box, false);
    }
    for (const input of this.#form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
    showError(this.#createError, null);
  }

  /** Puts `message` under the field the API (or the check here) named; false if no such field. */
  #markField(field, message) {
    const box = this.#$(`create-${field}-error`);
    const input = this.#fieldInput(field);
    if (!box || !input) return false;
    box.textContent = message;
    show(box, true);
    input.setAttribute('aria-invalid', 'true');
    return true;
  }

  #readForm() {
    const f = this.#form.elements;
    return {
      name: f.name.value.trim(),
      repository: f.repository.value.trim(),
      branch: f.branch.value.trim(),
      githubToken: f.githubToken.value.trim(),
      tracked: f.tracked.checked,
    };
  }

  async #onCreate(event) {
    event.preventDefault();
    this.#clearCreateErrors();
    const { name, repository, branch, githubToken, tracked } = this.#readForm();
    const problems = problemsOf({ name, repository });
    if (problems.length) {
      for (const [field, message] of problems) this.#markField(field, message);
      showError(this.#createError, { message: 'Fix the marked fields and try again.' }, 'The project was not created.');
      this.#fieldInput(problems[0][0]).focus();
      return;
    }
    const body = { name, repository, tracked };
    if (branch) body.branch = branch;
    const installationId = this.#installations.installationId();
    if (installationId !== null) body.installationId = installationId;
    else if (githubToken) body.githubToken = githubToken;
    await this.#create(body);
  }

  async #create(body) {
    const submit = this.#submit;
    submit.disabled = true;
    submit.textContent = 'Creating…';
    try {
      const project = await this.#api.createProject(body);
      this.#form.reset();
      this.#projects = [...this.#projects.filter((p) => p.id !== project.id), project];
      this.#render();
      this.#bus.emit('notice', { text: `Project “${project.name}” created. Pick a branch and start its first sync.` });
      location.hash = projectHash(project.id);
    } catch (err) {
      showError(this.#createError, err, err.code === 'github_error' ? 'GitHub refused.' : 'The project was not created.');
      if (err.field && this.#markField(err.field, err.message)) this.#fieldInput(err.field).focus();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Create project';
    }
  }
}
