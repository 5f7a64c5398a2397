import type { OAuthServerConfig } from './config';
import { discoverIssuer } from './discovery';
import { ConfigValidationError, type TokenRequestError } from './errors';
import { IssuerMetadataCache } from './issuer-metadata-cache';
import { classifyTokenError, requestToken, type AccessToken, type ServerEndpoint } from './token-request';

export interface ServerTokenRequestOptions {
  /** The client secret, or the private key for private_key_jwt, already resolved from its store. */
  secret: string;
  /** Bound on the next HTTP exchange, asked before each one: a metadata request may come first. */
  exchangeTimeoutMs: () => number;
  signal?: AbortSignal;
}

/**
 * Requests tokens at each server's token endpoint: its access token URL, or the token endpoint its
 * issuer's metadata names. A worker keeps one, so that the metadata it read serves every server of
 * that issuer until it expires or its token endpoint stops answering.
 */
export class TokenEndpoints {
  constructor(private readonly metadata = new IssuerMetadataCache(discoverIssuer)) {}

  async requestToken(config: OAuthServerConfig, options: ServerTokenRequestOptions): Promise<AccessToken> {
    const at = (server: ServerEndpoint) => requestToken(config, server, { secret: options.secret, timeoutMs: options.exchangeTimeoutMs(), signal: options.signal });
    if (config.accessTokenUrl !== undefined) return at({ tokenEndpoint: config.accessTokenUrl, issuer: config.issuer });
    if (config.issuer === undefined) throw new ConfigValidationError([{ field: 'accessTokenUrl', message: 'accessTokenUrl or issuer must be set' }]);
    const discovery = () => ({ timeoutMs: options.exchangeTimeoutMs(), signal: options.signal });
    const known = await this.metadata.get(config.issuer, discovery());
    try {
      return await at(known.metadata);
    } catch (error) {
      const failure = classifyTokenError(error, [options.secret]);
      if (!known.cached || !endpointMayHaveMoved(failure)) throw failure;
      const reread = await this.metadata.get(config.issuer, discovery(), { fresh: true });
      if (reread.metadata.tokenEndpoint === known.metadata.tokenEndpoint) throw failure;
      return at(reread.metadata);
    }
  }
}

/** No answer, or a 404: the server may have moved its token endpoint and said so in its metadata. */
export function endpointMayHaveMoved(failure: TokenRequestError): boolean {
  return failure.kind === 'transport' && (failure.status === undefined || failure.status === 404);
}
