import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { authorizeServer, createServer, editServer, listDependents } from '../src';
import { ImportFailure } from '../src/contract/failures';
import { importProgressQuery, type ImportProgress, type ImportSourceInput, type importSourceWorkflow } from '../src/workflow';
import { finishSignal, probeStatusQuery, type dependentProbe } from './workflows';
import { startBreakableTokenEndpoint } from './support/breakable-token-endpoint';
import { eventually } from './support/eventually';
import { importSink } from './support/import-sink';
import { startPagedApi } from './support/paged-api';
import { testBed } from './support/test-bed';

/** The import's progress once it reports itself paused. */
function pausedProgress(importer: WorkflowHandle, what: string): Promise<ImportProgress> {
  return eventually(
    async () => {
      const progress = await importer.query(importProgressQuery);
      return progress.state === 'paused' ? progress : undefined;
    },
    { what, timeoutMs: 10_000 },
  );
}

/** Runs `check` again and again over a few of the workers' status re-reads, so that a paused import has had every chance to move. */
async function overStatusRereads(check: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 2_500;
  while (Date.now() < deadline) {
    await check();
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('import sources pause while their server is disabled and resume when it is re-authorized', () => {
  it('500 records over two disable cycles (one cutting a page): the import pauses, shows why, and after each re-authorization resumes to finish with every record exactly once', async function () {
    this.timeout(120_000);
    const bed = testBed();
    const tokenEndpoint = await startBreakableTokenEndpoint(bed.authorizationServer.tokenEndpoint);
    const source = await bed.startResourceApi({ recordCount: 500 });
    const sink = importSink(15);
    try {
      await bed.withWorker(
        async (taskQueue) => {
          const config = bed.serverConfig('client_secret_basic', {
            accessTokenUrl: tokenEndpoint.url,
            allowedOrigins: [source.origin],
            maxRetryAttempts: 1,
          });
          assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
          const importer = await bed.client.workflow.start<typeof importSourceWorkflow>('importSourceWorkflow', {
            taskQueue,
            workflowId: `import-${randomUUID()}`,
            args: [{ server: config.name, url: `${source.url}/records`, pageSize: 10 }],
          });
          await eventually(async () => ((await importer.query(importProgressQuery)).imported >= 100 ? true : undefined), {
            what: '100 records imported',
          });

          const pausedImport = async () => {
            const paused = await pausedProgress(importer, 'the import paused');
            assert.equal(paused.serverStatus, 'Error');
            assert.ok(paused.imported < 500, 'the import finished before the disable');
            // A paused import must stay still.
            await overStatusRereads(async () => {
              assert.equal((await importer.query(importProgressQuery)).imported, paused.imported, 'the import kept going while disabled');
            });
            return paused;
          };
          const reauthorize = async () => {
            tokenEndpoint.repair();
            assert.equal((await authorizeServer(bed.client, config.name)).status, 'OK');
          };

          // First cycle: an admin's authorization fails, between pages.
          tokenEndpoint.break();
          assert.equal((await authorizeServer(bed.client, config.name)).status, 'Error');
          await pausedImport();
          await reauthorize();

          // Second cycle: in the middle of a page, the API rejects the token and its refresh fails: that page is cut and redone later.
          await eventually(async () => ((await importer.query(importProgressQuery)).imported >= 300 ? true : undefined), { what: '300 records imported' });
          tokenEndpoint.break();
          const current = source.calls.at(-1)?.tokenSha256;
          assert.ok(current);
          source.rejectToken(current);
          const cut = await pausedImport();
          assert.match(cut.lastError ?? '', /disabled/, 'the progress does not say why the page failed');
          await reauthorize();

          const done = await importer.result();
          assert.equal(done.state, 'completed');
          assert.equal(done.imported, 500);
          const ids = sink.recordIds(importer.workflowId);
          assert.equal(ids.length, 500, 'some record was delivered twice or not at all');
          assert.equal(new Set(ids).size, 500);
        },
        { activities: sink.activities },
      );
    } finally {
      await Promise.all([tokenEndpoint.close(), source.close()]);
    }
  });

  it('50 dependents of one server all pause within a few seconds of the disable, and all resume', async function () {
    this.timeout(120_000);
    const bed = testBed();
    const tokenEndpoint = await startBreakableTokenEndpoint(bed.authorizationServer.tokenEndpoint);
    try {
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic', { accessTokenUrl: tokenEndpoint.url, maxRetryAttempts: 1 });
        await createServer(bed.client, config, { taskQueue });
        const probes = await Promise.all(
          Array.from({ length: 50 }, () =>
            bed.client.workflow.start<typeof dependentProbe>('dependentProbe', { taskQueue, workflowId: `probe-${randomUUID()}`, args: [config.name] }),
          ),
        );
        const allSay = (status: string, timeoutMs: number) =>
          eventually(
            async () => {
              const statuses = await Promise.all(probes.map((probe) => probe.query(probeStatusQuery).catch(() => 'unregistered')));
              return statuses.every((seen) => seen === status) ? true : undefined;
            },
            { what: `all 50 dependents hear ${status}`, timeoutMs },
          );
        await allSay('OK', 30_000);
        assert.equal((await listDependents(bed.client, config.name)).length, 50);

        tokenEndpoint.break();
        const disabledAt = Date.now();
        assert.equal((await authorizeServer(bed.client, config.name)).status, 'Error');
        await allSay('Error', 5_000);
        assert.ok(Date.now() - disabledAt < 5_000);

        tokenEndpoint.repair();
        assert.equal((await authorizeServer(bed.client, config.name)).status, 'OK');
        await allSay('OK', 5_000);
        await Promise.all(probes.map((probe) => probe.signal(finishSignal)));
        assert.deepEqual(new Set(await Promise.all(probes.map((probe) => probe.result()))), new Set(['OK']));
        await eventually(async () => ((await listDependents(bed.client, config.name)).length === 0 ? true : undefined), {
          what: 'the finished dependents to be forgotten',
          timeoutMs: 10_000,
        });
      });
    } finally {
      await tokenEndpoint.close();
    }
  });

  it('an import started while its server is disabled starts paused, calls nothing, and imports everything once the server is authorized', async function () {
    this.timeout(60_000);
    const bed = testBed();
    const source = await bed.startResourceApi({ recordCount: 30 });
    const sink = importSink(10);
    try {
      await bed.withWorker(
        async (taskQueue) => {
          const config = bed.serverConfig('client_secret_basic', {
            clientSecret: { source: 'local', value: 'not-the-secret-of-this-client' },
            allowedOrigins: [source.origin],
          });
          assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'Error');
          const importer = await bed.client.workflow.start<typeof importSourceWorkflow>('importSourceWorkflow', {
            taskQueue,
            workflowId: `import-${randomUUID()}`,
            args: [{ server: config.name, url: `${source.url}/records`, pageSize: 10 }],
          });
          const paused = await pausedProgress(importer, 'the import started paused');
          assert.equal(paused.serverStatus, 'Error');
          assert.equal(paused.imported, 0);
          // No page is asked for meanwhile.
          await overStatusRereads(async () => {
            assert.equal((await importer.query(importProgressQuery)).state, 'paused');
          });
          assert.equal(source.calls.length, 0, 'the paused import called the API');

          await editServer(bed.client, config.name, { clientSecret: { source: 'local', value: bed.clients.client_secret_basic.secret } });
          assert.equal((await authorizeServer(bed.client, config.name)).status, 'OK');
          const done = await importer.result();
          assert.equal(done.imported, 30);
          assert.equal(new Set(sink.recordIds(importer.workflowId)).size, 30);
          assert.equal(sink.recordIds(importer.workflowId).length, 30);
        },
        { activities: sink.activities },
      );
    } finally {
      await source.close();
    }
  });

  it('an import started in clear by a client without the codec keys fails at once and spends no token', async function () {
    this.timeout(60_000);
    const bed = testBed();
    const source = await bed.startResourceApi({ recordCount: 10 });
    try {
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic', { allowedOrigins: [source.origin] });
        assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
        const plain = await bed.rawClient.workflow.start('importSourceWorkflow', {
          taskQueue,
          workflowId: `import-${randomUUID()}`,
          args: [{ server: config.name, url: `${source.url}/records`, pageSize: 10 }],
        });
        await assert.rejects(bed.client.workflow.getHandle(plain.workflowId).result(), (error: unknown) => {
          assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure, String(error));
          assert.equal(error.cause.type, ImportFailure.NotEncrypted);
          return true;
        });
        assert.equal(source.calls.length, 0);
        assert.deepEqual(await listDependents(bed.client, config.name), []);
      });
    } finally {
      await source.close();
    }
  });
});

