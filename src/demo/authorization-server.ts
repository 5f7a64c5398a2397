import { randomBytes } from 'node:crypto';
import { closeServer, listen } from '../http/server-lifecycle';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

/**
 * A real OAuth 2.0 authorization server (oidc-provider) set up the way the seed describes the
 * client credentials grant: confidential clients only, that grant only, per-client allowed scopes,
 * no refresh token, and token introspection (RFC 7662) for the resource server.
 */

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'client_secret_jwt' | 'private_key_jwt';

export interface ClientRegistration {
  clientId: string;
  authMethod: ClientAuthMethod;
  /** Required for every method but private_key_jwt; at least 64 characters for client_secret_jwt (HS256). */
  clientSecret?: string;
  /** Required for private_key_jwt: the public half of the client's signing key. */
  publicJwk?: JWK;
  /** The space-separated scopes this client may ask for; a request for any other is refused. */
  scope: string;
  /** Lifetime of the client's access tokens; DEFAULT_TOKEN_TTL_SECONDS when left out. */
  tokenTtlSeconds?: number;
}

export interface AuthorizationServer {
  issuer: string;
  tokenEndpoint: string;
  introspectionEndpoint: string;
  /** Adds a client, or replaces the one with the same id. */
  registerClient(registration: ClientRegistration): Promise<void>;
  /** Rotates a secret: from now on only `secret` authenticates the client. */
  setClientSecret(clientId: string, secret: string): Promise<void>;
  /**
   * The access tokens issued so far (the most recent 10,000), so that a test can search logs and
   * histories for them; nothing prints them.
   */
  issuedAccessTokens(): readonly string[];
  /** The client assertions (client_secret_jwt, private_key_jwt) received so far, likewise kept for searches only. */
  receivedClientAssertions(): readonly string[];
  close(): Promise<void>;
}

export interface AuthorizationServerOptions {
  clients: ClientRegistration[];
  port?: number;
  host?: string;
  /** Receives server-side failures; no secret or token ever reaches it. */
  log?: (line: string) => void;
}

export const DEFAULT_TOKEN_TTL_SECONDS = 600;
const SWEEP_INTERVAL_MS = 60_000;
const MAX_REMEMBERED_TOKENS = 10_000;

/** A random client secret long enough for client_secret_jwt with HS256 (64 base64url characters). */
export function generateClientSecret(): string {
  return randomBytes(48).toString('base64url');
}

/** An ES256 key pair for private_key_jwt, both halves as JWKs sharing a `kid`. */
export async function generatePrivateKey(): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomBytes(8).toString('hex');
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  return { privateJwk, publicJwk };
}

export async function startAuthorizationServer(options: AuthorizationServerOptions): Promise<AuthorizationServer> {
  const host = options.host ?? '127.0.0.1';
  const knownScopes = new Set(options.clients.flatMap((client) => splitScope(client.scope)));
  const store = new ExpiringStore();

  // oidc-provider needs its issuer before it is built, so the port is bound first.
  const server = createServer();
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  const { port } = await listen(server, options.port ?? 0, host);
  const issuer = `http://${host}:${port}`;

  let provider: ProviderInstance;
  try {
    provider = await createProvider(issuer, store, knownScopes, options.log ?? (() => undefined));
    server.on('request', provider.callback());
    for (const client of options.clients) await registerClient(client);
  } catch (error) {
    store.stopSweeping();
    await closeServer(server);
    throw error;
  }

  async function registerClient(registration: ClientRegistration): Promise<void> {
    const unknown = splitScope(registration.scope).filter((scope) => !knownScopes.has(scope));
    if (unknown.length > 0) {
      throw new Error(`client ${registration.clientId}: scope ${unknown.join(' ')} was not among the scopes of the clients the server started with`);
    }
    await saveClient(clientMetadata(registration));
  }

  async function saveClient(metadata: ClientMetadata): Promise<void> {
    try {
      await provider.Client.validate(metadata);
    } catch (error) {
      // oidc-provider's messages name the offending property, never its value.
      throw new Error(`client ${metadata.client_id} is invalid: ${describeError(error)}`, { cause: error });
    }
    store.set(clientKey(metadata.client_id), metadata);
  }

  return {
    issuer,
    tokenEndpoint: `${issuer}/token`,
    introspectionEndpoint: `${issuer}/token/introspection`,
    registerClient,
    issuedAccessTokens: () => store.issuedAccessTokens,
    receivedClientAssertions: () => store.receivedClientAssertions,
    async setClientSecret(clientId, secret) {
      const current = store.get(clientKey(clientId)) as ClientMetadata | undefined;
      if (!current) throw new Error(`no client ${clientId}`);
      if (current.token_endpoint_auth_method === 'private_key_jwt') throw new Error(`client ${clientId} authenticates with a key, not a secret`);
      await saveClient({ ...current, client_secret: secret });
    },
    async close() {
      store.stopSweeping();
      await closeServer(server);
    },
  };
}

