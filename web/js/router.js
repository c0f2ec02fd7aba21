// Which project is open: the hash route, and one AbortController per opened project.
//
// Opening a project (or closing it, deleting it, signing out) aborts the controller of the
// one before, so whatever was still on its way for it (pages of files, a stream, a
// reconnect) is dropped: every view checks its project's `signal.aborted` after each wait.
//
// Emits:   project-opening {id, signal}, project-opened {project, signal} (resolves when
//          the views have loaded), project-closed, notice {text}.
// Listens: project-deleted {project}, signed-out.

import { projectHash, projectIdFromHash } from './route.js';


export class Router {
  #api;
  #bus;
  #session;
  #projects;
  #scope = null; // { id, controller } of the project being opened or open

  /** `projects` is the sidebar list (its first project is the default one). */
  constructor({ api, bus, session, projects }) {
    this.#api = api;
    this.#bus = bus;
    this.#session = session;
    this.#projects = projects;
    bus.on('project-deleted', ({ project }) => this.#deleted(project));
    bus.on('signed-out', () => this.#leave());
  }

  /** Opens the project the hash names; without one, the first project (or none). */
  async route() {
    if (!this.#session.signedIn) return;
    const id = projectIdFromHash(location.hash);
    if (id) {
      if (this.#scope?.id !== id) await this.#open(id);
      return;
    }
    const first = this.#projects.firstId();
    if (first) {
      history.replaceState(null, '', projectHash(first));
      await this.#open(first);
    } else {
      this.#close();
    }
  }

  #leave() {
    this.#scope?.controller.abort();
    this.#scope = null;
  }

  #close() {
    this.#leave();
    this.#bus.emit('project-closed');
  }

  async #open(id) {
    this.#leave();
    const controller = new AbortController();
    const { signal } = controller;
    this.#scope = { id, controller };
    this.#bus.emit('project-opening', { id, signal });
    let project;
    try {
      project = await this.#api.getProject(id, { signal });
    } catch (err) {
      if (!signal.aborted) this.#openFailed(err);
      return;
    }
    if (signal.aborted) return;
    await this.#bus.emit('project-opened', { project, signal });
  }

  #openFailed(err) {
    this.#close();
    if (err.status === 404) this.#bus.emit('notice', { text: 'That project does not exist (or is not yours).' });
    else if (err.status !== 401) this.#bus.emit('notice', { text: `Could not open the project: ${err.message}` });
  }

  #deleted(project) {
    this.#leave();
    this.#projects.remove(project.id);
    this.#bus.emit('notice', { text: `Project “${project.name}” deleted.` });
    const next = this.#projects.firstId();
    if (next) {
      location.hash = projectHash(next);
    } else {
      history.replaceState(null, '', location.pathname);
      this.#close();
    }
  }
}
