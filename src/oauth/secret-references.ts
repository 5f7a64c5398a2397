import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, sep } from 'node:path';
import { TokenRequestError } from './errors';

/**
 * Which external secrets a worker lets server configurations name. It is set by whoever runs the
 * worker, never by a configuration: a configuration is written by anyone allowed to create a server,
 * and its token URL may be any host, so an unrestricted reference would post any variable or file
 * of the worker to a host of their choosing. Everything left out is refused.
 */
export interface SecretReferences {
  /** `env:NAME` is read only when NAME starts with one of these. */
  envPrefixes?: readonly string[];
  /** `file:/path` is read only when the path, symbolic links resolved, is one of these files or lies inside one of these directories. */
  fileRoots?: readonly string[];
  /** Schemes of the worker's own secret providers (e.g. `vault`) that references may name. */
  providers?: readonly string[];
}

/** How a deployment configured by environment sets the allowlist: `env:CRM_,file:/run/secrets,provider:vault`. */
export const SECRET_REFERENCES_ENV = 'TEMPORAL_OAUTH_SECRET_REFERENCES';

/**
 * The codec keys protect every secret and token in Temporal: no allowlist can hand them out. The
 * key file's own path is read from its variable when a reference is checked.
 */
const CODEC_KEY_VARIABLE_PREFIX = 'TEMPORAL_OAUTH_CODEC_';
const CODEC_KEY_FILE_VARIABLE = 'TEMPORAL_OAUTH_CODEC_KEY_FILE';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PROVIDER_SCHEME = /^[a-z][a-z0-9+.-]*$/;
const BUILT_IN_SCHEMES = ['env', 'file'];

/** An allowlist the worker cannot use; `field` names the entry at fault. */
export class SecretReferencesError extends Error {
  override readonly name = 'SecretReferencesError';
  readonly code = 'OAUTH_SECRET_REFERENCES_INVALID';

  constructor(
    readonly field: string,
    rule: string,
  ) {
    super(`Invalid secret reference allowlist: ${field}: ${rule}`);
  }
}

/** Checks an allowlist once, when the worker is built, so that a typo fails the start rather than every token request. */
export function validateSecretReferences(references: SecretReferences, origin = 'secretReferences'): Required<SecretReferences> {
  const list = (name: keyof SecretReferences): readonly string[] => {
    const value = references[name] ?? [];
    if (!Array.isArray(value)) throw new SecretReferencesError(`${origin}.${name}`, 'must be a list');
    return value as readonly string[];
  };
  const envPrefixes = list('envPrefixes');
  envPrefixes.forEach((prefix, index) => {
    if (typeof prefix !== 'string' || prefix === '' || !ENV_NAME.test(prefix)) {
      throw new SecretReferencesError(`${origin}.envPrefixes[${index}]`, 'must be the non-empty start of a variable name (letters, digits, _)');
    }
  });
  const fileRoots = list('fileRoots');
  fileRoots.forEach((root, index) => {
    if (typeof root !== 'string' || !isAbsolute(root) || hasParentSegment(root)) {
      throw new SecretReferencesError(`${origin}.fileRoots[${index}]`, 'must be an absolute path (a directory or one file) without ".." segments');
    }
  });
  const providers = list('providers');
  providers.forEach((scheme, index) => {
    if (typeof scheme !== 'string' || !PROVIDER_SCHEME.test(scheme) || BUILT_IN_SCHEMES.includes(scheme)) {
      throw new SecretReferencesError(
        `${origin}.providers[${index}]`,
        'must be the scheme of a secret provider of your own; env: and file: are allowed by envPrefixes and fileRoots',
      );
    }
  });
  return { envPrefixes, fileRoots, providers };
}

/** Reads `env:CRM_,env:ERP_,file:/run/secrets,provider:vault` (entries separated by commas, spaces around them ignored). */
export function parseSecretReferences(text: string, origin = SECRET_REFERENCES_ENV): Required<SecretReferences> {
  const references = { envPrefixes: [] as string[], fileRoots: [] as string[], providers: [] as string[] };
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  entries.forEach((entry, index) => {
    const separator = entry.indexOf(':');
    const kind = entry.slice(0, separator);
    const value = entry.slice(separator + 1);
    if (kind === 'env') references.envPrefixes.push(value);
    else if (kind === 'file') references.fileRoots.push(value);
    else if (kind === 'provider') references.providers.push(value);
    else throw new SecretReferencesError(`${origin}[${index}]`, 'entries must be env:PREFIX, file:/directory or provider:scheme');
  });
  return validateSecretReferences(references, origin);
}

