// A small document for mounting the dashboard's views on a fragment under `node --test`
// (no browser, no dependency): elements with attributes, dataset, classList, children,
// text, events, and querySelector for the simple selectors the views use (#id, tag, .class,
// [attr], [attr="v"], compounds of those, and descendants). Enough for a view to find its
// parts, render into them and answer clicks; layout, styles and focus are not modelled.
//
//   import { installDocument, h } from './fake-dom.mjs';
//   installDocument();                 // globalThis.document, Node, HTMLElement, …
//   const root = h('section', { 'data-view': 'sync' }, h('p', { id: 'sync-notice', hidden: '' }));

export class FakeNode extends EventTarget {
  parentNode = null;
  get isConnected() {
    return true;
  }
  remove() {
    if (!this.parentNode) return;
    const siblings = this.parentNode.childNodes;
    siblings.splice(siblings.indexOf(this), 1);
    this.parentNode = null;
  }
}

export class FakeText extends FakeNode {
  constructor(text) {
    super();
    this.data = String(text);
  }
  get textContent() {
    return this.data;
  }
  set textContent(v) {
    this.data = String(v);
  }
}

const dataKey = (name) => name.slice(5).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
const dataName = (key) => `data-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export class FakeElement extends FakeNode {
  constructor(tag) {
    super();
    this.tagName = tag.toUpperCase();
    this.childNodes = [];
    this.attributes = new Map();
    this.style = {};
    this.disabled = false;
    this.checked = false;
    this.open = false;
    this.value = '';
    const el = this;
    this.dataset = new Proxy({}, {
      get: (_, k) => el.attributes.get(dataName(String(k))),
      set: (_, k, v) => (el.attributes.set(dataName(String(k)), String(v)), true),
      deleteProperty: (_, k) => el.attributes.delete(dataName(String(k))),
      ownKeys: () => [...el.attributes.keys()].filter((n) => n.startsWith('data-')).map(dataKey),
      getOwnPropertyDescriptor: () => ({ enumerable: true, configurable: true }),
    });
    this.classList = {
      add: (...c) => this.#setClasses([...new Set([...this.#classes(), ...c])]),
      remove: (...c) => this.#setClasses(this.#classes().filter((x) => !c.includes(x))),
      contains: (c) => this.#classes().includes(c),
      toggle: (c, force = !this.#classes().includes(c)) => {
        if (force) this.classList.add(c);
        else this.classList.remove(c);
        return force;
      },
    };
  }

  #classes() {
    return (this.attributes.get('class') ?? '').split(/\s+/).filter(Boolean);
  }

  #setClasses(list) {
    this.attributes.set('class', list.join(' '));
  }

  get id() {
    return this.attributes.get('id') ?? '';
  }
  set id(v) {
    this.attributes.set('id', String(v));
  }
  get className() {
    return this.attributes.get('class') ?? '';
  }
  set className(v) {
    this.attributes.set('class', String(v));
  }
  get hidden() {
    return this.attributes.has('hidden');
  }
  set hidden(v) {
    if (v) this.attributes.set('hidden', '');
    else this.attributes.delete('hidden');
  }
  get children() {
    return this.childNodes.filter((n) => n instanceof FakeElement);
  }
  get options() {
    return this.querySelectorAll('option');
  }
  get selectedIndex() {
    return this.options.findIndex((o) => o.value === this.value);
  }
  get textContent() {
    return this.childNodes.map((n) => n.textContent).join('');
  }
  set textContent(v) {
    this.replaceChildren(String(v));
  }
  /** An <option>'s label. */
  get text() {
    return this.textContent;
  }

  setAttribute(name, value) {
    this.attributes.set(name, String(value));
    if (name === 'value') this.value = String(value);
  }
  getAttribute(name) {
    return this.attributes.get(name) ?? null;
  }
  hasAttribute(name) {
    return this.attributes.has(name);
  }
  removeAttribute(name) {
    this.attributes.delete(name);
  }
  toggleAttribute(name, force = !this.attributes.has(name)) {
    if (force) this.attributes.set(name, '');
    else this.attributes.delete(name);
    return force;
  }

  append(...nodes) {
    for (const n of nodes) {
      const node = n instanceof FakeNode ? n : new FakeText(n);
      node.remove();
      node.parentNode = this;
      this.childNodes.push(node);
      // A <select> shows its first option until told otherwise, as a browser's does.
      if (this.tagName === 'SELECT' && node.tagName === 'OPTION' && !this.options.some((o) => o.value === this.value)) this.value = node.value;
    }
  }
  prepend(...nodes) {
    const rest = this.childNodes.splice(0);
    this.append(...nodes);
    for (const n of rest) this.childNodes.push(n);
  }
  replaceChildren(...nodes) {
    for (const n of this.childNodes) n.parentNode = null;
    this.childNodes = [];
    if (this.tagName === 'SELECT') this.value = '';
    this.append(...nodes);
  }

  *#descendants() {
    for (const c of this.children) {
      yield c;
      yield* c.#descendants();
    }
  }
  querySelectorAll(selector) {
    const parts = selector.trim().split(/\s+/).map(parseCompound);
    return [...this.#descendants()].filter((e) => matchesPath(e, parts, this));
  }
  querySelector(selector) {
    return this.querySelectorAll(selector)[0] ?? null;
  }
  matches(selector) {
    return matchesCompound(this, parseCompound(selector));
  }
  closest(selector) {
    for (let e = this; e instanceof FakeElement; e = e.parentNode) if (e.matches(selector)) return e;
    return null;
  }
  click() {
    if (this.disabled) return;
    this.dispatchEvent(new Event('click', { bubbles: true }));
    // A submit button submits its form.
    if (this.tagName === 'BUTTON' && (this.getAttribute('type') ?? 'submit') === 'submit') this.closest('form')?.requestSubmit();
  }
  requestSubmit() {
    this.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
  }
  dispatchEvent(event) {
    // The element it started on stays the target while the event bubbles up.
    if (!Object.hasOwn(event, 'target')) Object.defineProperty(event, 'target', { value: this });
    const result = super.dispatchEvent(event);
    // Bubbling: the fake has no capture phase, only the walk up the parents.
    if (event.bubbles && !event.cancelBubble && this.parentNode) this.parentNode.dispatchEvent(event);
    return result;
  }
  focus() {}
  scrollIntoView() {}
}

/** One compound selector: tag, #id, .classes, [attr] and [attr="v"]. */
function parseCompound(text) {
  const c = { tag: null, id: null, classes: [], attrs: [] };
  const re = /([a-zA-Z][\w-]*)|#([\w-]+)|\.([\w-]+)|\[([\w-]+)(?:="([^"]*)")?\]/g;
  let m;
  let at = 0;
  while ((m = re.exec(text))) {
    if (m.index !== at) throw new Error(`fake-dom: unsupported selector ${text}`);
    at = re.lastIndex;
    if (m[1]) c.tag = m[1].toUpperCase();
    else if (m[2]) c.id = m[2];
    else if (m[3]) c.classes.push(m[3]);
    else c.attrs.push([m[4], m[5]]);
  }
  if (at !== text.length) throw new Error(`fake-dom: unsupported selector ${text}`);
  return c;
}

function matchesCompound(e, c) {
  return (!c.tag || e.tagName === c.tag)
    && (!c.id || e.id === c.id)
    && c.classes.every((k) => e.classList.contains(k))
    && c.attrs.every(([k, v]) => (v === undefined ? e.hasAttribute(k) : e.getAttribute(k) === v));
}

/** Whether `e` matches the last compound and its ancestors (below `scope`) the ones before. */
function matchesPath(e, parts, scope) {
  if (!matchesCompound(e, parts[parts.length - 1])) return false;
  let i = parts.length - 2;
  for (let p = e.parentNode; i >= 0 && p && p !== scope; p = p.parentNode) if (matchesCompound(p, parts[i])) i -= 1;
  return i < 0;
}

/** A fragment: a parent with no tag of its own, as DocumentFragment is. */
export class FakeFragment extends FakeElement {
  constructor() {
    super('#fragment');
    this.tagName = '#document-fragment';
  }
}

/** Builds an element: attributes from `attrs` (`hidden: ''` sets a flag), then children. */
export function h(tag, attrs = {}, ...children) {
  const e = new FakeElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

/** Makes `document` (and what the views name: Node, HTMLElement, matchMedia) this fake's. */
export function installDocument() {
  const document = {
    createElement: (tag) => new FakeElement(tag),
    createTextNode: (text) => new FakeText(text),
    createDocumentFragment: () => new FakeFragment(),
    body: new FakeElement('body'),
    title: '',
    activeElement: null,
  };
  globalThis.document = document;
  globalThis.Node = FakeNode;
  globalThis.HTMLElement = FakeElement;
  globalThis.window ??= globalThis;
  globalThis.matchMedia ??= () => ({ matches: false });
  return document;
}
