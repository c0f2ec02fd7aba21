// One change as a list shows it (the changes card and the filter preview): its kind, the
// path (`old → new` for a rename, with git's similarity beside it as a badge) and the
// filter's mark.

import { el } from './dom.js';
import { similarityText } from './format.js';

/** A `<li>` for change `c`; `filteredTitle` explains the filter's mark where it shows. */
export function changeItem(c, { filteredTitle }) {
  const score = similarityText(c);
  return el('li', { className: `preview-change chg-${c.change}`, dataset: { path: c.path, change: c.change } },
    el('span', { className: 'preview-kind', text: c.change }),
    ' ',
    el('code', { text: c.previousPath ? `${c.previousPath} → ${c.path}` : c.path }),
    score ? el('span', { className: 'tag-similarity', title: 'How similar the file is to its previous path, as git scores it', text: score }) : null,
    c.reason ? el('span', { className: 'tag-filtered', title: filteredTitle, text: c.reason }) : null);
}