/**
 * Every setting below is explicit, so that oidc-provider prints none of its development warnings
 * (in-memory adapter, development keys, default TTL, default introspection policy).
 */
async function createProvider(issuer: string, store: ExpiringStore, knownScopes: Set<string>, log: (line: string) => void): Promise<ProviderInstance> {
  const { Provider, errors } = await loadOidcProvider();

  // oidc-provider refuses a scope outside the client's `scope` only when the server knows that
  // scope (its `scopes` setting), and silently drops unknown ones from the token. The seed refuses
  // every scope the client is not allowed, so the grant is wrapped with a strict check. The wrapper
  // also keeps the client assertion of each authenticated request, for searches only.
  class StrictScopeProvider extends Provider {
    override registerGrantType(name: string, handler: GrantHandler, ...rest: unknown[]): void {
      const strict: GrantHandler = async (ctx) => {
        const assertion = ctx.oidc.params.client_assertion;
        if (typeof assertion === 'string') store.remember(store.receivedClientAssertions, assertion);
        const allowed = new Set(splitScope(ctx.oidc.client?.scope));
        const refused = splitScope(ctx.oidc.params.scope).find((scope) => !allowed.has(scope));
        if (refused !== undefined) throw new errors.InvalidScope('requested scope is not allowed', refused);
        await handler(ctx);
      };
      super.registerGrantType(name, name === 'client_credentials' ? strict : handler, ...rest);
    }
  }

  // Access tokens are opaque: this key would sign only ID tokens, which this grant never issues.
  // RS256, because clients default to it for ID tokens and are refused when the server has no such key.
  const signingKey = await generateKeyPair('RS256', { extractable: true });
  const provider = new StrictScopeProvider(issuer, {
    adapter: (model: string) => store.adapter(model),
    jwks: { keys: [{ ...(await exportJWK(signingKey.privateKey)), kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' }] },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt'],
    responseTypes: [],
    scopes: [...knownScopes],
    extraClientMetadata: {
      properties: ['token_ttl_seconds'],
      validator(_ctx, key, value) {
        if (key === 'token_ttl_seconds' && value !== undefined && !(Number.isInteger(value) && (value as number) > 0)) {
          throw new errors.InvalidClientMetadata('token_ttl_seconds must be a positive integer');
        }
      },
    },
    ttl: {
      ClientCredentials: (_ctx, _token, client) => client.token_ttl_seconds ?? DEFAULT_TOKEN_TTL_SECONDS,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // Every caller has authenticated as a registered, confidential client (there is no `none`
      // method), and the resource server must see tokens issued to the other clients.
      introspection: { enabled: true, allowedPolicy: (_ctx, client) => client.clientAuthMethod !== 'none' },
    },
  });
  // Without an 'error' listener Koa prints failures to stderr; route them to `log` instead.
  provider.on('error', (error: unknown) => log(`authorization server: ${describeError(error)}`));
  provider.on('server_error', (_ctx: unknown, error: unknown) => log(`authorization server: ${describeError(error)}`));
  return provider;
}

/** The client metadata (RFC 7591) oidc-provider reads from the adapter. */
interface ClientMetadata {
  client_id: string;
  client_secret?: string;
  token_endpoint_auth_method: ClientAuthMethod;
  jwks?: { keys: JWK[] };
  grant_types: ['client_credentials'];
  response_types: [];
  redirect_uris: [];
  scope?: string;
  token_ttl_seconds?: number;
}

function clientMetadata(registration: ClientRegistration): ClientMetadata {
  const metadata: ClientMetadata = {
    client_id: registration.clientId,
    token_endpoint_auth_method: registration.authMethod,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  };
  if (registration.authMethod === 'private_key_jwt') {
    if (!registration.publicJwk) throw new Error(`client ${registration.clientId}: private_key_jwt needs a publicJwk`);
    metadata.jwks = { keys: [registration.publicJwk] };
  } else {
    if (!registration.clientSecret) throw new Error(`client ${registration.clientId}: ${registration.authMethod} needs a clientSecret`);
    metadata.client_secret = registration.clientSecret;
  }
  // An empty `scope` would mean "no restriction" to oidc-provider; the strict grant reads it as "none".
  if (registration.scope.trim() !== '') metadata.scope = splitScope(registration.scope).join(' ');
  if (registration.tokenTtlSeconds !== undefined) metadata.token_ttl_seconds = registration.tokenTtlSeconds;
  return metadata;
}

function splitScope(scope: string | undefined): string[] {
  return (scope ?? '').split(' ').filter((value) => value !== '');
}

function clientKey(clientId: string): string {
  return `Client:${clientId}`;
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const description = (error as Error & { error_description?: unknown }).error_description;
    return typeof description === 'string' ? `${error.message} (${description})` : error.message;
  }
  return String(error);
}

/**
 * The storage behind oidc-provider's adapter: one Map for every model, so that clients can be
 * changed at run time, with expiry, and without the bundled adapter's 1,000-entry LRU (a long demo
 * issues more tokens than that, and would lose live ones).
 */
class ExpiringStore {
  private readonly entries = new Map<string, { payload: AdapterPayload; expiresAt: number }>();
  /** Opaque client-credentials tokens are their own storage id. */
  readonly issuedAccessTokens: string[] = [];
  readonly receivedClientAssertions: string[] = [];
  private readonly sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();

  get(key: string): AdapterPayload | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.payload;
  }

  set(key: string, payload: object, expiresInSeconds?: number): void {
    const expiresAt = expiresInSeconds === undefined ? Infinity : Date.now() + expiresInSeconds * 1000;
    this.entries.set(key, { payload: structuredClone(payload) as AdapterPayload, expiresAt });
  }

  /** Keeps the most recent MAX_REMEMBERED_TOKENS values of a list. */
  remember(list: string[], value: string): void {
    list.push(value);
    if (list.length > MAX_REMEMBERED_TOKENS) list.shift();
  }

  stopSweeping(): void {
    clearInterval(this.sweeper);
  }

  adapter(model: string): Adapter {
    const key = (id: string) => `${model}:${id}`;
    const findBy = (field: 'uid' | 'userCode', value: string) => {
      for (const [entryKey, { payload }] of this.entries) {
        if (entryKey.startsWith(`${model}:`) && payload[field] === value) return this.get(entryKey);
      }
      return undefined;
    };
    // oidc-provider awaits every call; this storage answers at once.
    return {
      upsert: (id, payload, expiresIn) => {
        if (model === 'ClientCredentials') this.remember(this.issuedAccessTokens, id);
        return Promise.resolve(this.set(key(id), payload, expiresIn));
      },
      find: (id) => Promise.resolve(structuredClone(this.get(key(id)))),
      findByUid: (uid) => Promise.resolve(findBy('uid', uid)),
      findByUserCode: (userCode) => Promise.resolve(findBy('userCode', userCode)),
      consume: (id) => {
        const payload = this.get(key(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
        return Promise.resolve();
      },
      destroy: (id) => Promise.resolve(void this.entries.delete(key(id))),
      revokeByGrantId: (grantId) => {
        for (const [entryKey, { payload }] of this.entries) {
          if (payload.grantId === grantId) this.entries.delete(entryKey);
        }
        return Promise.resolve();
      },
    };
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, { expiresAt }] of this.entries) {
      if (expiresAt <= now) this.entries.delete(key);
    }
  }
}



