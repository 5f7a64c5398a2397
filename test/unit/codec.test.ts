import assert from 'node:assert/strict';
import { createDecipheriv, hkdfSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { decode, encode } from '@temporalio/common/lib/encoding';
import { startCodecServer, type CodecServer } from '../../src/codec/codec-server';
import {
  CODEC_KEY_FILE_ENV,
  CODEC_KEYS_ENV,
  CodecKeyError,
  generateCodecKey,
  loadCodecKeyRing,
  parseCodecKeyRing,
  type CodecKeyFileContents,
} from '../../src/codec/codec-keys';
import { EncryptionCodec, PayloadDecryptionError, PER_PAYLOAD_KEY_SCHEME } from '../../src/codec/encryption-codec';
import { redactDecodedPayloads } from '../../src/codec/redact-decoded';

const SECRET = 's3cr3t-client-secret-value-0123456789';
const UI_ORIGIN = 'http://127.0.0.1:8233';

function jsonPayload(value: unknown): Payload {
  return { metadata: { encoding: encode('json/plain') }, data: encode(JSON.stringify(value)) };
}

/** Payloads compared by content: the codec may hand back protobuf messages or plain objects. */
function normalize(payload: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}

function metadataText(payload: Payload, key: string): string | undefined {
  const value = payload.metadata?.[key];
  return value ? decode(value) : undefined;
}

function dataText(payload: Payload): string {
  return decode(payload.data ?? new Uint8Array());
}

function codecWith(spec: string): EncryptionCodec {
  return new EncryptionCodec(parseCodecKeyRing(spec));
}

/** Runs `fn`, which must throw; returns what it threw. */
async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  return assert.fail('expected an error');
}

