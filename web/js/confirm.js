// The confirm dialog (#confirm-dialog): a modal question with Cancel and one action.
// Cancel has the focus, so Enter or Escape never destroys anything by accident.

import { within } from './dom.js';

/**
 * Mounts on the dialog element `root`; returns `ask({title, text, ok, danger})`, which
 * resolves true only on the action button.
 */
export function createConfirm(root) {
  const $ = within(root);
  const dialog = $('confirm-dialog');
  const title = $('confirm-title');
  const body = $('confirm-text');
  const yes = $('confirm-yes');
  const no = $('confirm-no');

  return function ask({ title: heading, text, ok, danger = false }) {
    const opener = document.activeElement;
    title.textContent = heading;
    body.textContent = text;
    yes.textContent = ok;
    yes.className = danger ? 'btn btn-danger' : 'btn btn-primary';
    dialog.returnValue = '';
    return new Promise((resolve) => {
      dialog.addEventListener('close', () => {
        resolve(dialog.returnValue === 'ok');
        // Back to the button that asked, so keyboard users keep their place.
        if (opener && opener.isConnected) opener.focus();
      }, { once: true });
      dialog.showModal();
      no.focus();
    });
  };
}
