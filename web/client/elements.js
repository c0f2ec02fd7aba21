// Embeddable components over the client: <project-sync-banner sync-id="…"> follows a sync
// live (banner-element.js) and <project-sync-controls project-id="…" for="banner-id"> picks
// a branch, starts a sync and cancels it (controls-element.js; the banner named by `for`
// follows what it starts). The dashboard's own sync card is these two elements. They work
// inside any page: shadow DOM, styles from elements.css beside this file (themed by --ps-*
// custom properties), text only through textContent.
//
//   import { createClient } from '/client/project-sync.js';
//   import { defineElements } from '/client/elements.js';
//   defineElements(createClient({ baseUrl, token }));
//
// Events and attributes: the head comment of each element's module.

import { bannerClass } from './banner-element.js';
import { controlsClass } from './controls-element.js';

/** Registers both elements with `client` (a createClient() result); idempotent. */
export function defineElements(client) {
  if (!customElements.get('project-sync-banner')) customElements.define('project-sync-banner', bannerClass(client));
  if (!customElements.get('project-sync-controls')) customElements.define('project-sync-controls', controlsClass(client));
}