describe('codec key ring', () => {
  const k1 = generateCodecKey();
  const k2 = generateCodecKey();

  it('generates 32-byte keys and takes the first list entry as the current key', () => {
    assert.equal(Buffer.from(k1, 'base64').length, 32);
    const ring = parseCodecKeyRing(` k2 : ${k2} , k1:${k1} `);
    assert.equal(ring.currentKeyId, 'k2');
    assert.deepEqual([...ring.keys.keys()], ['k2', 'k1']);
  });

  it('is undefined when neither variable is set, and refuses both at once', async () => {
    assert.equal(loadCodecKeyRing({}), undefined);
    const error = await thrown(() => loadCodecKeyRing({ [CODEC_KEYS_ENV]: `k1:${k1}`, [CODEC_KEY_FILE_ENV]: '/x' }));
    assert.ok(error instanceof CodecKeyError);
    assert.equal(error.code, 'CODEC_KEY_SOURCES_CONFLICT');
  });

  const rejections: [string, string, string][] = [
    ['an entry without a colon', 'justakey', 'CODEC_KEY_ENTRY_MALFORMED'],
    ['an empty list', ' , ', 'CODEC_KEY_RING_EMPTY'],
    ['a key that is not base64', 'k1:not base64!', 'CODEC_KEY_NOT_BASE64'],
    ['a 16-byte key', `k1:${Buffer.alloc(16, 7).toString('base64')}`, 'CODEC_KEY_WRONG_LENGTH'],
    ['a duplicate key ID', `k1:${generateCodecKey()},k1:${generateCodecKey()}`, 'CODEC_KEY_ID_DUPLICATE'],
    ['a key ID with a space', `bad id:${generateCodecKey()}`, 'CODEC_KEY_ID_INVALID'],
  ];
  for (const [what, spec, code] of rejections) {
    it(`rejects ${what} with ${code}, naming the variable but no key bytes`, async () => {
      const error = await thrown(() => loadCodecKeyRing({ [CODEC_KEYS_ENV]: spec }));
      assert.ok(error instanceof CodecKeyError);
      assert.equal(error.code, code);
      assert.match(error.message, new RegExp(CODEC_KEYS_ENV));
      for (const part of spec.split(/[,:]/).filter((part) => part.length > 8)) assert.ok(!error.message.includes(part.trim()));
    });
  }

  it('names the key ID of a wrong-length key', async () => {
    const error = await thrown(() => parseCodecKeyRing(`old-1:${Buffer.alloc(31).toString('base64')}`));
    assert.ok(error instanceof CodecKeyError);
    assert.equal(error.keyId, 'old-1');
    assert.match(error.message, /"old-1" is 31 bytes/);
  });

  it('does not echo a key pasted where the key ID belongs', async () => {
    const key = Buffer.alloc(32, 1).toString('base64');
    const error = await thrown(() => parseCodecKeyRing(`${key}:k1`));
    assert.ok(error instanceof CodecKeyError);
    assert.equal(error.code, 'CODEC_KEY_ID_INVALID');
    assert.ok(!error.message.includes(key.slice(0, 20)));
  });

  describe('key file', () => {
    let dir: string;
    before(() => (dir = mkdtempSync(join(tmpdir(), 'codec-keys-'))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    function fileEnv(name: string, contents: string): NodeJS.ProcessEnv {
      const path = join(dir, name);
      writeFileSync(path, contents);
      return { [CODEC_KEY_FILE_ENV]: path };
    }

    it('loads the current key and the older ones', () => {
      const ring = loadCodecKeyRing(fileEnv('ok.json', JSON.stringify({ current: 'k2', keys: { k1, k2 } })));
      assert.equal(ring?.currentKeyId, 'k2');
      assert.equal(ring?.keys.size, 2);
    });

    it('names the file when it is missing, not JSON, or has no key for "current"', async () => {
      const cases: [NodeJS.ProcessEnv, string][] = [
        [{ [CODEC_KEY_FILE_ENV]: join(dir, 'absent.json') }, 'CODEC_KEY_FILE_UNREADABLE'],
        [fileEnv('broken.json', `{ "current": "k1", "keys": { "k1": "${k1}" `), 'CODEC_KEY_FILE_MALFORMED'],
        [fileEnv('shape.json', JSON.stringify({ current: 'k1', keys: [k1] })), 'CODEC_KEY_FILE_MALFORMED'],
        [fileEnv('current.json', JSON.stringify({ current: 'k3', keys: { k1 } })), 'CODEC_KEY_CURRENT_MISSING'],
      ];
      for (const [env, code] of cases) {
        const error = await thrown(() => loadCodecKeyRing(env));
        assert.ok(error instanceof CodecKeyError);
        assert.equal(error.code, code);
        assert.ok(error.message.includes(env[CODEC_KEY_FILE_ENV] ?? '?'), error.message);
        assert.ok(!error.message.includes(k1), 'key bytes in the message');
      }
    });
  });
});

describe('EncryptionCodec', () => {
  const k1 = `k1:${generateCodecKey()}`;
  const k2 = `k2:${generateCodecKey()}`;
  const samples: Payload[] = [
    jsonPayload({ clientSecret: { source: 'local', value: SECRET } }),
    { metadata: { encoding: encode('binary/plain') }, data: new Uint8Array([0, 1, 2, 255]) },
    { metadata: { encoding: encode('binary/null') } },
    { metadata: { encoding: encode('json/protobuf'), messageType: encode('temporal.api.common.v1.Payloads') }, data: encode('{}') },
  ];

  it('round-trips several payloads and marks them binary/encrypted with the current key ID and the per-payload-key scheme', async () => {
    const codec = codecWith(k1);
    const encoded = await codec.encode(samples);
    for (const payload of encoded) {
      assert.deepEqual(Object.keys(payload.metadata ?? {}).sort(), ['encoding', 'encryption-key-id', 'encryption-scheme']);
      assert.equal(metadataText(payload, 'encoding'), 'binary/encrypted');
      assert.equal(metadataText(payload, 'encryption-key-id'), 'k1');
      assert.equal(metadataText(payload, 'encryption-scheme'), PER_PAYLOAD_KEY_SCHEME);
    }
    assert.deepEqual((await codec.decode(encoded)).map(normalize), samples.map(normalize));
  });

  it('encrypts every payload under a key of its own: a fresh 256-bit salt each time', async () => {
    const codec = codecWith(k1);
    const encoded = await codec.encode(Array.from({ length: 50 }, () => samples[0] as Payload));
    const salts = new Set(encoded.map((payload) => Buffer.from(payload.data ?? []).subarray(0, 32).toString('hex')));
    assert.equal(salts.size, 50);
    assert.equal(new Set(encoded.map((payload) => normalize(payload).data)).size, 50);
  });

  it('follows the scheme the README documents: HKDF-SHA-256(key, salt, info) gives the AES-256-GCM key and nonce, the clear metadata is the AAD', async () => {
    const keyBase64 = generateCodecKey();
    const [encoded] = await codecWith(`k7:${keyBase64}`).encode([samples[0] as Payload]);
    const data = Buffer.from(encoded?.data ?? []);
    const salt = data.subarray(0, 32);
    const info = Buffer.from(`temporal-oauth payload\0${PER_PAYLOAD_KEY_SCHEME}\0k7`);
    const derived = Buffer.from(hkdfSync('sha256', Buffer.from(keyBase64, 'base64'), salt, info, 44));
    const decipher = createDecipheriv('aes-256-gcm', derived.subarray(0, 32), derived.subarray(32), { authTagLength: 16 });
    decipher.setAAD(Buffer.from(JSON.stringify(['binary/encrypted', PER_PAYLOAD_KEY_SCHEME, 'k7'])));
    decipher.setAuthTag(data.subarray(data.length - 16));
    const plaintext = Buffer.concat([decipher.update(data.subarray(32, data.length - 16)), decipher.final()]);
    assert.deepEqual(normalize(temporal.api.common.v1.Payload.decode(plaintext)), normalize(samples[0] as Payload));
  });

  it('still decrypts every payload the first scheme wrote (the recorded histories, under the test key ring)', async () => {
    const fixtures = resolve(__dirname, '../../../test/fixtures');
    const ring = parseCodecKeyRing(JSON.parse(readFileSync(join(fixtures, 'codec-keys.json'), 'utf8')) as CodecKeyFileContents);
    const old: Payload[] = [];
    const collect = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(collect);
      if (!node || typeof node !== 'object' || node instanceof Uint8Array) return;
      const candidate = node as Payload;
      if (candidate.metadata?.encoding && candidate.data) return void old.push(candidate);
      Object.values(node).forEach(collect);
    };
    for (const file of readdirSync(join(fixtures, 'histories')).filter((name) => name.endsWith('.binpb'))) {
      collect(temporal.api.history.v1.History.decode(readFileSync(join(fixtures, 'histories', file))).events);
    }
    const firstScheme = old.filter((payload) => metadataText(payload, 'encoding') === 'binary/encrypted' && !payload.metadata?.['encryption-scheme']);
    assert.ok(firstScheme.length > 20, `only ${firstScheme.length} payloads of the first scheme in the fixtures`);
    const decoded = await new EncryptionCodec(ring).decode(firstScheme);
    for (const payload of decoded) assert.match(metadataText(payload, 'encoding') ?? '', /^(json\/plain|binary\/null|json\/protobuf)$/);
  });

  it('rejects a payload whose scheme metadata was removed, changed or whose salt was altered', async () => {
    const codec = codecWith(k1);
    const [encoded] = await codec.encode([samples[0] as Payload]);
    const data = Buffer.from(encoded?.data ?? []);
    data[3] = (data[3] ?? 0) ^ 1;
    const { 'encryption-scheme': _scheme, ...withoutScheme } = encoded?.metadata ?? {};
    const notAuthentic: Payload[] = [
      { metadata: withoutScheme, data: encoded?.data ?? null },
      { metadata: encoded?.metadata ?? null, data },
    ];
    for (const payload of notAuthentic) {
      const error = await thrown(() => codec.decode([payload]));
      assert.ok(error instanceof PayloadDecryptionError);
      assert.equal(error.code, 'CODEC_PAYLOAD_NOT_AUTHENTIC');
    }
    const future = await thrown(() => codec.decode([{ metadata: { ...encoded?.metadata, 'encryption-scheme': encode('v9') }, data: encoded?.data ?? null }]));
    assert.ok(future instanceof PayloadDecryptionError);
    assert.equal(future.code, 'CODEC_PAYLOAD_SCHEME_UNKNOWN');
    assert.equal(future.keyId, 'k1');
  });

  it('leaves no plaintext of a secret in the ciphertext', async () => {
    const [encoded] = await codecWith(k1).encode([samples[0] as Payload]);
    const stored = Buffer.from(JSON.stringify(normalize(encoded as Payload)) + Buffer.from(encoded?.data ?? []).toString('latin1'));
    for (const needle of [SECRET, 's3cr3t', 'clientSecret', 'json/plain', Buffer.from(SECRET).toString('base64').slice(0, 12)]) {
      assert.ok(!stored.includes(needle), `found ${needle}`);
    }
  });

  it('after rotation decodes data written with the old key and encodes with the new one', async () => {
    const before = await codecWith(k1).encode(samples);
    const rotated = codecWith(`${k2},${k1}`);
    assert.deepEqual((await rotated.decode(before)).map(normalize), samples.map(normalize));
    const [after] = await rotated.encode([samples[0] as Payload]);
    assert.equal(metadataText(after as Payload, 'encryption-key-id'), 'k2');
  });

  it('passes through payloads that are not encrypted', async () => {
    assert.deepEqual((await codecWith(k1).decode(samples)).map(normalize), samples.map(normalize));
  });

  it('reports an unknown key ID with a typed error naming the ID only', async () => {
    const encoded = await codecWith(k2).encode(samples);
    const error = await thrown(() => codecWith(k1).decode(encoded));
    assert.ok(error instanceof CodecKeyError);
    assert.equal(error.code, 'CODEC_KEY_UNKNOWN');
    assert.equal(error.keyId, 'k2');
    assert.match(error.message, /"k2"/);
    for (const key of [k1, k2]) assert.ok(!error.message.includes(key.slice(3)));
  });

  it('rejects altered ciphertext and an altered key ID as not authentic', async () => {
    const key = generateCodecKey();
    // The same key under two IDs: only the AAD binding can tell a swapped ID apart.
    const codec = codecWith(`a:${key},b:${key}`);
    const [encoded] = await codec.encode([samples[0] as Payload]);
    const data = Buffer.from(encoded?.data ?? []);
    data[20] = (data[20] ?? 0) ^ 1;
    const altered: Payload[] = [
      { metadata: encoded?.metadata ?? null, data },
      { metadata: { ...encoded?.metadata, 'encryption-key-id': encode('b') }, data: encoded?.data ?? null },
    ];
    for (const payload of altered) {
      const error = await thrown(() => codec.decode([payload]));
      assert.ok(error instanceof PayloadDecryptionError);
      assert.equal(error.code, 'CODEC_PAYLOAD_NOT_AUTHENTIC');
      assert.ok(!error.message.includes(key) && !error.message.includes(SECRET));
    }
  });
});

describe('redactDecodedPayloads', () => {
  it('redacts credentials anywhere in JSON and keeps everything else', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----';
    const [redacted] = redactDecodedPayloads([
      jsonPayload({
        server: { name: 'crm', clientSecret: { source: 'external', ref: 'env:CRM', value: 'x' }, clientId: 'app' },
        list: [{ access_token: 'at', refresh_token: 'rt', token_type: 'Bearer' }],
        headers: { Authorization: 'Bearer at', 'content-type': 'json' },
        headerList: [['x-auth', 'Bearer at2']],
        jwk: { kty: 'RSA', n: 'modulus', e: 'AQAB', d: 'dd', p: 'pp', q: 'qq', dp: '1', dq: '2', qi: '3' },
        octJwk: { kty: 'oct', k: 'kk' },
        privateJwk: { kty: 'EC' },
        jwkText: JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'secret-d' }),
        pem,
        clientSecret: 'plain',
        form: { client_assertion: 'jwt', password: 'pw' },
      }),
    ]);
    assert.deepEqual(JSON.parse(dataText(redacted as Payload)), {
      server: { name: 'crm', clientSecret: '[REDACTED]', clientId: 'app' },
      list: [{ access_token: '[REDACTED]', refresh_token: '[REDACTED]', token_type: 'Bearer' }],
      headers: { Authorization: '[REDACTED]', 'content-type': 'json' },
      headerList: [['x-auth', 'Bearer [REDACTED]']],
      jwk: { kty: 'RSA', n: 'modulus', e: 'AQAB', d: '[REDACTED]', p: '[REDACTED]', q: '[REDACTED]', dp: '[REDACTED]', dq: '[REDACTED]', qi: '[REDACTED]' },
      octJwk: { kty: 'oct', k: '[REDACTED]' },
      privateJwk: '[REDACTED]',
      jwkText: JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: '[REDACTED]' }),
      pem: '[REDACTED]',
      clientSecret: '[REDACTED]',
      form: { client_assertion: '[REDACTED]', password: '[REDACTED]' },
    });
  });

  it('withholds binary payloads but keeps binary/null', () => {
    const nothing: Payload = { metadata: { encoding: encode('binary/null') } };
    const [binary, kept, unlabelled] = redactDecodedPayloads([
      { metadata: { encoding: encode('binary/plain') }, data: encode(SECRET) },
      nothing,
      { data: encode(SECRET) },
    ]);
    for (const payload of [binary, unlabelled]) {
      assert.equal(metadataText(payload as Payload, 'encoding'), 'json/plain');
      assert.equal(JSON.parse(dataText(payload as Payload)), '[REDACTED binary]');
    }
    assert.equal(kept, nothing);
  });
});

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer | undefined } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'POST', headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** A payload in the protobuf JSON form the Web UI sends: bytes as base64. */
function uiPayload(value: unknown): { metadata: Record<string, string>; data: string } {
  return { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from(JSON.stringify(value)).toString('base64') };
}

