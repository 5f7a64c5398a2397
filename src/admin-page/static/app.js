import { DeleteDialog } from './delete-dialog.js';
import { DependentsDialog } from './dependents-dialog.js';
import { $ } from './dom.js';
import { ServerDialog } from './server-dialog.js';
import { ServerList } from './server-list.js';

const shown = (action) => (name) => action(name).catch((error) => list.tell(error.message));

const dependents = new DependentsDialog();
const list = new ServerList({
  onEdit: shown((name) => serverDialog.openEdit(name, [...list.categories])),
  onDelete: shown((name) => deleteDialog.open(name)),
  onDependents: shown((name) => dependents.open(name)),
});
const serverDialog = new ServerDialog({
  onSaved: (view, message) => {
    if (message) list.tell(message);
    void list.refresh();
  },
});
const deleteDialog = new DeleteDialog({
  onDeleted: (name) => {
    list.tell(`Deleted ${name}.`);
    void list.refresh();
  },
});

$('#new-server').addEventListener('click', () => serverDialog.openNew([...list.categories]));
list.refresh().catch((error) => list.tell(error.message));
