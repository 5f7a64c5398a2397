import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { ServerChanges } from '../contract/definitions';
import type { ClientSecret, OAuthServerConfigInput } from '../oauth/config';
import { UsageError } from './exit-codes';

/** The options of `servers create` and `servers edit`, as commander parses them. */
export interface ServerFlags {
  file?: string;
  name?: string;
  category?: string;
  authMethod?: OAuthServerConfigInput['authMethod'];
  clientId?: string;
  /** false: `--no-access-token-url` (edit only), which removes it. */
  accessTokenUrl?: string | false;
  /** false: `--no-issuer` (edit only), which removes it. */
  issuer?: string | false;
  scope?: string;
  includeScope?: boolean;
  maxRetryAttempts?: number;
  maxWait?: string;
  queryParam?: Parameter[];
  postParam?: Parameter[];
  allowedOrigin?: string[];
  invalidTokenStatus?: number[];
  autoRecover?: boolean;
  secretStdin?: boolean;
  secretFile?: string;
  secretRef?: string;
}

interface Parameter {
  name: string;
  value: string;
}

/** `--query-param name=value`, repeatable. */
export function collectParameter(text: string, previous: Parameter[] = []): Parameter[] {
  const separator = text.indexOf('=');
  if (separator <= 0) throw new InvalidArgumentError('expected name=value');
  return [...previous, { name: text.slice(0, separator), value: text.slice(separator + 1) }];
}

export function collectText(text: string, previous: string[] = []): string[] {
  return [...previous, text];
}

export function wholeNumber(text: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError('expected a whole number');
  return Number(text);
}

export function collectWholeNumber(text: string, previous: number[] = []): number[] {
  return [...previous, wholeNumber(text)];
}

/** A duration flag: plain digits are milliseconds, anything else is left to the schema (ISO-8601). */
function duration(text: string): number | string {
  return /^\d+$/.test(text) ? Number(text) : text;
}

/** Reads --file as JSON or YAML (YAML is a superset of JSON). Parse errors give the place, never the text, which may hold a secret. */
async function readServerFile(path: string): Promise<Record<string, unknown>> {
  const text = await readText(path, '--file');
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    const place = error instanceof YAMLParseError && error.linePos ? ` (line ${error.linePos[0].line}, column ${error.linePos[0].col})` : '';
    throw new UsageError(`--file ${path} is not valid JSON or YAML${place}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`--file ${path} must hold one server's settings as an object (name, clientId, accessTokenUrl, …)`);
  }
  return parsed as Record<string, unknown>;
}

async function readText(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'read failed';
    throw new UsageError(`${flag} ${path} cannot be read (${reason})`);
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('--secret-stdin reads the secret from standard input: pipe it in, e.g. `< secret.txt`');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A trailing newline is how `echo` and most files end, not part of the secret. */
function withoutFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

/** The secret from stdin, a file or an external reference; the command line itself never carries one. */
async function secretFrom(flags: ServerFlags): Promise<ClientSecret | undefined> {
  const given = [flags.secretStdin === true, flags.secretFile !== undefined, flags.secretRef !== undefined].filter(Boolean).length;
  if (given > 1) throw new UsageError('give the client secret one way only: --secret-stdin, --secret-file or --secret-ref');
  if (flags.secretRef !== undefined) return { source: 'external', ref: flags.secretRef };
  let value: string;
  if (flags.secretStdin) value = withoutFinalNewline(await readStdin());
  else if (flags.secretFile !== undefined) value = withoutFinalNewline(await readText(flags.secretFile, '--secret-file'));
  else return undefined;
  if (value === '') throw new UsageError(`the client secret read from ${flags.secretStdin ? 'standard input' : flags.secretFile} is empty`);
  return { source: 'local', value };
}

/** The settings the flags give, the file's first and each flag overriding its field. */
async function settingsFrom(flags: ServerFlags): Promise<Record<string, unknown>> {
  const settings = flags.file === undefined ? {} : await readServerFile(flags.file);
  const fromFlags: Record<string, unknown> = {
    name: flags.name,
    category: flags.category,
    authMethod: flags.authMethod,
    clientId: flags.clientId,
    accessTokenUrl: removedAsNull(flags.accessTokenUrl),
    issuer: removedAsNull(flags.issuer),
    scope: flags.scope,
    includeScope: flags.includeScope,
    maxRetryAttempts: flags.maxRetryAttempts,
    maxWait: flags.maxWait === undefined ? undefined : duration(flags.maxWait),
    queryParams: flags.queryParam,
    postParams: flags.postParam,
    allowedOrigins: flags.allowedOrigin,
    invalidTokenStatuses: flags.invalidTokenStatus,
    autoRecover: flags.autoRecover,
    clientSecret: await secretFrom(flags),
  };
  for (const [field, value] of Object.entries(fromFlags)) if (value !== undefined) settings[field] = value;
  return settings;
}

/** A `--no-…` flag gives false: in the changes, null removes the setting. */
function removedAsNull(value: string | false | undefined): string | null | undefined {
  return value === false ? null : value;
}

const NO_SECRET = 'give the client secret with --secret-stdin, --secret-file or --secret-ref (never on the command line), or as clientSecret in --file';

/** What `servers create` saves; the schema itself checks every field when the server is created. */
export async function newServerInput(flags: ServerFlags): Promise<OAuthServerConfigInput> {
  const settings = await settingsFrom(flags);
  if (settings.clientSecret === undefined) throw new UsageError(NO_SECRET);
  if (settings.name === undefined) throw new UsageError('give the server a name with --name, or as name in --file');
  return settings as unknown as OAuthServerConfigInput;
}

/** What `servers edit` changes; the server workflow validates the result and writes nothing when it is invalid. */
export async function serverChanges(flags: ServerFlags): Promise<ServerChanges> {
  const changes = await settingsFrom(flags);
  if (Object.keys(changes).length === 0) throw new UsageError('nothing to change: give at least one setting (see --help)');
  return changes;
}