describe('codec server', () => {
  const credential = generateCodecKey();
  const encodeCredential = generateCodecKey();
  let server: CodecServer;
  const auth = { authorization: `Bearer ${credential}`, 'content-type': 'application/json' };
  const encodeAuth = { authorization: `Bearer ${encodeCredential}`, 'content-type': 'application/json' };
  const post = (path: string, body: unknown, headers: Record<string, string> = auth) =>
    call(`${server.url}${path}`, { headers, body: JSON.stringify(body) });

  before(async () => {
    const codec = codecWith(`k1:${generateCodecKey()}`);
    server = await startCodecServer({ codec, credential, encodeCredential, allowedOrigin: UI_ORIGIN });
  });
  after(() => server.close());

  it('answers 401 with a Bearer challenge without a credential or with a wrong one', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: `Bearer ${generateCodecKey()}` }, { authorization: `Basic ${credential}` }];
    for (const headers of attempts) {
      const reply = await post('/decode', { payloads: [] }, headers);
      assert.equal(reply.status, 401);
      assert.equal(reply.headers['www-authenticate'], 'Bearer');
    }
  });

  it('refuses a foreign Origin with 403 and no CORS header', async () => {
    for (const method of ['POST', 'OPTIONS']) {
      const body = method === 'POST' ? '{"payloads":[]}' : undefined;
      const reply = await call(`${server.url}/decode`, { method, headers: { ...auth, origin: 'http://evil.example' }, body });
      assert.equal(reply.status, 403);
      assert.equal(reply.headers['access-control-allow-origin'], undefined);
      assert.equal(reply.headers.vary, 'Origin');
    }
  });

  it('answers the UI origin preflight without a credential', async () => {
    const reply = await call(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { origin: UI_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-namespace' },
    });
    assert.equal(reply.status, 204);
    assert.equal(reply.headers['access-control-allow-origin'], UI_ORIGIN);
    assert.equal(reply.headers['access-control-allow-credentials'], 'true');
    assert.equal(reply.headers['access-control-allow-headers'], 'authorization, content-type, x-namespace');
    assert.equal(reply.headers['access-control-allow-methods'], 'POST, OPTIONS');
    assert.equal(reply.headers.vary, 'Origin');
  });

  it('round-trips /encode then /decode over HTTP in the protobuf JSON form, under any path prefix', async () => {
    const original = uiPayload({ order: 42, note: 'hello' });
    const encoded = await post('/default/encode', { payloads: [original] }, { ...encodeAuth, origin: UI_ORIGIN, 'x-namespace': 'default' });
    assert.equal(encoded.status, 200, encoded.body);
    assert.equal(encoded.headers['access-control-allow-origin'], UI_ORIGIN);
    const { payloads } = JSON.parse(encoded.body) as { payloads: { metadata: Record<string, string>; data: string }[] };
    assert.equal(Buffer.from(payloads[0]?.metadata.encoding ?? '', 'base64').toString(), 'binary/encrypted');
    assert.ok(!Buffer.from(payloads[0]?.data ?? '', 'base64').toString('latin1').includes('hello'));
    const decoded = await post('/default/decode', { payloads });
    assert.equal(decoded.status, 200, decoded.body);
    assert.equal(decoded.headers['cache-control'], 'no-store');
    assert.deepEqual(JSON.parse(decoded.body), { payloads: [original] });
  });

  it('redacts secrets and tokens from /decode output', async () => {
    const { payloads } = JSON.parse((await post('/encode', { payloads: [uiPayload({ clientSecret: { source: 'local', value: SECRET }, accessToken: 'eyJ.token.sig' })] }, encodeAuth)).body) as {
      payloads: unknown[];
    };
    const decoded = await post('/decode', { payloads });
    assert.equal(decoded.status, 200);
    assert.ok(!decoded.body.includes(Buffer.from(SECRET).toString('base64').slice(0, 12)));
    const [payload] = (JSON.parse(decoded.body) as { payloads: { data: string }[] }).payloads;
    assert.deepEqual(JSON.parse(Buffer.from(payload?.data ?? '', 'base64').toString()), { clientSecret: '[REDACTED]', accessToken: '[REDACTED]' });
  });

  it('answers 400 with a clear message for malformed JSON, a wrong shape, bad base64 and an unknown key', async () => {
    const garbage = await call(`${server.url}/decode`, { headers: auth, body: '{"payloads": [' });
    assert.equal(garbage.status, 400);
    assert.deepEqual(JSON.parse(garbage.body), { error: 'request body is not valid JSON' });
    assert.match((await post('/decode', { items: [] })).body, /\{\\"payloads\\": \[\.\.\.\]\}/);
    assert.match((await post('/decode', { payloads: [{ data: 7 }] })).body, /payloads\[0\]\.data must be a base64 string/);
    assert.match((await post('/decode', { payloads: [{ data: '!!!' }] })).body, /payloads\[0\] is not a Payload/);
    const foreign = await codecWith(`k9:${generateCodecKey()}`).encode([jsonPayload(1)]);
    const unknown = await post('/decode', { payloads: foreign.map(normalize) });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body, /no codec key with ID \\"k9\\"/);
  });

  it('answers 413 to a body over 4 MiB, announced or streamed', async () => {
    const body = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
    for (const headers of [auth, { ...auth, 'transfer-encoding': 'chunked' }]) {
      assert.equal((await call(`${server.url}/decode`, { headers, body })).status, 413);
    }
  });
});

