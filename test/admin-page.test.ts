import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer as createHttpServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createServer, showServer } from '../src';
import { importProgressQuery, type importSourceWorkflow } from '../src/workflow';
import { startAdminServer, type AdminServer } from '../src/admin-page/admin-server';
import { launchBrowser, recordCspViolations, recordResponses, TEST_OUTPUT } from './support/browser';
import { eventually } from './support/eventually';
import { importSink } from './support/import-sink';
import { testBed } from './support/test-bed';

const password = randomBytes(18).toString('base64url');

async function logIn(page: Page, admin: AdminServer): Promise<void> {
  await page.goto(admin.url);
  assert.equal(new URL(page.url()).pathname, '/login', 'an unauthenticated visit did not land on the login');
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(`${admin.url}/`), page.click('button[type="submit"]')]);
}

const row = (page: Page, name: string) => page.locator(`tr[data-server="${name}"]`);
/** The dialog opens once the server's settings are in the form. */
async function openEdit(page: Page, name: string): Promise<void> {
  await row(page, name).getByRole('button', { name: 'Edit' }).click();
  await page.locator('#server-dialog[open]').waitFor();
}
const rowWithStatus = (page: Page, name: string, status: string) =>
  page.locator(`tr[data-server="${name}"][data-status="${status}"]`).waitFor({ timeout: 30_000 });

