// What both embeddable elements build with: nodes (text only through textContent), a shadow
// root with elements.css, and an error line in the dashboard's form (lead, message, code).

const CSS_URL = new URL('./elements.css', import.meta.url).href;

/** An element: `text` becomes textContent, `className` the class, the rest attributes. */
export function node(tag, props = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') n.textContent = v;
    else if (k === 'className') n.className = v;
    else n.setAttribute(k, v === true ? '' : v);
  }
  n.append(...children);
  return n;
}

/** An open shadow root on `host` with the elements' style sheet. */
export function shadow(host) {
  const root = host.attachShadow({ mode: 'open' });
  root.append(node('link', { rel: 'stylesheet', href: CSS_URL }));
  return root;
}

/** Fills error line `box`: a lead sentence, the message, when to retry, the code; none hides it. */
export function showProblem(box, err, lead) {
  box.replaceChildren();
  box.hidden = !err;
  if (!err) return;
  if (lead) box.append(node('strong', { text: lead }), ' ');
  box.append(node('span', { text: err.message || String(err) }));
  if (err.retryAfter) box.append(' ', node('span', { text: `Try again in ${err.retryAfter} s.` }));
  if (err.code) box.append(' ', node('span', { className: 'error-code', text: err.status ? `${err.code} · ${err.status}` : err.code }));
}

/** Fires `type` from `host` with `detail`, bubbling out of any shadow root. */
export function announce(host, type, detail) {
  host.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
}
