import { readFile } from 'node:fs/promises';
import type { ClientSecret } from './config';
import { TokenRequestError } from './errors';
import { redact } from './redact';
import { SecretReferencePolicy, SecretReferencesError, type SecretReferences } from './secret-references';

/**
 * A store that client secrets can be kept in instead of the configuration: `env:NAME`,
 * `file:/path`, or a provider a user adds (Vault, a cloud key store) under its own scheme.
 */
export interface SecretProvider {
  readonly scheme: string;
  /**
   * Returns the secret named by the part of the reference after `scheme:`. The message of an error it
   * throws reaches the server's disabled reason, so it must say what failed without quoting a value.
   */
  resolve(reference: string): Promise<string>;
}

export const envSecretProvider: SecretProvider = {
  scheme: 'env',
  resolve(name) {
    const value = process.env[name];
    if (value === undefined || value === '') throw new Error(`environment variable ${name} is not set`);
    return Promise.resolve(value);
  },
};

export const fileSecretProvider: SecretProvider = {
  scheme: 'file',
  async resolve(path) {
    // A trailing newline is an artefact of how secret files are usually written, not part of the secret.
    const value = (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
    if (value === '') throw new Error(`file ${path} is empty`);
    return value;
  },
};

/** How long a secret read from a store is reused before the store is asked again. */
export const DEFAULT_SECRET_CACHE_MS = 5 * 60_000;

export interface SecretResolverOptions {
  cacheMs?: number;
  now?: () => number;
  /** The references this worker allows; left out, every external reference is refused. */
  references?: SecretReferences;
}

/**
 * Resolves client secrets at use time, in the worker: external secrets are never copied into the
 * configuration or history. Values read from a store are kept in this process's memory for a
 * while, so that a vault is not asked on every token request; `fresh` bypasses that, which is
 * what a caller does when the server says the secret it used is wrong (it may have been rotated).
 */
export class SecretResolver {
  private readonly providers = new Map<string, SecretProvider>();
  private readonly cache = new Map<string, { value: string; until: number }>();
  private readonly cacheMs: number;
  private readonly now: () => number;
  private readonly policy: SecretReferencePolicy;

  constructor(providers: readonly SecretProvider[] = [envSecretProvider, fileSecretProvider], options: SecretResolverOptions = {}) {
    for (const provider of providers) this.providers.set(provider.scheme, provider);
    this.cacheMs = options.cacheMs ?? DEFAULT_SECRET_CACHE_MS;
    this.now = options.now ?? Date.now;
    this.policy = new SecretReferencePolicy(options.references);
    (options.references?.providers ?? []).forEach((scheme, index) => {
      if (!this.providers.has(scheme)) throw new SecretReferencesError(`secretReferences.providers[${index}]`, `no secret provider with scheme ${scheme} is given to the worker`);
    });
  }

  async resolve(secret: ClientSecret, { fresh = false } = {}): Promise<string> {
    if (secret.source === 'local') return secret.value;
    const cached = this.cache.get(secret.ref);
    if (!fresh && cached && this.now() < cached.until) return cached.value;
    const value = await this.read(secret.ref);
    this.cache.set(secret.ref, { value, until: this.now() + this.cacheMs });
    return value;
  }

  /** What the provider is asked for once the allowlist lets the reference through: a file's real path, not the link named. */
  private async allowed(scheme: string, reference: string): Promise<string> {
    if (scheme === envSecretProvider.scheme) return this.policy.envName(reference);
    if (scheme === fileSecretProvider.scheme) return this.policy.filePath(reference);
    this.policy.provider(scheme);
    return reference;
  }

  private async read(ref: string): Promise<string> {
    const separator = ref.indexOf(':');
    const scheme = ref.slice(0, separator);
    const checked = await this.allowed(scheme, ref.slice(separator + 1)).catch((error: unknown) => {
      throw error instanceof TokenRequestError ? error : unreadable(ref, error);
    });
    const provider = this.providers.get(scheme);
    if (!provider) {
      throw new TokenRequestError({
        kind: 'credential',
        code: 'secret_unavailable',
        retryable: false,
        description: `no secret provider for "${scheme}:" references (known: ${[...this.providers.keys()].join(', ')})`,
      });
    }
    try {
      return await provider.resolve(checked);
    } catch (error) {
      throw unreadable(ref, error);
    }
  }
}

function unreadable(ref: string, error: unknown): TokenRequestError {
  return new TokenRequestError({
    kind: 'credential',
    code: 'secret_unavailable',
    retryable: false,
    // Provider messages name the reference, which is not secret; a store's answer can be long.
    description: `could not read client secret ${ref}: ${redact(error instanceof Error ? error.message : String(error), [])}`,
  });
}