/** Answers the page would give a request with these headers, as a script or another site would send it. */
function rawRequest(admin: AdminServer, options: { method: string; path: string; headers: Record<string, string> }) {
  return new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((done, fail) => {
    const req = request(`${admin.url}${options.path}`, { method: options.method, headers: options.headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => done({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.once('error', fail);
    req.end(options.method === 'GET' ? undefined : 'password=x');
  });
}

describe('the OAuth servers admin page (in Chromium)', () => {
  let browser: Browser;
  before(async function () {
    this.timeout(10 * 60_000);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  it('saves a server whose token request fails (Error and why), fixes it through Edit, adds and removes a post parameter, authorizes it, filters, shows a paused import source, deletes, and never sends a secret or token', async function () {
    this.timeout(150_000);
    const bed = testBed();
    const id = randomUUID().slice(0, 6);
    const [name, other, importing] = [`page-${id}-crm`, `page-${id}-erp`, `page-${id}-feed`];
    const category = `Browser ${id}`;
    const wrongSecret = `wrong-${randomBytes(16).toString('hex')}`;
    bed.rememberSecret(wrongSecret);
    const good = bed.serverConfig('client_secret_basic');
    const sink = importSink();

    await bed.withWorker(
      async (taskQueue) => {
        const admin = await startAdminServer({ client: bed.client, taskQueue, password });
        const context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
        const page = await context.newPage();
        const responses = recordResponses(page);
        const violations = recordCspViolations(page);
        try {
          await logIn(page, admin);

          // Save on an empty form: an error beside each required field, nothing saved.
          await page.click('#new-server');
          await page.click('#save-server');
          for (const field of ['name', 'clientId', 'clientSecret', 'accessTokenUrl']) {
            assert.notEqual(await page.textContent(`[data-error-for="${field}"]`), '', `no error beside ${field}`);
          }

          // A wrong secret: saved all the same, Error, and the reason in the Disabled reason box.
          await page.fill('#f-name', name);
          await page.fill('#f-category', category);
          await page.fill('#f-client-id', good.clientId);
          await page.fill('#f-secret-value', wrongSecret);
          await page.fill('#f-token-url', bed.authorizationServer.tokenEndpoint);
          await page.fill('#f-scope', good.scope ?? '');
          await page.fill('#f-origins', bed.api.origin);
          await page.click('#save-server');
          await page.locator('#disabled-reason-box').waitFor({ state: 'visible', timeout: 30_000 });
          assert.match((await page.textContent('#disabled-reason-text')) ?? '', /invalid_client/);
          assert.equal(await page.inputValue('#f-secret-value'), '', 'the secret came back into the form');
          await page.screenshot({ path: resolve(TEST_OUTPUT, 'admin-page-dialog-error.png') });
          await page.click('#server-dialog .dialog-foot [data-close]');
          await rowWithStatus(page, name, 'Error');
          assert.match((await row(page, name).locator('.reason').textContent()) ?? '', /invalid_client/);

          // Edit with bad values: errors beside the fields, on both tabs, and nothing written.
          await openEdit(page, name);
          assert.equal(await page.locator('#f-name').getAttribute('readonly'), '', 'the name can be changed on edit');
          await page.fill('#f-origins', 'not an origin');
          await page.click('#tab-additional');
          await page.fill('#f-retries', '0');
          await page.click('#save-server');
          await page.locator('[data-error-for="allowedOrigins"]:not(:empty)').waitFor();
          await page.locator('[data-error-for="maxRetryAttempts"]:not(:empty)').waitFor({ state: 'attached' });
          assert.equal((await showServer(bed.client, name)).config.maxRetryAttempts, 3, 'an invalid edit was saved');

          // Fix the secret, add a post parameter: saved, and Not authorized until authorized.
          await page.click('#tab-general');
          await page.fill('#f-origins', bed.api.origin);
          await page.fill('#f-secret-value', good.clientSecret.source === 'local' ? good.clientSecret.value : '');
          await page.click('#tab-additional');
          await page.fill('#f-retries', '4');
          await page.getByLabel('New post parameter name').fill('audience');
          await page.getByLabel('New post parameter value').fill('https://api.example');
          await page.locator('#post-params').getByRole('button', { name: 'Add' }).click();
          await page.check('#f-auto-recover');
          await page.fill('#f-recover-initial', '30');
          await page.screenshot({ path: resolve(TEST_OUTPUT, 'admin-page-dialog-additional.png') });
          await page.click('#save-server');
          await rowWithStatus(page, name, 'NotAuthorized');
          const view = await showServer(bed.client, name);
          assert.deepEqual(view.config.postParams, [{ name: 'audience', value: 'https://api.example' }]);
          assert.equal(view.config.maxRetryAttempts, 4);
          assert.deepEqual(view.config.autoRecover, { initialDelay: 30_000, maxDelay: 3_600_000 });

          // Remove it again; a blank secret keeps the stored one.
          await openEdit(page, name);
          await page.click('#tab-additional');
          await page.locator('#post-params tbody tr').getByRole('button', { name: 'Remove' }).click();
          await page.click('#save-server');
          await eventually(async () => (await showServer(bed.client, name)).config.postParams.length === 0, { what: 'the post parameter removed' });
          await page.locator('#list-message', { hasText: 'authorize it again' }).waitFor();

          // Authorize: OK with a token expiry, and no disabled reason left.
          await row(page, name).getByRole('button', { name: 'Authorize' }).click();
          await rowWithStatus(page, name, 'OK');
          assert.match((await row(page, name).locator('td').nth(4).textContent()) ?? '', /^in /);
          assert.equal(await row(page, name).locator('.reason').textContent(), '');

          // Editing an authorized server says it must be authorized again; its History tab says who did what, latest first.
          await openEdit(page, name);
          assert.match((await page.textContent('#form-message')) ?? '', /authorize it again/);
          await page.click('#tab-history');
          const historyRows = await page.locator('#history tbody tr').all();
          const history = await Promise.all(historyRows.map(async (tr) => (await tr.locator('td').allTextContents()).slice(1)));
          assert.deepEqual(history, [
            ['admin', 'Authorized', ''],
            ['admin', 'Edited', 'postParams'],
            ['admin', 'Edited', 'autoRecover, clientSecret, maxRetryAttempts, postParams'],
            ['admin', 'Created', ''],
          ]);
          assert.match((await page.textContent('#history-summary')) ?? '', /^4 changes in all\.$/);
          await page.screenshot({ path: resolve(TEST_OUTPUT, 'admin-page-dialog-history.png') });
          await page.click('#server-dialog .dialog-foot [data-close]');

          // Two more servers: one OK in another category, one in Error with an import source waiting on it.
          await createServer(bed.client, bed.serverConfig('client_secret_basic', { name: other, category: `${category} B` }), { taskQueue });
          await createServer(bed.client, { ...good, name: importing, category, clientSecret: { source: 'local', value: wrongSecret }, autoRecover: { initialDelay: 'PT1H' } }, { taskQueue });
          const importer = await bed.client.workflow.start<typeof importSourceWorkflow>('importSourceWorkflow', {
            taskQueue,
            workflowId: `page-import-${id}`,
            args: [{ server: importing, url: `${bed.api.url}/records` }],
          });
          await eventually(async () => (await importer.query(importProgressQuery)).state === 'paused', { what: 'the import paused' });

          // Filters: by name, by category, by status.
          const rows = page.locator('#servers tbody tr');
          const onlyRow = (server: string, what: string) =>
            eventually(async () => (await rows.count()) === 1 && (await rows.getAttribute('data-server')) === server, { what });
          await page.fill('#filter-name', `page-${id}`);
          await eventually(async () => (await rows.count()) === 3, { what: 'the name filter' });
          await page.screenshot({ path: resolve(TEST_OUTPUT, 'admin-page-list.png') });
          await page.selectOption('#filter-category', `${category} B`);
          await onlyRow(other, 'the category filter');
          await page.selectOption('#filter-category', '');
          await page.selectOption('#filter-status', 'Error');
          await onlyRow(importing, 'the status filter');
          assert.match((await row(page, importing).locator('.reason').textContent()) ?? '', /invalid_client.* Tries again on its own at /);

          // The import source is listed as paused, and on what.
          await row(page, importing).locator('td.number button').click();
          await page.locator('#dependents-dialog[open]').waitFor();
          assert.match((await page.textContent('#dependents-list')) ?? '', new RegExp(`page-import-${id} — import source, paused: the server is Error`));
          await page.click('#dependents-dialog .dialog-foot [data-close]');

          // Delete warns about it and offers force, which stops it.
          await row(page, importing).getByRole('button', { name: 'Delete' }).click();
          await page.locator('#delete-dialog[open]').waitFor();
          assert.match((await page.textContent('#delete-warning')) ?? '', /1 workflow\(s\) depend on this server/);
          assert.equal(await page.isVisible('#confirm-delete'), false, 'a plain delete was offered despite a dependent');
          await page.click('#force-delete');
          await row(page, importing).waitFor({ state: 'detached' });
          await assert.rejects(importer.result());

          // A server without dependents is deleted without force.
          await page.selectOption('#filter-status', '');
          await row(page, other).getByRole('button', { name: 'Delete' }).click();
          await page.locator('#confirm-delete').click();
          await row(page, other).waitFor({ state: 'detached' });

          const secrets = [...bed.secretsUsed(), ...bed.authorizationServer.issuedAccessTokens()];
          const bodies = await responses.bodies();
          assert.ok(bodies.length > 20, `only ${bodies.length} responses were recorded`);
          for (const { url, body } of bodies) {
            for (const secret of secrets) assert.ok(!body.includes(secret), `a response from ${url} carried a secret or token`);
          }
          assert.deepEqual(violations, [], 'the page broke its own Content Security Policy');
        } finally {
          await context.close();
          await admin.close();
        }
      },
      { activities: sink.activities },
    );
  });

  it('saves a server by its issuer alone (the token URL left blank), which reaches OK, and Edit shows the issuer and a blank token URL; a token URL (and a category) added and then blanked in Edit are removed (the category back to Default), and blanking the issuer too is refused beside the field', async function () {
    this.timeout(90_000);
    const bed = testBed();
    const name = `page-${randomUUID().slice(0, 6)}-issuer`;
    const good = bed.serverConfig('client_secret_post');
    await bed.withWorker(async (taskQueue) => {
      const admin = await startAdminServer({ client: bed.client, taskQueue, password });
      const context = await browser.newContext();
      const page = await context.newPage();
      try {
        await logIn(page, admin);
        await page.click('#new-server');
        await page.fill('#f-name', name);
        await page.selectOption('#f-auth-method', 'client_secret_post');
        await page.fill('#f-client-id', bed.clients.client_secret_post.clientId);
        await page.fill('#f-secret-value', bed.clients.client_secret_post.secret);
        await page.fill('#f-issuer', bed.authorizationServer.issuer);
        await page.fill('#f-scope', good.scope ?? '');
        await page.click('#save-server');
        await rowWithStatus(page, name, 'OK');
        const view = await showServer(bed.client, name);
        assert.deepEqual([view.config.accessTokenUrl, view.config.issuer], [undefined, bed.authorizationServer.issuer]);

        await openEdit(page, name);
        assert.equal(await page.inputValue('#f-token-url'), '');
        assert.equal(await page.inputValue('#f-issuer'), bed.authorizationServer.issuer);

        const tokenUrlIs = (expected: string | undefined, what: string) =>
          eventually(async () => ((await showServer(bed.client, name)).config.accessTokenUrl === expected ? true : undefined), { what });
        await page.fill('#f-token-url', bed.authorizationServer.tokenEndpoint);
        await page.fill('#f-category', 'Billing');
        await page.click('#save-server');
        await tokenUrlIs(bed.authorizationServer.tokenEndpoint, 'the token URL added');
        assert.equal((await showServer(bed.client, name)).config.category, 'Billing');
        await openEdit(page, name);
        await page.fill('#f-token-url', '');
        await page.fill('#f-category', '');
        await page.click('#save-server');
        await tokenUrlIs(undefined, 'the blanked token URL removed');
        assert.equal((await showServer(bed.client, name)).config.category, 'Default');

        await openEdit(page, name);
        await page.fill('#f-issuer', '');
        await page.click('#save-server');
        await page.locator('[data-error-for="accessTokenUrl"]:not(:empty)').waitFor();
        assert.match(await page.locator('[data-error-for="accessTokenUrl"]').innerText(), /accessTokenUrl or issuer must be set/);
        assert.equal((await showServer(bed.client, name)).config.issuer, bed.authorizationServer.issuer, 'an edit leaving neither was saved');
      } finally {
        await context.close();
        await admin.close();
      }
    });
  });

  it('refuses cross-site requests (Origin, Sec-Fetch-Site, Host), even from a page on a neighbouring port, and sets a strict CSP and session cookie', async function () {
    this.timeout(60_000);
    const admin = await startAdminServer({ client: testBed().client, taskQueue: 'unused', password });
    // A page on another origin that posts to the admin page as soon as it loads.
    const attacker = createHttpServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end(
        `<form id="f" method="post" action="${admin.url}/api/servers/x/authorize"></form><script>document.getElementById('f').submit()</script>`,
      );
    });
    await new Promise<void>((listening) => attacker.listen(0, '127.0.0.1', listening));
    const attackerPort = (attacker.address() as AddressInfo).port;
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      const login = await rawRequest(admin, { method: 'GET', path: '/login', headers: {} });
      assert.match(String(login.headers['content-security-policy']), /default-src 'none'; script-src 'self'; style-src 'self'/);
      assert.doesNotMatch(String(login.headers['content-security-policy']), /unsafe/);
      assert.equal((await rawRequest(admin, { method: 'GET', path: '/', headers: {} })).headers.location, '/login');
      assert.equal((await rawRequest(admin, { method: 'GET', path: '/api/servers', headers: {} })).status, 401);

      await logIn(page, admin);
      const cookie = (await context.cookies()).find((candidate) => candidate.name === 'temporal_oauth_admin');
      assert.ok(cookie, 'no session cookie');
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Strict');

      // Same site but another origin (the cookie goes along), then another site altogether.
      for (const origin of [`http://127.0.0.1:${attackerPort}`, `http://localhost:${attackerPort}`]) {
        const [response] = await Promise.all([page.waitForResponse(`${admin.url}/api/servers/x/authorize`), page.goto(origin)]);
        assert.equal(response.status(), 403, `a POST from ${origin} was not refused`);
        assert.match(await response.text(), /cross-site request refused/);
      }

      const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
      const crossSite: Record<string, string>[] = [{ Origin: 'http://evil.example' }, { 'Sec-Fetch-Site': 'cross-site', Origin: admin.url }, {}];
      for (const headers of crossSite) {
        const answer = await rawRequest(admin, { method: 'POST', path: '/login', headers: { ...form, ...headers } });
        assert.equal(answer.status, 403, `POST /login with ${JSON.stringify(headers)} was not refused`);
      }
      const rebound = await rawRequest(admin, { method: 'GET', path: '/login', headers: { Host: `attacker.example:${new URL(admin.url).port}` } });
      assert.equal(rebound.status, 403, 'a request for an unknown host name was answered');
    } finally {
      await context.close();
      await new Promise((closed) => attacker.close(closed));
      await admin.close();
    }
  });

  it('limits login attempts: after 5 wrong passwords even the right one waits', async () => {
    const admin = await startAdminServer({ client: testBed().client, taskQueue: 'unused', password });
    const attempt = (presented: string) =>
      fetch(`${admin.url}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: admin.url },
        body: new URLSearchParams({ password: presented }),
      });
    try {
      for (let i = 0; i < 5; i += 1) assert.equal((await attempt(`guess-${i}-${password}`)).status, 401);
      const limited = await attempt(password);
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get('retry-after')) > 0, 'no Retry-After');
      assert.match(await limited.text(), /Too many failed attempts/);
    } finally {
      await admin.close();
    }
  });
});