function hasParentSegment(path: string): boolean {
  return path.split(/[\\/]/).includes('..');
}

/** The root itself (a root may name one file) or anything below it. */
function isWithin(root: string, path: string): boolean {
  const fromRoot = relative(root, path);
  return !fromRoot.startsWith(`..${sep}`) && fromRoot !== '..' && !isAbsolute(fromRoot);
}

/** The reason a reference is refused: the kind of reference and the rule, never a value read. */
function refused(rule: string): TokenRequestError {
  return new TokenRequestError({ kind: 'credential', code: 'secret_reference_refused', retryable: false, description: `secret reference refused: ${rule}` });
}

/** The worker's allowlist, applied to each reference before anything is read. */
export class SecretReferencePolicy {
  private readonly references: Required<SecretReferences>;

  constructor(references: SecretReferences = {}) {
    this.references = validateSecretReferences(references);
  }

  /** The variable name an `env:` reference may read, or a refusal. */
  envName(name: string): string {
    const { envPrefixes } = this.references;
    if (name.toUpperCase().startsWith(CODEC_KEY_VARIABLE_PREFIX)) {
      return fail(`env: the codec key variables (${CODEC_KEY_VARIABLE_PREFIX}*) are never readable, whatever the allowlist says`);
    }
    if (!envPrefixes.some((prefix) => name.startsWith(prefix))) {
      return fail(
        envPrefixes.length === 0
          ? 'env: references are not allowed on this worker (secretReferences.envPrefixes is empty)'
          : `env: the name must start with one of secretReferences.envPrefixes (${envPrefixes.join(', ')})`,
      );
    }
    return name;
  }

  /**
   * The real path a `file:` reference may read, or a refusal. Symbolic links are resolved first, so
   * that neither a link inside a root nor `..` leads outside it; the caller reads the path returned.
   */
  async filePath(path: string): Promise<string> {
    const { fileRoots } = this.references;
    if (fileRoots.length === 0) return fail('file: references are not allowed on this worker (secretReferences.fileRoots is empty)');
    if (!isAbsolute(path) || hasParentSegment(path)) return fail('file: the path must be absolute and must not contain ".." segments');
    const real = await realpathOrUndefined(path);
    if (real === undefined) {
      // Whether a file exists is told only inside the roots, so that references cannot probe the rest of the disk.
      if (!fileRoots.some((root) => isWithin(root, path))) return fail(outsideRoots(fileRoots));
      throw new Error(`file ${path} does not exist or cannot be read`);
    }
    const roots = await Promise.all(fileRoots.map(realpathOrUndefined));
    if (!roots.some((root) => root !== undefined && isWithin(root, real))) return fail(outsideRoots(fileRoots));
    const keyFile = process.env[CODEC_KEY_FILE_VARIABLE];
    if (keyFile && real === (await realpathOrUndefined(keyFile))) {
      return fail('file: the codec key file is never readable, whatever the allowlist says');
    }
    return real;
  }

  /** A provider of the worker's own may be asked only when the allowlist names its scheme. */
  provider(scheme: string): void {
    const { providers } = this.references;
    if (!providers.includes(scheme)) {
      fail(
        providers.length === 0
          ? `${scheme}: references are not allowed on this worker (secretReferences.providers is empty)`
          : `${scheme}: the provider is not in secretReferences.providers (${providers.join(', ')})`,
      );
    }
  }
}

function fail(rule: string): never {
  throw refused(rule);
}

function outsideRoots(fileRoots: readonly string[]): string {
  return `file: the file, links resolved, must be or lie inside one of secretReferences.fileRoots (${fileRoots.join(', ')})`;
}

async function realpathOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await realpath(path);
  } catch {
    return undefined;
  }
}
