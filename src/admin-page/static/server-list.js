import { api, serverPath } from './api.js';
import { $, el, say } from './dom.js';
import { expiryText, localTime, nextProbeText, statusLabel } from './format.js';

const REFRESH_MS = 15_000;

/** The OAuth servers list: Status, Disabled reason, token expiry, dependents, filtered by name, category and status. */
export class ServerList {
  constructor({ onEdit, onDelete, onDependents }) {
    this.actions = { onEdit, onDelete, onDependents };
    this.body = $('#servers tbody');
    this.message = $('#list-message');
    /** Every category seen, for the filter and the dialog's suggestions. */
    this.categories = new Set(['Default']);
    $('#filter-name').addEventListener('input', () => void this.refresh());
    $('#filter-category').addEventListener('change', () => void this.refresh());
    $('#filter-status').addEventListener('change', () => void this.refresh());
    $('#filters').addEventListener('submit', (event) => event.preventDefault());
    setInterval(() => {
      if (!document.querySelector('dialog[open]')) void this.refresh();
    }, REFRESH_MS);
  }

  async refresh() {
    const query = new URLSearchParams();
    for (const [key, selector] of [['name', '#filter-name'], ['category', '#filter-category'], ['status', '#filter-status']]) {
      const value = $(selector).value.trim();
      if (value) query.set(key, value);
    }
    const asked = query.toString();
    this.lastAsked = asked;
    const { rows, truncated } = await api('GET', `/servers?${asked}`);
    // A slower answer to an older filter must not replace a newer one.
    if (asked !== this.lastAsked) return;
    for (const row of rows) this.categories.add(row.category);
    this.fillCategoryFilter();
    this.body.replaceChildren(...rows.map((row) => this.rowElement(row)));
    $('#empty-list').hidden = rows.length > 0;
    if (truncated) this.tell('Only the first servers are listed: narrow the filter to see the others.');
  }

  tell(text) {
    say(this.message, text);
  }

  fillCategoryFilter() {
    const select = $('#filter-category');
    const known = new Set([...select.options].map((option) => option.value));
    for (const category of [...this.categories].sort()) {
      if (!known.has(category)) select.append(el('option', { value: category }, category));
    }
  }

  rowElement(row) {
    const reason = row.unreachable
      ? 'No worker answered for this server: is a worker with the plugin running on its task queue?'
      : row.disabledReason
        ? `${row.disabledReason.message} ${nextProbeText(row.nextProbeAt)}`.trim()
        : '';
    const status = row.acquiring ? `${statusLabel(row.status)} (requesting a token…)` : statusLabel(row.status);
    return el(
      'tr',
      { dataset: { server: row.name, status: row.status } },
      el('td', { class: 'name' }, row.name),
      el('td', {}, row.category),
      el('td', {}, el('span', { class: `status status-${row.status}` }, status)),
      el('td', { class: 'reason', title: reason }, reason),
      el('td', { title: localTime(row.tokenExpiresAt) }, expiryText(row.tokenExpiresAt)),
      el(
        'td',
        { class: 'number' },
        row.dependents > 0 ? el('button', { type: 'button', class: 'link', onclick: () => this.actions.onDependents(row.name) }, String(row.dependents)) : '0',
      ),
      el(
        'td',
        { class: 'actions' },
        el('button', { type: 'button', onclick: () => this.actions.onEdit(row.name) }, 'Edit'),
        el('button', { type: 'button', onclick: (event) => void this.authorize(row.name, event.currentTarget) }, 'Authorize'),
        el('button', { type: 'button', class: 'danger-text', onclick: () => this.actions.onDelete(row.name) }, 'Delete'),
      ),
    );
  }

  async authorize(name, button) {
    button.disabled = true;
    button.textContent = 'Authorizing…';
    try {
      const view = await api('POST', `${serverPath(name)}/authorize`);
      this.tell(view.status === 'OK' ? `${name} is authorized.` : `${name} could not be authorized: ${view.disabledReason?.message ?? statusLabel(view.status)}`);
    } catch (error) {
      this.tell(error.message);
    }
    await this.refresh();
  }
}
