import * as oauth from 'oauth4webapi';
import { fetch as undiciFetch } from 'undici';
import { readBounded } from './bounded-response';
import { tokenEndpointUrlSchema } from './config';
import { TokenRequestError } from './errors';
import { isLoopbackHost } from './loopback';
import { redact } from './redact';
import { isTransientStatus } from './retry-after';
import { classifyTokenError } from './token-request';

/** What the plugin takes from an issuer's metadata (RFC 8414 §2). */
export interface IssuerMetadata {
  /** As the metadata writes it: the audience of client assertions. */
  issuer: string;
  tokenEndpoint: string;
}

export interface DiscoveryOptions {
  /** Bound on each metadata request. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Real metadata documents are a few kilobytes; a larger answer is refused unread. */
export const MAX_METADATA_BYTES = 64 * 1024;

/**
 * Reads the issuer's metadata and checks it: the issuer it names must be the one configured (RFC
 * 8414 §3.3, else anyone serving a document could point the client elsewhere) and its token endpoint
 * must be one a secret may travel to. The requests carry no credential. RFC 8414's well-known URI is
 * asked first, then OpenID Connect Discovery's, which servers that speak OpenID Connect often serve alone.
 */
export async function discoverIssuer(issuer: string, options: DiscoveryOptions): Promise<IssuerMetadata> {
  const expected = new URL(issuer);
  const rfc8414 = await fetchMetadata(expected, 'oauth2', options);
  if (!isClientErrorStatus(rfc8414.response.status)) return metadataFrom(expected, rfc8414, []);
  await rfc8414.response.body?.cancel();
  return metadataFrom(expected, await fetchMetadata(expected, 'oidc', options), [rfc8414]);
}

interface MetadataAnswer {
  url: string;
  response: Response;
}

function isClientErrorStatus(status: number): boolean {
  return status >= 400 && status < 500;
}

async function fetchMetadata(issuer: URL, algorithm: 'oauth2' | 'oidc', options: DiscoveryOptions): Promise<MetadataAnswer> {
  let url = issuer.href;
  try {
    const response = await oauth.discoveryRequest(issuer, {
      algorithm,
      signal: AbortSignal.any([AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])]),
      [oauth.customFetch]: (target, init) => {
        url = target;
        return undiciFetch(target, init);
      },
      [oauth.allowInsecureRequests]: issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname),
    });
    return { response, url };
  } catch (error) {
    throw classifyTokenError(error, [], `the issuer's metadata at ${url}`);
  }
}

async function metadataFrom(expected: URL, { url, response: received }: MetadataAnswer, refused: readonly MetadataAnswer[]): Promise<IssuerMetadata> {
  if (received.status !== 200) {
    await received.body?.cancel();
    const answers = [...refused, { url, response: received }].map((answer) => `${answer.url} answered HTTP ${answer.response.status}`);
    throw new TokenRequestError({
      kind: 'transport',
      code: 'unexpected_status',
      retryable: isTransientStatus(received.status),
      status: received.status,
      description: `no metadata for issuer ${expected.href}: ${answers.join(', ')}`,
    });
  }
  const response = await readBounded(received, MAX_METADATA_BYTES, `the issuer's metadata at ${url}`);
  let metadata: oauth.AuthorizationServer;
  try {
    metadata = await oauth.processDiscoveryResponse(expected, response);
  } catch (error) {
    throw metadataError(error, expected, url);
  }
  const tokenEndpoint = tokenEndpointUrlSchema('token_endpoint').safeParse(metadata.token_endpoint);
  if (!tokenEndpoint.success) {
    const reason = metadata.token_endpoint === undefined ? 'has no token_endpoint' : `is refused: ${tokenEndpoint.error.issues[0]?.message}`;
    throw invalidMetadata(`the metadata at ${url} ${reason}`);
  }
  return { issuer: metadata.issuer, tokenEndpoint: tokenEndpoint.data };
}

function metadataError(error: unknown, expected: URL, url: string): TokenRequestError {
  if (error instanceof oauth.OperationProcessingError && error.code === oauth.JSON_ATTRIBUTE_COMPARISON) {
    const named = (error.cause as { body?: { issuer?: unknown } } | undefined)?.body?.issuer;
    return new TokenRequestError({
      kind: 'metadata',
      code: 'issuer_mismatch',
      retryable: false,
      description: redact(`the metadata at ${url} names issuer ${JSON.stringify(named)}, not the configured ${expected.href}`, []),
    });
  }
  // Not JSON, no issuer, an issuer that is not a URL: the library says which, and quotes no secret (none was sent).
  return invalidMetadata(`the metadata at ${url} is not usable: ${error instanceof Error ? error.message : String(error)}`);
}

function invalidMetadata(description: string): TokenRequestError {
  return new TokenRequestError({ kind: 'metadata', code: 'invalid_issuer_metadata', retryable: false, description: redact(description, []) });
}
