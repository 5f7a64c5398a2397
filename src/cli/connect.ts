import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { CODEC_KEY_FILE_ENV, CODEC_KEYS_ENV, CodecKeyError, loadCodecKeyRing, type CodecKeyRing } from '../codec/codec-keys';
import { TemporalOAuthPlugin } from '../plugin/plugin';
import { OperationFailed, UsageError } from './exit-codes';

export interface ConnectionFlags {
  profile?: string;
  address?: string;
  namespace?: string;
}

export interface Session {
  client: Client;
  address: string;
  close(): Promise<void>;
}

function codecKeys(): CodecKeyRing {
  let keys: CodecKeyRing | undefined;
  try {
    keys = loadCodecKeyRing();
  } catch (error) {
    if (error instanceof CodecKeyError) throw new UsageError(error.message);
    throw error;
  }
  if (keys === undefined) {
    throw new UsageError(
      `set ${CODEC_KEYS_ENV} or ${CODEC_KEY_FILE_ENV} to the codec keys of your workers: server configurations are stored encrypted`,
    );
  }
  return keys;
}

/**
 * Connects the way Temporal's own tools do (@temporalio/envconfig: the config file's profile, then
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TLS*, TEMPORAL_API_KEY), the flags overriding both,
 * with the plugin's codec so that configurations are read and written as the workers do.
 */
export async function connect(flags: ConnectionFlags): Promise<Session> {
  const keys = codecKeys();
  let loaded: ReturnType<typeof loadClientConnectConfig>;
  try {
    loaded = loadClientConnectConfig(flags.profile === undefined ? {} : { profile: flags.profile });
  } catch (error) {
    throw new UsageError(`Temporal's client configuration cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  const { connectionOptions, namespace } = loaded;
  const address = flags.address ?? connectionOptions.address ?? 'localhost:7233';
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, tls: connectionOptions.tls, apiKey: connectionOptions.apiKey, metadata: connectionOptions.metadata });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new OperationFailed(`cannot reach the Temporal server at ${address} (${reason}); set TEMPORAL_ADDRESS or --address`);
  }
  const client = new Client({ connection, namespace: flags.namespace ?? namespace ?? 'default', plugins: [new TemporalOAuthPlugin({ codecKeys: keys })] });
  return { client, address, close: () => connection.close() };
}
