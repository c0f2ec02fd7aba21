// Project Sync dashboard: plain JavaScript modules, no build step, no dependencies.
//
// Everything the server sends (names, paths, messages) is untrusted: it reaches the page
// only through textContent and attribute setters, never through innerHTML.
//
// This module only wires: it creates the bus, the API client and the components (each owns
// its part of index.html and its own state), and routes on hashchange. The components talk
// through CustomEvents on the bus; each module's head comment lists what it emits and hears.

import { AgentCard } from './agent.js';
import { createApi } from './api.js';
import { defineElements } from '../client/elements.js';
import { ChangesView } from './changes-view.js';
import { createBus } from './bus.js';
import { createConfirm } from './confirm.js';
import { FileViewer } from './file-viewer.js';
import { FilesView } from './files.js';
import { FilterEditor } from './filter-editor.js';
import { HistoryView } from './history.js';
import { HooksView } from './hooks-view.js';
import { InstallationPicker } from './installations.js';
import { MemorySearch } from './memory-search.js';
import { NoticesView } from './notices.js';
import { ProjectHeadView } from './project-head.js';
import { ProjectsView } from './projects.js';
import { Router } from './router.js';
import { SessionView } from './session.js';
import { SyncCard } from './sync-card.js';

async function boot() {
  const bus = createBus();
  // The client and the session need each other (the token; signing out on a 401): the
  // client reaches the session lazily, and so does enterApp the router, which needs it too.
  let session = null;
  let router = null;
  const api = createApi({
    getToken: () => session?.token ?? null,
    onUnauthorized: () => session.signOut('Your token was not accepted any more. Sign in again.'),
  });
  // The sync card's banner and controls are the embeddable elements, over the same client.
  defineElements(api.client);
  const confirm = createConfirm(document.getElementById('confirm-dialog'));
  // Each view is mounted on its own element (data-view in index.html) and finds its parts
  // only inside it; the session's part is the page itself (top bar, sign-in, app).
  const view = (name) => document.querySelector(`[data-view="${name}"]`);
  new NoticesView(view('sync'), { bus });
  const installations = new InstallationPicker(view('installations'), { api, bus });
  const projects = new ProjectsView(view('projects'), { api, bus, installations });
  session = new SessionView(document.body, {
    api,
    bus,
    // Signed in: the project list first, then the project the hash names (or the first).
    enterApp: async () => {
      await Promise.all([projects.load(), installations.load()]);
      if (session.signedIn) await router.route();
    },
  });
  router = new Router({ api, bus, session, projects });
  // The views below own their cards and hear the bus; nothing else needs a handle on them.
  new ProjectHeadView(view('project-head'), { api, bus, confirm });
  new SyncCard(view('sync'), { bus });
  new FilterEditor(view('filter'), { api, bus });
  new HistoryView(view('history'), { api, bus, confirm });
  new HooksView(view('hooks'), { api, bus });
  new ChangesView(view('changes'), { api, bus });
  new MemorySearch(view('memory'), { api, bus });
  new FilesView(view('files'), { api, bus });
  new FileViewer(view('file-viewer'), { api, bus });
  new AgentCard(view('agent'));

  window.addEventListener('hashchange', () => router.route());

  await session.start();
  document.documentElement.dataset.ready = 'true';
}

boot();