// oidc-provider ships no type declarations (they are in @types/oidc-provider, not installed): these
// describe the part of its API used here.

interface AdapterPayload {
  [field: string]: unknown;
  uid?: string;
  userCode?: string;
  grantId?: string;
  consumed?: number;
}

interface Adapter {
  upsert(id: string, payload: object, expiresIn?: number): Promise<void>;
  find(id: string): Promise<AdapterPayload | undefined>;
  findByUid(uid: string): Promise<AdapterPayload | undefined>;
  findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

interface OidcClient {
  clientId: string;
  clientAuthMethod: string;
  scope?: string;
  token_ttl_seconds?: number;
}

interface GrantContext {
  oidc: { client?: OidcClient; params: { scope?: string; client_assertion?: unknown } };
}

type GrantHandler = (ctx: GrantContext) => Promise<void>;

interface ProviderConfiguration {
  adapter: (model: string) => Adapter;
  jwks: { keys: JWK[] };
  clientAuthMethods: ClientAuthMethod[];
  responseTypes: string[];
  scopes: string[];
  extraClientMetadata: { properties: string[]; validator(ctx: unknown, key: string, value: unknown): void };
  ttl: { ClientCredentials: (ctx: unknown, token: unknown, client: OidcClient) => number };
  features: {
    devInteractions: { enabled: boolean };
    clientCredentials: { enabled: boolean };
    introspection: { enabled: boolean; allowedPolicy: (ctx: unknown, client: OidcClient, token: unknown) => boolean };
  };
}

interface ProviderInstance {
  registerGrantType(name: string, handler: GrantHandler, ...rest: unknown[]): void;
  Client: { validate(metadata: object): Promise<void> };
  on(event: string, listener: (...args: never[]) => void): unknown;
  callback(): (request: IncomingMessage, response: ServerResponse) => void;
}

type OAuthErrorClass = new (description: string, detail?: string) => Error;

interface OidcProviderModule {
  Provider: new (issuer: string, configuration: ProviderConfiguration) => ProviderInstance;
  errors: { InvalidScope: OAuthErrorClass; InvalidClientMetadata: OAuthErrorClass };
}

const OIDC_PROVIDER = 'oidc-provider';

async function loadOidcProvider(): Promise<OidcProviderModule> {
  // A non-literal specifier, because TypeScript would reject a typed import of an untyped package.
  return (await import(OIDC_PROVIDER)) as OidcProviderModule;
}