describe('codec server: /encode is off unless it has its own credential', () => {
  const credential = generateCodecKey();
  const encodeCredential = generateCodecKey();
  const body = JSON.stringify({ payloads: [uiPayload({ config: 'x' })] });

  it('answers 403 to /encode when no encodeCredential is set, whatever the caller presents', async () => {
    const server = await startCodecServer({ codec: codecWith(`k1:${generateCodecKey()}`), credential, allowedOrigin: UI_ORIGIN, trustAllowedOrigin: true });
    try {
      const attempts: Record<string, string>[] = [{ authorization: `Bearer ${credential}` }, { origin: UI_ORIGIN }, {}];
      for (const headers of attempts) {
        const reply = await call(`${server.url}/encode`, { headers: { ...headers, 'content-type': 'application/json' }, body });
        assert.equal(reply.status, 403);
        assert.match(reply.body, /\/encode is off/);
      }
    } finally {
      await server.close();
    }
  });

  it('takes only the encode credential for /encode, and not it for /decode', async () => {
    const server = await startCodecServer({ codec: codecWith(`k1:${generateCodecKey()}`), credential, encodeCredential, allowedOrigin: UI_ORIGIN, trustAllowedOrigin: true });
    try {
      const as = (bearer: string | undefined, operation: string, origin?: string) =>
        call(`${server.url}/${operation}`, {
          headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...(origin ? { origin } : {}) },
          body,
        }).then((reply) => reply.status);
      assert.equal(await as(encodeCredential, 'encode'), 200);
      assert.equal(await as(credential, 'encode'), 401);
      assert.equal(await as(undefined, 'encode', UI_ORIGIN), 401);
      assert.equal(await as(encodeCredential, 'decode'), 401);
    } finally {
      await server.close();
    }
  });

  it('refuses an encode credential equal to the decode one', async () => {
    const error = await thrown(() => startCodecServer({ codec: codecWith(`k1:${generateCodecKey()}`), credential, encodeCredential: credential, allowedOrigin: UI_ORIGIN }));
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /encodeCredential must differ/);
  });
});

