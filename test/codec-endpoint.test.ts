import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { defaultPayloadConverter } from '@temporalio/common';
import { startCodecServer, type CodecServer } from '../src/codec/codec-server';
import { EncryptionCodec } from '../src/codec/encryption-codec';
import { OAUTH_SEARCH_ATTRIBUTES } from '../src';
import { startTemporalEnvironment, type TemporalEnvironment } from '../src/dev-server/temporal-environment';
import { testLogger } from './support/captured-logs';
import { serverLogFile } from './support/leak-scan';
import { locateTemporalCli } from '../src/temporal-cli/binary';
import { runProcess } from './support/run-process';
import { codecKeys, testBed } from './support/test-bed';
import { freePort } from './support/free-port';


/** The command line of every process this user may read. */
function everyCommandLine(): string[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        return [readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')];
      } catch {
        return []; // It exited while we looked, or is not ours to read.
      }
    });
}

const base64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64');

describe('the dev server’s Web UI decodes through the codec endpoint without a credential in argv or settings', function () {
  let temporal: TemporalEnvironment | undefined;
  let codecServer: CodecServer | undefined;
  const credential = randomBytes(24).toString('base64url');
  let uiOrigin: string;

  before(async function () {
    this.timeout(120_000);
    // With TEMPORAL_ADDRESS the Web UI is that server's, configured by its operator.
    if (process.env.TEMPORAL_ADDRESS) this.skip();
    const uiPort = await freePort();
    uiOrigin = `http://127.0.0.1:${uiPort}`;
    // As the main job wires it.
    codecServer = await startCodecServer({ codec: new EncryptionCodec(codecKeys), credential, allowedOrigin: uiOrigin, trustAllowedOrigin: true });
    temporal = await startTemporalEnvironment({
      searchAttributes: OAUTH_SEARCH_ATTRIBUTES,
      ui: true,
      uiPort,
      uiCodecEndpoint: codecServer.url,
      outputFile: serverLogFile('codec-endpoint'),
      log: (line) => testLogger.info(line),
    });
  });

  after(async function () {
    this.timeout(60_000);
    await temporal?.teardown();
    await codecServer?.close();
  });

  it('the UI is told the endpoint, and neither its settings nor any process’s argv hold the credential', async () => {
    assert.equal(temporal?.uiUrl, uiOrigin);
    const settings = await (await fetch(`${uiOrigin}/api/v1/settings`)).text();
    const { Codec } = JSON.parse(settings) as { Codec?: { Endpoint?: string } };
    assert.equal(Codec?.Endpoint, codecServer?.url);
    assert.ok(!settings.includes(credential), 'the UI settings show the codec credential');
    const commandLines = everyCommandLine();
    assert.ok(commandLines.some((line) => line.includes(`--ui-codec-endpoint ${codecServer?.url}`)), 'no dev server with the codec endpoint found');
    assert.ok(!commandLines.some((line) => line.includes(credential)), 'a command line holds the codec credential');
  });

  it('a page of the UI’s origin decodes (redacted); no other origin, and no caller without Origin or credential, does; /encode is off', async () => {
    const [encrypted] = await new EncryptionCodec(codecKeys).encode([defaultPayloadConverter.toPayload({ clientSecret: { source: 'local', value: credential } })]);
    const body = JSON.stringify({ payloads: [{ metadata: Object.fromEntries(Object.entries(encrypted?.metadata ?? {}).map(([key, value]) => [key, base64(value)])), data: base64(encrypted?.data) }] });
    const post = (operation: string, headers: Record<string, string>) =>
      fetch(`${codecServer?.url}/default/${operation}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const asTheUi = await post('decode', { origin: uiOrigin, 'x-namespace': 'default' });
    assert.equal(asTheUi.status, 200);
    assert.equal(asTheUi.headers.get('access-control-allow-origin'), uiOrigin);
    const [decoded] = ((await asTheUi.json()) as { payloads: { data: string }[] }).payloads;
    assert.deepEqual(JSON.parse(Buffer.from(decoded?.data ?? '', 'base64').toString()), { clientSecret: '[REDACTED]' });
    // The dev server's banner says localhost: the UI opened there decodes too, and only on its own port.
    const uiOnLocalhost = uiOrigin.replace('127.0.0.1', 'localhost');
    const asTheUiOnLocalhost = await post('decode', { origin: uiOnLocalhost });
    assert.equal(asTheUiOnLocalhost.status, 200);
    assert.equal(asTheUiOnLocalhost.headers.get('access-control-allow-origin'), uiOnLocalhost);
    assert.equal((await post('decode', { origin: 'http://localhost:1' })).status, 403);
    assert.equal((await post('decode', { origin: uiOrigin.replace('http://127.0.0.1', 'http://127.0.0.1.example.com') })).status, 403);
    assert.equal((await post('decode', {})).status, 401);
    assert.equal((await post('decode', { authorization: `Bearer ${credential}` })).status, 200);
    assert.equal((await post('encode', { origin: uiOrigin })).status, 403);
  });

  it('refuses a codec endpoint URL that carries a credential', async () => {
    for (const uiCodecEndpoint of ['http://user:secret@127.0.0.1:1', 'http://127.0.0.1:1/?token=secret']) {
      await assert.rejects(startTemporalEnvironment({ searchAttributes: [], ui: true, uiCodecEndpoint }), (error: unknown) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, /uiCodecEndpoint must be an http\(s\) URL without user info or query/);
        assert.ok(!error.message.includes('secret'));
        return true;
      });
    }
  });
});

describe('the codec endpoint serves the Temporal CLI', () => {
  it('temporal workflow show --codec-endpoint --codec-auth prints the decoded (redacted) input; without the credential it is refused', async function () {
    this.timeout(60_000);
    const bed = testBed();
    const credential = randomBytes(24).toString('base64url');
    const server = await startCodecServer({ codec: new EncryptionCodec(codecKeys), credential, allowedOrigin: 'http://127.0.0.1:1' });
    const secretHeader = `Bearer ${randomBytes(16).toString('hex')}`;
    // Nobody polls this queue: the started event's input is all the CLI has to decode.
    const handle = await bed.client.workflow.start('callOnce', {
      taskQueue: `codec-cli-${randomBytes(4).toString('hex')}`,
      workflowId: `codec-cli-${randomBytes(8).toString('hex')}`,
      args: [{ server: 'nobody', url: 'http://127.0.0.1:1/decoded-by-the-cli', headers: { authorization: secretHeader } }],
    });
    try {
      const cli = await locateTemporalCli({ log: (line) => testLogger.info(line) });
      const show = (extra: string[]) =>
        runProcess(cli, ['workflow', 'show', '--address', bed.temporal.address, '--namespace', bed.temporal.namespace, '-w', handle.workflowId, '--output', 'json', '--codec-endpoint', server.url, ...extra], {
          env: { ...process.env, TEMPORAL_ADDRESS: undefined },
        });
      /** The started event's input as the CLI printed it: JSON text once decoded, ciphertext otherwise. */
      const printedInput = (stdout: string): string => {
        const { events } = JSON.parse(stdout) as { events: { workflowExecutionStartedEventAttributes?: { input?: { payloads?: { data?: string }[] } } }[] };
        return Buffer.from(events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data ?? '', 'base64').toString('utf8');
      };
      const decoded = await show(['--codec-auth', `Bearer ${credential}`]);
      assert.equal(decoded.code, 0, decoded.stderr);
      assert.deepEqual(JSON.parse(printedInput(decoded.stdout)), {
        server: 'nobody',
        url: 'http://127.0.0.1:1/decoded-by-the-cli',
        headers: { authorization: '[REDACTED]' },
      });
      const refused = await show([]);
      assert.ok(refused.code !== 0 || !printedInput(refused.stdout).includes('decoded-by-the-cli'), 'the codec endpoint decoded for a caller without its credential');
    } finally {
      await handle.terminate().catch(() => undefined);
      await server.close();
    }
  });
});
