// DOM helpers shared by the views.
//
// Everything the server sends (names, paths, messages) is untrusted: it reaches the page
// only through textContent and attribute setters, never through innerHTML.

import { formatTime } from './format.js';

/**
 * The finder of a view mounted on `root` (an element or a fragment): the element with
 * `id` inside it (or `root` itself), never one elsewhere in the page.
 */
export const within = (root) => (id) => (root.id === id ? root : root.querySelector(`#${id}`));

/** Creates an element; `props.text` becomes textContent, other props attributes. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    else if (key === 'className') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function show(node, visible = true) {
  node.hidden = !visible;
}

/** A <time> for a timestamp: the readable form shown, the exact one as title. */
export function timeEl(iso) {
  return el('time', { datetime: iso, title: iso, text: formatTime(iso) });
}

/** Fills an error box: a lead sentence, the server's message, when to retry, its code (the
 * elements' own error line, one implementation for both). */
export { showProblem as showError } from '../client/shadow.js';

export function prefersReducedMotion() {
  return window.matchMedia('(prefers-reduced-motion: reduce)').matches;
}
