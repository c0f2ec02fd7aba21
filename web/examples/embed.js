// The embed example: the client and its elements in a page of another application. The
// token is the dashboard's (same origin: its local storage) or one pasted here (kept only
// in this page); `?project=<id>` picks the project, else the first one.
import { createClient } from '/client/project-sync.js';
import { defineElements } from '/client/elements.js';

const $ = (id) => document.getElementById(id);
let token = localStorage.getItem('projectSync.token');
const client = createClient({ token: () => token });
defineElements(client);

async function start() {
  if (!token) {
    $('embed-signin').hidden = false;
    $('embed-project').textContent = 'Not signed in.';
    return;
  }
  try {
    const wanted = new URLSearchParams(location.search).get('project');
    const project = wanted ? await client.getProject(wanted) : (await client.listProjects({ limit: 1 })).items[0];
    if (!project) {
      $('embed-project').textContent = 'No project yet: create one in the dashboard.';
      return;
    }
    $('embed-project').textContent = `${project.name}: ${project.repository} (${project.branch})`;
    $('controls').setAttribute('project-id', project.id);
    if (project.currentSyncId) $('banner').setAttribute('sync-id', project.currentSyncId);
    const latest = (await client.listSyncs(project.id, { limit: 1 })).items[0];
    if (latest) $('banner').setAttribute('sync-id', latest.id);
  } catch (err) {
    $('embed-status').textContent = err.message;
  }
}

$('embed-signin').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $('embed-token').value.trim() || null;
  $('embed-signin').hidden = true;
  start();
});
$('controls').addEventListener('project-sync-started', (e) => {
  $('embed-status').textContent = `Started sync ${e.detail.sync.id}.`;
});
start();
