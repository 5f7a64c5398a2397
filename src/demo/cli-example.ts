import { CODEC_KEY_FILE_ENV, CODEC_KEYS_ENV } from '../codec/codec-keys';

/** Where the CLI finds the codec keys: a key file's path, or the variable this job read them from (never the keys). */
export type CliCodecKeys = { file: string } | { variable: typeof CODEC_KEYS_ENV };

/** The command, ready to paste, that lists this job's OAuth servers with the admin CLI, with the environment it needs. */
export function cliExample(address: string, namespace: string, keys: CliCodecKeys): string {
  const codecKeys = 'file' in keys ? `${CODEC_KEY_FILE_ENV}=${shellWord(keys.file)}` : `${CODEC_KEYS_ENV}="$${CODEC_KEYS_ENV}"`;
  return `TEMPORAL_ADDRESS=${shellWord(address)} TEMPORAL_NAMESPACE=${shellWord(namespace)} ${codecKeys} npx temporal-oauth servers list`;
}

/** Quoted only when a shell would otherwise split or expand it, so that the usual line stays plain. */
function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}
