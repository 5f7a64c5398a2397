import { createPrivateKey } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { importJWK, type JWK } from 'jose';
import type { AuthMethod } from './config';
import { TokenRequestError } from './errors';

/** The JWS algorithm a private key signs with, when the JWK does not say so itself. */
function signingAlgorithm(jwk: JWK): string {
  if (jwk.alg) return jwk.alg;
  if (jwk.kty === 'EC') return { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[jwk.crv ?? ''] ?? 'ES256';
  if (jwk.kty === 'OKP') return 'EdDSA';
  return 'RS256';
}

function privateJwkFrom(material: string): JWK {
  const trimmed = material.trim();
  if (trimmed.startsWith('-----BEGIN')) return createPrivateKey(trimmed).export({ format: 'jwk' });
  return JSON.parse(trimmed) as JWK;
}

async function importPrivateKey(material: string): Promise<oauth.PrivateKey> {
  try {
    const jwk = privateJwkFrom(material);
    const key = await importJWK(jwk, signingAlgorithm(jwk), { extractable: false });
    if (!(key instanceof CryptoKey)) throw new Error('not an asymmetric key');
    return { key, kid: jwk.kid };
  } catch {
    // The library's message could quote key material; say only what is wrong.
    throw new TokenRequestError({
      kind: 'credential',
      code: 'invalid_private_key',
      retryable: false,
      description: 'the private key for private_key_jwt could not be read as a JWK or PEM private key',
    });
  }
}

/** Turns the configured method and the resolved secret (or private key) into oauth4webapi's client authentication. */
export async function clientAuthentication(method: AuthMethod, secret: string): Promise<oauth.ClientAuth> {
  switch (method) {
    case 'client_secret_basic':
      return oauth.ClientSecretBasic(secret);
    case 'client_secret_post':
      return oauth.ClientSecretPost(secret);
    case 'client_secret_jwt':
      return oauth.ClientSecretJwt(secret);
    case 'private_key_jwt':
      return oauth.PrivateKeyJwt(await importPrivateKey(secret));
  }
}
