import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretReferencesError, TokenRequestError, type SecretProvider, type SecretReferences } from '../../src';
import { parseSecretReferences } from '../../src/oauth/secret-references';
import { envSecretProvider, fileSecretProvider, SecretResolver } from '../../src/oauth/secrets';

const VALUE = 'a-worker-secret-that-no-reason-may-quote';
const vault: SecretProvider = { scheme: 'vault', resolve: () => Promise.resolve(VALUE) };

function resolver(references?: SecretReferences): SecretResolver {
  return new SecretResolver([envSecretProvider, fileSecretProvider, vault], { references });
}

async function refusal(references: SecretReferences | undefined, ref: string): Promise<TokenRequestError> {
  try {
    await resolver(references).resolve({ source: 'external', ref });
  } catch (error) {
    assert.ok(error instanceof TokenRequestError, `expected TokenRequestError, got ${String(error)}`);
    assert.ok(!error.message.includes(VALUE), 'the reason quotes the secret');
    return error;
  }
  assert.fail(`${ref} was read`);
}

async function assertRefused(references: SecretReferences | undefined, ref: string, rule: RegExp): Promise<void> {
  const error = await refusal(references, ref);
  assert.equal(error.code, 'secret_reference_refused', error.message);
  assert.equal(error.retryable, false);
  assert.match(error.message, rule);
}

