import { api, ApiError, serverPath } from './api.js';
import { $, say, wireCloseButtons } from './dom.js';
import { listDependents } from './dependents-dialog.js';

/** Delete warns about the server's dependents and offers to force the delete, which stops them. */
export class DeleteDialog {
  constructor({ onDeleted }) {
    this.onDeleted = onDeleted;
    this.dialog = $('#delete-dialog');
    wireCloseButtons(this.dialog);
    $('#confirm-delete').addEventListener('click', () => void this.remove(false));
    $('#force-delete').addEventListener('click', () => void this.remove(true));
  }

  async open(name) {
    this.name = name;
    say($('#delete-error'), '');
    $('#delete-question').textContent = `Delete the OAuth server ${name}? Web service calls through it stop at once.`;
    const total = await listDependents(name, $('#delete-dependent-list'));
    this.offerForce(total);
    this.dialog.showModal();
  }

  offerForce(dependents) {
    $('#delete-dependents').hidden = dependents === 0;
    $('#delete-warning').textContent = `${dependents} workflow(s) depend on this server. Force delete tells them it is gone, and they stop:`;
    $('#confirm-delete').hidden = dependents > 0;
    $('#force-delete').hidden = dependents === 0;
  }

  async remove(force) {
    try {
      await api('DELETE', `${serverPath(this.name)}${force ? '?force=true' : ''}`);
      this.dialog.close();
      this.onDeleted(this.name);
    } catch (error) {
      // A dependent registered since the dialog opened: show it, and offer force.
      if (error instanceof ApiError && error.hasDependents) this.offerForce(await listDependents(this.name, $('#delete-dependent-list')));
      say($('#delete-error'), error.message);
    }
  }
}
