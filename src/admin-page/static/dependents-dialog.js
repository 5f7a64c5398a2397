import { api, serverPath } from './api.js';
import { $, el, say, wireCloseButtons } from './dom.js';
import { dependentText } from './format.js';

/** Fills `list` with the server's dependents; returns how many there are in all. */
export async function listDependents(name, list) {
  const { total, dependents } = await api('GET', `${serverPath(name)}/dependents`);
  list.replaceChildren(
    ...dependents.map((dependent) => el('li', {}, el('code', {}, dependent.workflowId), ' — ', dependentText(dependent))),
  );
  if (total > dependents.length) list.append(el('li', { class: 'muted' }, `and ${total - dependents.length} more`));
  return total;
}

/** Who depends on a server: each import source with whether it is paused and on what. */
export class DependentsDialog {
  constructor() {
    this.dialog = $('#dependents-dialog');
    wireCloseButtons(this.dialog);
  }

  async open(name) {
    $('#dependents-dialog-title').textContent = `Dependents of ${name}`;
    const total = await listDependents(name, $('#dependents-list'));
    say($('#dependents-summary'), total === 0 ? 'Nothing depends on this server now.' : `${total} workflow(s) depend on this server.`);
    this.dialog.showModal();
  }
}