describe('secret references are allowed only by the worker', () => {
  let folder: string;
  let root: string;
  let outside: string;
  const variable = 'TEMPORAL_OAUTH_UNIT_CRM_SECRET';

  before(() => {
    folder = mkdtempSync(join(tmpdir(), 'temporal-oauth-refs-'));
    root = join(folder, 'secrets');
    mkdirSync(root);
    outside = join(folder, 'outside');
    writeFileSync(join(root, 'crm'), `${VALUE}\n`);
    writeFileSync(outside, VALUE);
    symlinkSync(outside, join(root, 'escape'));
    symlinkSync(root, join(folder, 'linked-root'));
    process.env[variable] = VALUE;
  });
  after(() => {
    rmSync(folder, { recursive: true, force: true });
    delete process.env[variable];
  });

  it('by default refuses every kind of external reference, naming the kind and the rule, and reads nothing', async () => {
    await assertRefused(undefined, `env:${variable}`, /env: references are not allowed on this worker \(secretReferences\.envPrefixes is empty\)/);
    await assertRefused(undefined, `file:${join(root, 'crm')}`, /file: references are not allowed .*fileRoots/);
    await assertRefused(undefined, 'vault:kv/crm', /vault: references are not allowed .*providers/);
  });

  it('reads env: names under an allowed prefix, file: paths inside an allowed root (also through a linked root) and allowed providers', async () => {
    const allowed = resolver({ envPrefixes: ['TEMPORAL_OAUTH_UNIT_'], fileRoots: [root], providers: ['vault'] });
    assert.equal(await allowed.resolve({ source: 'external', ref: `env:${variable}` }), VALUE);
    assert.equal(await allowed.resolve({ source: 'external', ref: `file:${join(root, 'crm')}` }), VALUE);
    assert.equal(await allowed.resolve({ source: 'external', ref: 'vault:kv/crm' }), VALUE);
    const viaLink = resolver({ fileRoots: [join(folder, 'linked-root')] });
    assert.equal(await viaLink.resolve({ source: 'external', ref: `file:${join(folder, 'linked-root', 'crm')}` }), VALUE);
  });

  it('refuses names outside the prefixes and providers not listed', async () => {
    await assertRefused({ envPrefixes: ['CRM_'] }, `env:${variable}`, /must start with one of secretReferences\.envPrefixes \(CRM_\)/);
    await assertRefused({ envPrefixes: ['CRM_'] }, 'env:HOME', /envPrefixes/);
    await assertRefused({ providers: ['vault'] }, 'env:CRM_SECRET', /envPrefixes is empty/);
    const other: SecretProvider = { scheme: 'kms', resolve: () => Promise.resolve(VALUE) };
    const error = await new SecretResolver([envSecretProvider, other, vault], { references: { providers: ['vault'] } })
      .resolve({ source: 'external', ref: 'kms:key' })
      .then(
        () => assert.fail('kms: was read'),
        (failure: unknown) => failure,
      );
    assert.ok(error instanceof TokenRequestError);
    assert.equal(error.code, 'secret_reference_refused');
    assert.match(error.message, /kms: the provider is not in secretReferences\.providers \(vault\)/);
  });

  it('refuses path traversal, relative paths and a link inside a root that leads out of it', async () => {
    const references = { fileRoots: [root] };
    await assertRefused(references, `file:${root}/../outside`, /must be absolute and must not contain "\.\." segments/);
    await assertRefused(references, 'file:secrets/crm', /must be absolute/);
    await assertRefused(references, `file:${join(root, 'escape')}`, /links resolved, must be or lie inside one of secretReferences\.fileRoots/);
    await assertRefused(references, `file:${outside}`, /fileRoots/);
    await assertRefused(references, 'file:/etc/hostname', /fileRoots/);
    await assertRefused(references, `file:${folder}`, /fileRoots/);
  });

  it('takes a root that names one file as allowing that file only', async () => {
    const crm = join(root, 'crm');
    assert.equal(await resolver({ fileRoots: [crm] }).resolve({ source: 'external', ref: `file:${crm}` }), VALUE);
    await assertRefused({ fileRoots: [crm] }, `file:${join(root, 'codec-or-anything')}`, /fileRoots/);
  });

  it('tells whether a file exists only inside the roots', async () => {
    const missingInside = await refusal({ fileRoots: [root] }, `file:${join(root, 'missing')}`);
    assert.equal(missingInside.code, 'secret_unavailable');
    await assertRefused({ fileRoots: [root] }, `file:${join(folder, 'missing')}`, /fileRoots/);
  });

  it('never reads the codec keys, whatever the allowlist says', async () => {
    const saved = { keys: process.env.TEMPORAL_OAUTH_CODEC_KEYS, file: process.env.TEMPORAL_OAUTH_CODEC_KEY_FILE };
    const keyFile = join(root, 'codec-keys.json');
    writeFileSync(keyFile, VALUE);
    symlinkSync(keyFile, join(root, 'innocent-name'));
    process.env.TEMPORAL_OAUTH_CODEC_KEYS = `k1:${Buffer.from(VALUE).toString('base64')}`;
    process.env.TEMPORAL_OAUTH_CODEC_KEY_FILE = keyFile;
    try {
      for (const prefix of ['TEMPORAL_OAUTH_', 'TEMPORAL_OAUTH_CODEC_KEYS', 'T']) {
        await assertRefused({ envPrefixes: [prefix] }, 'env:TEMPORAL_OAUTH_CODEC_KEYS', /codec key variables .* are never readable/);
        await assertRefused({ envPrefixes: [prefix] }, 'env:TEMPORAL_OAUTH_CODEC_KEY_FILE', /codec key variables/);
      }
      await assertRefused({ fileRoots: [root] }, `file:${keyFile}`, /codec key file is never readable/);
      await assertRefused({ fileRoots: [root] }, `file:${join(root, 'innocent-name')}`, /codec key file is never readable/);
    } finally {
      for (const [name, value] of [
        ['TEMPORAL_OAUTH_CODEC_KEYS', saved.keys],
        ['TEMPORAL_OAUTH_CODEC_KEY_FILE', saved.file],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('reads the allowlist from TEMPORAL_OAUTH_SECRET_REFERENCES syntax', () => {
    assert.deepEqual(parseSecretReferences(' env:CRM_, file:/run/secrets ,provider:vault,env:ERP_ '), {
      envPrefixes: ['CRM_', 'ERP_'],
      fileRoots: ['/run/secrets'],
      providers: ['vault'],
    });
    assert.deepEqual(parseSecretReferences(''), { envPrefixes: [], fileRoots: [], providers: [] });
  });

  const invalid: Array<[string, () => unknown]> = [
    ['secretReferences.envPrefixes[0]', () => resolver({ envPrefixes: [''] })],
    ['secretReferences.envPrefixes[1]', () => resolver({ envPrefixes: ['CRM_', 'BAD-NAME'] })],
    ['secretReferences.envPrefixes', () => resolver({ envPrefixes: 'CRM_' as unknown as string[] })],
    ['secretReferences.fileRoots[0]', () => resolver({ fileRoots: ['run/secrets'] })],
    ['secretReferences.fileRoots[0]', () => resolver({ fileRoots: ['/run/../etc'] })],
    ['secretReferences.providers[0]', () => resolver({ providers: ['env'] })],
    ['secretReferences.providers[0]', () => resolver({ providers: ['Vault!'] })],
    ['secretReferences.providers[0]', () => new SecretResolver([envSecretProvider], { references: { providers: ['vault'] } })],
    ['TEMPORAL_OAUTH_SECRET_REFERENCES[1]', () => parseSecretReferences('env:CRM_,CRM_OTHER')],
    ['TEMPORAL_OAUTH_SECRET_REFERENCES.envPrefixes[0]', () => parseSecretReferences('env:')],
  ];
  for (const [field, build] of invalid) {
    it(`refuses an allowlist the worker cannot use, naming ${field}`, () => {
      assert.throws(build, (error: unknown) => error instanceof SecretReferencesError && error.field === field);
    });
  }
});
