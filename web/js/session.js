// Sign in and sign out: the sign-in card, the "Signed in / Sign out" corner, and which of
// the two views (#signin-view, #app-view) shows. Owns the user token and its copy in
// localStorage.
//
// Emits: signed-out — the token is gone; whatever a project was doing must stop.

import { within, show, showError } from './dom.js';

const TOKEN_KEY = 'projectSync.token';

function readToken() {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function storeToken(token) {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    /* private mode: the session lasts until the page closes */
  }
}

export class SessionView {
  #$; // finds an element by id inside this view's own element, never outside it
  #api;
  #bus;
  #enterApp;
  #input;
  #reveal;
  #errorBox;
  #submit;
  #token = null;

  /**
   * `api` checks a token before it is kept; `enterApp()` loads the dashboard once signed in
   * (resolves when the opened project has loaded).
   */
  constructor(root, { api, bus, enterApp }) {
    this.#$ = within(root);
    this.#input = this.#$('signin-token');
    this.#reveal = this.#$('signin-reveal');
    this.#errorBox = this.#$('signin-error');
    this.#submit = this.#$('signin-submit');
    this.#api = api;
    this.#bus = bus;
    this.#enterApp = enterApp;
    this.#$('signin-form').addEventListener('submit', (event) => this.#onSubmit(event));
    this.#reveal.addEventListener('click', () => this.#onReveal());
    this.#$('sign-out').addEventListener('click', () => this.signOut('You are signed out.'));
  }

  get token() {
    return this.#token;
  }

  get signedIn() {
    return Boolean(this.#token);
  }

  /** Boot: a stored token signs in at once (the API refuses it later if it is stale). */
  async start() {
    this.#token = readToken();
    if (this.#token) await this.#enter();
    else this.#showSignIn();
  }

  /** Forgets the token, tells the others, and shows the sign-in card with `message`. */
  signOut(message) {
    this.#token = null;
    storeToken(null);
    this.#bus.emit('signed-out');
    this.#showSignIn(message);
    if (location.hash) history.replaceState(null, '', location.pathname + location.search);
    this.#input.focus();
  }

  #showSignIn(message) {
    show(this.#$('app-view'), false);
    show(this.#$('session'), false);
    show(this.#$('signin-view'), true);
    if (message) {
      this.#errorBox.textContent = message;
      show(this.#errorBox, true);
    } else {
      show(this.#errorBox, false);
    }
    // The how-to names this very server.
    const howto = this.#$('howto-curl');
    howto.textContent = howto.textContent.replace('http://HOST', location.origin);
  }

  async #enter() {
    show(this.#$('signin-view'), false);
    show(this.#$('session'), true);
    show(this.#$('app-view'), true);
    await this.#enterApp();
  }

  #refuse(text) {
    this.#errorBox.textContent = text;
    show(this.#errorBox, true);
    this.#input.setAttribute('aria-invalid', 'true');
    this.#input.focus();
  }

  async #onSubmit(event) {
    event.preventDefault();
    const input = this.#input;
    const candidate = input.value.trim();
    if (!candidate) {
      this.#refuse('Enter your user token.');
      return;
    }
    this.#submit.disabled = true;
    try {
      // Any cheap authenticated read proves the token; a 401 here is an answer, not a sign-out.
      await this.#api.withToken(candidate).listProjects({ limit: 1 });
    } catch (err) {
      showError(this.#errorBox, err, err.status === 401 ? 'That token was not accepted.' : 'Could not sign in.');
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    } finally {
      this.#submit.disabled = false;
    }
    input.removeAttribute('aria-invalid');
    input.value = '';
    this.#token = candidate;
    storeToken(candidate);
    await this.#enter();
    this.#$('main').focus();
  }

  #onReveal() {
    const showing = this.#input.type === 'text';
    this.#input.type = showing ? 'password' : 'text';
    this.#reveal.textContent = showing ? 'Show' : 'Hide';
    this.#reveal.setAttribute('aria-pressed', String(!showing));
  }
}