describe('codec server for the dev server’s Web UI (let in by its Origin, no credential in its URL)', () => {
  const credential = generateCodecKey().replace(/[+/=]/g, '');
  const body = '{"payloads":[]}';

  it('decodes for the UI origin without a credential only when trustAllowedOrigin is set, and for nobody else without one', async () => {
    for (const trustAllowedOrigin of [true, false]) {
      const server = await startCodecServer({ codec: codecWith(`k1:${generateCodecKey()}`), credential, allowedOrigin: UI_ORIGIN, trustAllowedOrigin });
      try {
        const status = async (path: string, headers: Record<string, string>) =>
          (await call(`${server.url}${path}`, { headers: { 'content-type': 'application/json', ...headers }, body })).status;
        assert.equal(await status('/decode', { origin: UI_ORIGIN }), trustAllowedOrigin ? 200 : 401);
        assert.equal(await status('/default/decode', { origin: UI_ORIGIN, 'x-namespace': 'default' }), trustAllowedOrigin ? 200 : 401);
        assert.equal(await status('/decode', { origin: 'http://127.0.0.1:9999' }), 403);
        assert.equal(await status('/decode', {}), 401);
        // The old way, the credential as the first path segment, is gone with the argv it leaked into.
        assert.equal(await status(`/${credential}/decode`, {}), 401);
      } finally {
        await server.close();
      }
    }
  });

  it('refuses to trust an Origin on a host other machines reach', async () => {
    const error = await thrown(() =>
      startCodecServer({ codec: codecWith(`k1:${generateCodecKey()}`), credential, allowedOrigin: UI_ORIGIN, trustAllowedOrigin: true, host: '0.0.0.0' }),
    );
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /loopback/);
  });
});
