import { $, el } from './dom.js';

/** A list of name/value parameters, added and removed row by row (query or post parameters); it builds its own table. */
export class ParamRows {
  constructor(container) {
    this.field = container.dataset.field;
    const label = container.dataset.label;
    this.body = el('tbody');
    this.newName = el('input', { placeholder: 'Name', 'aria-label': `New ${label} name` });
    this.newValue = el('input', { placeholder: 'Value', 'aria-label': `New ${label} value` });
    container.append(
      el('table', { class: 'grid compact' }, el('thead', {}, el('tr', {}, el('th', {}, 'Name'), el('th', {}, 'Value'), el('th'))), this.body),
      el('div', { class: 'param-add' }, this.newName, this.newValue, el('button', { type: 'button', onclick: () => this.addFromInputs() }, 'Add')),
      el('p', { class: 'field-error', 'data-error-for': this.field }),
    );
    for (const input of [this.newName, this.newValue]) {
      input.addEventListener('keydown', (event) => {
        if (event.key !== 'Enter') return;
        event.preventDefault();
        this.addFromInputs();
      });
    }
  }

  set(parameters) {
    this.body.replaceChildren();
    for (const parameter of parameters) this.append(parameter);
    this.newName.value = '';
    this.newValue.value = '';
  }

  get() {
    return [...this.body.rows].map((row) => ({ name: $('[data-part="name"]', row).value, value: $('[data-part="value"]', row).value }));
  }

  addFromInputs() {
    if (this.newName.value.trim() === '') {
      this.newName.focus();
      return;
    }
    this.append({ name: this.newName.value.trim(), value: this.newValue.value });
    this.newName.value = '';
    this.newValue.value = '';
    this.newName.focus();
  }

  append({ name, value }) {
    const row = el(
      'tr',
      {},
      el('td', {}, el('input', { 'data-part': 'name', value: name, 'aria-label': `${this.field} name` })),
      el('td', {}, el('input', { 'data-part': 'value', value: value, 'aria-label': `${this.field} value` })),
      el(
        'td',
        { class: 'actions' },
        el('button', { type: 'button', class: 'link danger-text', onclick: () => this.remove(row) }, 'Remove'),
        el('p', { class: 'field-error' }),
      ),
    );
    this.body.append(row);
    this.numberRows();
  }

  remove(row) {
    row.remove();
    this.numberRows();
  }

  /** Errors name a row by its index (postParams.2.name), so each row's error slot follows its place. */
  numberRows() {
    [...this.body.rows].forEach((row, index) => {
      $('.field-error', row).dataset.errorFor = `${this.field}.${index}`;
    });
  }
}
