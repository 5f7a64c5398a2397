import { readFile } from 'node:fs/promises';
import type { ClientSecret } from './config';
import { TokenRequestError } from './errors';

/**
 * A store that client secrets can be kept in instead of the configuration: `env:NAME`,
 * `file:/path`, or a provider a user adds (Vault, a cloud key store) under its own scheme.
 */
export interface SecretProvider {
  readonly scheme: string;
  /** Returns the secret named by the part of the reference after `scheme:`. */
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

export class SecretResolver {
  private readonly providers = new Map<string, SecretProvider>();

  constructor(providers: readonly SecretProvider[] = [envSecretProvider, fileSecretProvider]) {
    for (const provider of providers) this.providers.set(provider.scheme, provider);
  }

  /** Reads the secret at use time; external secrets are never copied into the configuration. */
  async resolve(secret: ClientSecret): Promise<string> {
    if (secret.source === 'local') return secret.value;
    const separator = secret.ref.indexOf(':');
    const scheme = secret.ref.slice(0, separator);
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
      return await provider.resolve(secret.ref.slice(separator + 1));
    } catch (error) {
      throw new TokenRequestError({
        kind: 'credential',
        code: 'secret_unavailable',
        retryable: false,
        // Provider messages name the reference, which is not secret; the value never reaches here.
        description: `could not read client secret ${secret.ref}: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }
}
