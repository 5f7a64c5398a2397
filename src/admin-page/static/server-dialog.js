import { api, ApiError, serverPath } from './api.js';
import { $, el, say, wireCloseButtons } from './dom.js';
import { actionLabel, localTime, nextProbeText } from './format.js';
import { ParamRows } from './param-rows.js';

const NEW_SERVER_DEFAULTS = {
  name: '',
  category: '',
  grantType: 'client_credentials',
  authMethod: 'client_secret_basic',
  clientId: '',
  clientSecret: { source: 'local' },
  accessTokenUrl: '',
  scope: '',
  allowedOrigins: [],
  includeScope: true,
  maxRetryAttempts: 3,
  maxWait: 60_000,
  queryParams: [],
  postParams: [],
  autoRecover: false,
};

/** What the delay fields show when probing is off. */
const DEFAULT_RECOVERY_SECONDS = { initialDelay: 60, maxDelay: 3600 };

const optionalNumber = (text) => (text.trim() === '' ? undefined : Number(text));
/** Seconds in a field as the milliseconds the configuration holds; a blank field takes the default. */
const seconds = (text) => {
  const value = optionalNumber(text);
  return value === undefined ? undefined : value * 1000;
};

/** The New and Edit dialog: General and Additional properties, field errors beside their fields. */
export class ServerDialog {
  constructor({ onSaved }) {
    this.onSaved = onSaved;
    this.dialog = $('#server-dialog');
    this.form = $('#server-form');
    this.queryParams = new ParamRows($('#query-params'));
    this.postParams = new ParamRows($('#post-params'));
    wireCloseButtons(this.dialog);
    for (const tab of this.dialog.querySelectorAll('[role="tab"]')) tab.addEventListener('click', () => this.showTab(tab));
    for (const radio of this.form.elements.secretSource) radio.addEventListener('change', () => this.showSecretInput());
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.save();
    });
  }

  openNew(categories) {
    this.editing = undefined;
    this.categories = categories;
    this.fill(NEW_SERVER_DEFAULTS);
    $('#tab-history').hidden = true;
    $('#server-dialog-title').textContent = 'New OAuth server configuration';
    this.dialog.showModal();
    this.form.elements.name.focus();
  }

  async openEdit(name, categories) {
    const [view, history] = await Promise.all([api('GET', serverPath(name)), api('GET', `${serverPath(name)}/history`)]);
    this.editing = view;
    this.categories = categories;
    this.fill(view.config);
    this.showHistory(history);
    $('#server-dialog-title').textContent = `Edit OAuth server: ${view.config.name}`;
    this.showState(view);
    if (!this.dialog.open) this.dialog.showModal();
  }

  /** The admin actions on the server, latest first. */
  showHistory({ entries, total }) {
    $('#tab-history').hidden = false;
    const older = total - entries.length;
    $('#history-summary').textContent = `${total} change${total === 1 ? '' : 's'} in all${older > 0 ? `; the latest ${entries.length} are shown` : ''}.`;
    $('#history tbody').replaceChildren(
      ...[...entries].reverse().map((entry) =>
        el(
          'tr',
          { dataset: { action: entry.action } },
          el('td', { title: entry.at }, localTime(entry.at)),
          el('td', {}, entry.actor ?? 'unknown'),
          el('td', {}, actionLabel(entry.action)),
          el('td', {}, entry.fields?.join(', ') ?? ''),
        ),
      ),
    );
  }

  fill(config) {
    const f = this.form.elements;
    this.clearMessages();
    f.name.value = config.name;
    f.name.readOnly = this.editing !== undefined;
    f.category.value = config.category;
    $('#categories').replaceChildren(...this.categories.map((category) => el('option', { value: category })));
    f.grantType.value = config.grantType;
    f.authMethod.value = config.authMethod;
    f.clientId.value = config.clientId;
    f.secretSource.value = config.clientSecret.source;
    f.secretValue.value = '';
    f.secretRef.value = config.clientSecret.ref ?? '';
    f.accessTokenUrl.value = config.accessTokenUrl ?? '';
    f.issuer.value = config.issuer ?? '';
    f.scope.value = config.scope;
    f.allowedOrigins.value = config.allowedOrigins.join('\n');
    f.includeScope.checked = config.includeScope;
    f.maxRetryAttempts.value = String(config.maxRetryAttempts);
    f.maxWait.value = String(config.maxWait / 1000);
    this.queryParams.set(config.queryParams);
    this.postParams.set(config.postParams);
    const recovery = config.autoRecover ? { initialDelay: config.autoRecover.initialDelay / 1000, maxDelay: config.autoRecover.maxDelay / 1000 } : DEFAULT_RECOVERY_SECONDS;
    f.autoRecover.checked = Boolean(config.autoRecover);
    f.recoverInitialDelay.value = String(recovery.initialDelay);
    f.recoverMaxDelay.value = String(recovery.maxDelay);
    this.showSecretInput();
    this.showTab($('#tab-general'));
  }

  /** The secret is write-only: on edit the field starts blank, and blank keeps the stored one. */
  showSecretInput() {
    const f = this.form.elements;
    const local = f.secretSource.value === 'local';
    f.secretValue.hidden = !local;
    f.secretRef.hidden = local;
    const storedLocal = this.editing?.config.clientSecret.source === 'local';
    f.secretValue.placeholder = storedLocal ? 'Stored; leave blank to keep it' : 'The client secret (or private key JWK for private key JWT)';
    $('#secret-hint').textContent = local
      ? 'Sent to the OAuth server only; never shown again.'
      : 'A reference the workers resolve: env:NAME or file:/path.';
  }

  /** After Save or Authorize: why the server is disabled, or that an authorized server must be authorized again. */
  showState(view) {
    const box = $('#disabled-reason-box');
    box.hidden = view.status !== 'Error';
    $('#disabled-reason-text').textContent = view.disabledReason?.message ?? '';
    say($('#next-probe-text'), nextProbeText(view.nextProbeAt));
    if (view.status === 'OK') say($('#form-message'), 'This server is authorized. Saving a change removes its token: authorize it again afterwards.');
  }

  readForm() {
    const f = this.form.elements;
    const config = {
      grantType: f.grantType.value,
      authMethod: f.authMethod.value,
      clientId: f.clientId.value.trim(),
      scope: f.scope.value,
      allowedOrigins: f.allowedOrigins.value.split('\n').map((line) => line.trim()).filter(Boolean),
      includeScope: f.includeScope.checked,
      maxRetryAttempts: optionalNumber(f.maxRetryAttempts.value),
      maxWait: seconds(f.maxWait.value),
      queryParams: this.queryParams.get(),
      postParams: this.postParams.get(),
      autoRecover: f.autoRecover.checked ? { initialDelay: seconds(f.recoverInitialDelay.value), maxDelay: seconds(f.recoverMaxDelay.value) } : false,
    };
    const category = f.category.value.trim();
    if (category !== '') config.category = category;
    // Blank means the default the field shows, on Edit too: otherwise the server would keep what the admin erased.
    else if (this.editing) config.category = f.category.placeholder;
    // Either may be left blank: with the issuer alone, the token endpoint comes from its metadata.
    // An edit that blanks one the server has removes it (null); otherwise the server would keep what the admin erased.
    for (const field of ['accessTokenUrl', 'issuer']) {
      const value = f[field].value.trim();
      if (value !== '') config[field] = value;
      else if (this.editing?.config[field] !== undefined) config[field] = null;
    }
    if (f.secretSource.value === 'external') config.clientSecret = { source: 'external', ref: f.secretRef.value.trim() };
    else if (f.secretValue.value !== '' || this.editing?.config.clientSecret.source !== 'local') config.clientSecret = { source: 'local', value: f.secretValue.value };
    return config;
  }

  async save() {
    this.clearMessages();
    const button = $('#save-server');
    button.disabled = true;
    button.textContent = this.editing ? 'Saving…' : 'Saving and requesting a token…';
    try {
      if (this.editing) {
        const view = await api('PUT', serverPath(this.editing.config.name), this.readForm());
        this.dialog.close();
        this.onSaved(view, `Saved ${view.config.name}. It is Not authorized until you authorize it again.`);
        return;
      }
      const view = await api('POST', '/servers', { name: this.form.elements.name.value, ...this.readForm() });
      if (view.status === 'OK') {
        this.dialog.close();
        this.onSaved(view, `Saved ${view.config.name}: authorized.`);
        return;
      }
      // Saved all the same: the dialog turns into the server's Edit dialog, with the reason shown.
      await this.openEdit(view.config.name, this.categories);
      say($('#form-message'), 'Saved, but the token request failed. Fix the settings and save again, then authorize.');
      this.scrollToMessages();
      this.onSaved(view);
    } catch (error) {
      this.showError(error);
    } finally {
      button.disabled = false;
      button.textContent = 'Save';
    }
  }

  showError(error) {
    if (!(error instanceof ApiError) || error.issues.length === 0) {
      say($('#form-error'), error.message);
      return this.scrollToMessages();
    }
    const unplaced = [];
    for (const issue of error.issues) {
      const slot = this.errorSlot(issue.field);
      if (slot) slot.textContent = slot.textContent ? `${slot.textContent} ${issue.message}` : issue.message;
      else unplaced.push(issue.message);
    }
    say($('#form-error'), unplaced.length ? unplaced.join(' ') : 'Some fields need a change: see below.');
    const tabsWithErrors = [...this.dialog.querySelectorAll('[role="tab"]')].filter((tab) => {
      const hasError = [...$(`#${tab.dataset.panel}`).querySelectorAll('.field-error')].some((slot) => slot.textContent !== '');
      tab.classList.toggle('has-error', hasError);
      return hasError;
    });
    if (tabsWithErrors[0]) this.showTab(tabsWithErrors[0]);
    this.scrollToMessages();
  }

  /** The nearest slot for a field path: postParams.1.name goes to row 1 of the post parameters. */
  errorSlot(field) {
    for (let parts = field.split('.'); parts.length > 0; parts = parts.slice(0, -1)) {
      const slot = this.form.querySelector(`[data-error-for="${CSS.escape(parts.join('.'))}"]`);
      if (slot) return slot;
    }
    return undefined;
  }

  /** Messages sit at the top of the dialog's body: bring them into view. */
  scrollToMessages() {
    $('.dialog-body', this.dialog).scrollTop = 0;
  }

  clearMessages() {
    for (const slot of this.form.querySelectorAll('.field-error')) slot.textContent = '';
    for (const tab of this.dialog.querySelectorAll('[role="tab"]')) tab.classList.remove('has-error');
    say($('#form-message'), '');
    say($('#form-error'), '');
    $('#disabled-reason-box').hidden = true;
  }

  showTab(selected) {
    for (const tab of this.dialog.querySelectorAll('[role="tab"]')) {
      const isSelected = tab === selected;
      tab.setAttribute('aria-selected', String(isSelected));
      $(`#${tab.dataset.panel}`).hidden = !isSelected;
    }
  }
}