describe('import sources read other page shapes', () => {
  const TOTAL = 47;
  const shapes: { route: string; pageSize: number; pageShape: ImportSourceInput['pageShape']; firstCall: string; pages: number }[] = [
    {
      route: '/numbered',
      pageSize: 7,
      pageShape: { recordsPath: 'data.items', nextCursorPath: 'meta.next', cursorParam: 'page', pageSizeParam: 'per_page', firstCursor: 1 },
      firstCall: '/numbered?page=1&per_page=7',
      pages: 7,
    },
    { route: '/linked', pageSize: 10, pageShape: { recordsPath: '', nextLinkHeader: true, pageSizeParam: 'per_page' }, firstCall: '/linked?per_page=10', pages: 5 },
    { route: '/next-url', pageSize: 5, pageShape: { recordsPath: 'results', nextUrlPath: 'links.next', pageSizeParam: 'size' }, firstCall: '/next-url?size=5', pages: 10 },
  ];

  it('pages numbered in the body, a Link header, and next URLs in the body: every record exactly once, in order', async function () {
    this.timeout(120_000);
    const bed = testBed();
    const api = await startPagedApi(TOTAL);
    const sink = importSink();
    try {
      await bed.withWorker(
        async (taskQueue) => {
          const config = bed.serverConfig('client_secret_basic', { allowedOrigins: [api.origin] });
          assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
          await Promise.all(
            shapes.map(async ({ route, pageSize, pageShape, firstCall, pages }) => {
              const importer = await bed.client.workflow.start<typeof importSourceWorkflow>('importSourceWorkflow', {
                taskQueue,
                workflowId: `import-${route.slice(1)}-${randomUUID()}`,
                args: [{ server: config.name, url: `${api.origin}${route}`, pageSize, pageShape }],
              });
              const done = await importer.result();
              assert.equal(done.state, 'completed', route);
              assert.equal(done.imported, TOTAL, route);
              assert.equal(done.pages, pages, route);
              const expected = Array.from({ length: TOTAL }, (_, index) => `item-${index + 1}`);
              assert.deepEqual(sink.recordIds(importer.workflowId), expected, `${route}: a record was delivered twice, out of order or not at all`);
              const calls = api.calls.filter((call) => call.pathAndQuery.startsWith(`${route}?`));
              assert.equal(calls[0]?.pathAndQuery, firstCall, route);
              assert.equal(calls.length, pages, `${route}: ${calls.map((call) => call.pathAndQuery).join(' ')}`);
            }),
          );
          assert.ok(api.calls.every((call) => call.bearer));
        },
        { activities: sink.activities },
      );
    } finally {
      await api.close();
    }
  });

  it('a bad paging option fails the import at once as InvalidImportSource naming it, before any call or registration', async function () {
    this.timeout(60_000);
    const bed = testBed();
    const api = await startPagedApi(TOTAL);
    try {
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic', { allowedOrigins: [api.origin] });
        assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
        const url = `${api.origin}/numbered`;
        const bad: [Partial<ImportSourceInput>, string][] = [
          [{ pageShape: { recordsPath: 'data..items' } }, 'pageShape.recordsPath'],
          [{ pageShape: { nextCursorPath: 'meta.next', nextLinkHeader: true } }, 'pageShape.nextCursorPath'],
          [{ pageShape: { nextUrlPath: 'links.next', cursorParam: 'page' } }, 'pageShape.cursorParam'],
          [{ pageShape: { cursorParam: 'page', pageSizeParam: 'page' } }, 'pageShape.pageSizeParam'],
          [{ pageShape: { recrdsPath: 'items' } as ImportSourceInput['pageShape'] }, 'pageShape.recrdsPath'],
          [{ pageShape: { firstCursor: { page: 1 } } as unknown as ImportSourceInput['pageShape'] }, 'pageShape.firstCursor'],
          [{ pageSize: 0 }, 'pageSize'],
          [{ url: 'ftp://127.0.0.1/records' }, 'url'],
        ];
        await Promise.all(
          bad.map(async ([change, field]) => {
            const importer = await bed.client.workflow.start<typeof importSourceWorkflow>('importSourceWorkflow', {
              taskQueue,
              workflowId: `import-invalid-${randomUUID()}`,
              args: [{ server: config.name, url, ...change }],
            });
            await assert.rejects(importer.result(), (error: unknown) => {
              assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure, String(error));
              assert.equal(error.cause.type, ImportFailure.InvalidSource, field);
              assert.ok(error.cause.message.startsWith(`${field}: `), `${error.cause.message} does not name ${field}`);
              return true;
            });
          }),
        );
        assert.equal(api.calls.length, 0);
        assert.deepEqual(await listDependents(bed.client, config.name), []);
      });
    } finally {
      await api.close();
    }
  });
});
