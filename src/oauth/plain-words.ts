import { LOCAL_TOKEN_ERROR_CODES, OAUTH_ERROR_CODES } from './errors';

/** What happened and what to do, in words an admin acts on without knowing OAuth's or a library's codes. */
export interface PlainWords {
  what: string;
  todo: string;
}

const AND_AUTHORIZE = 'then authorize the server again';

/** Every token failure code: RFC 6749's, the plugin's own, and any other an authorization server invents. */
const TOKEN_FAILURE_WORDS: Record<(typeof OAUTH_ERROR_CODES)[number] | (typeof LOCAL_TOKEN_ERROR_CODES)[number] | 'other_oauth_error', PlainWords> = {
  invalid_request: {
    what: 'The authorization server found the token request malformed',
    todo: `Check the grant type, the authentication method and the added query and post parameters, ${AND_AUTHORIZE}`,
  },
  invalid_client: {
    what: "The authorization server did not accept the client's credentials",
    todo: `Check the client ID, the client secret (or key) and the authentication method, ${AND_AUTHORIZE}`,
  },
  invalid_grant: { what: 'The authorization server refused the grant', todo: `Check the client's registration at the authorization server, ${AND_AUTHORIZE}` },
  unauthorized_client: {
    what: 'The client is not allowed the client credentials grant',
    todo: `Allow that grant for the client at the authorization server, ${AND_AUTHORIZE}`,
  },
  unsupported_grant_type: {
    what: 'The authorization server does not support the client credentials grant',
    todo: `Turn the grant on at the authorization server, or check the access token URL, ${AND_AUTHORIZE}`,
  },
  invalid_scope: {
    what: 'The authorization server refused the requested scope',
    todo: `Ask only for scopes the client is registered for (or turn off Include scope), ${AND_AUTHORIZE}`,
  },
  server_error: {
    what: 'The authorization server failed while answering',
    todo: `Wait until it works again (tell its operators if it lasts), ${AND_AUTHORIZE}`,
  },
  temporarily_unavailable: { what: 'The authorization server is temporarily unavailable', todo: `Wait until it is back, ${AND_AUTHORIZE}` },
  issuer_mismatch: {
    what: "The issuer's metadata names another issuer",
    todo: `Check the issuer setting: it must be exactly the issuer the authorization server names in its metadata, ${AND_AUTHORIZE}`,
  },
  invalid_issuer_metadata: {
    what: "The issuer's metadata cannot be used (no usable token endpoint, or not a metadata document)",
    todo: `Check the issuer setting, or set the access token URL instead, ${AND_AUTHORIZE}`,
  },
  other_oauth_error: {
    what: 'The authorization server refused the token request with an error code of its own',
    todo: `Fix what its description names, ${AND_AUTHORIZE}`,
  },
  unexpected_status: {
    what: 'The token endpoint answered with an HTTP error instead of a token or an OAuth error',
    todo: `Check that the access token URL is the token endpoint itself and that its server is healthy, ${AND_AUTHORIZE}`,
  },
  connection_failed: {
    what: 'The token endpoint could not be reached',
    todo: `Check the access token URL and that its server is up and reachable from the workers, ${AND_AUTHORIZE}`,
  },
  timeout: {
    what: 'The token endpoint did not answer in time',
    todo: `Check that its server is healthy, or raise the maximum wait, ${AND_AUTHORIZE}`,
  },
  unexpected_error: {
    what: 'The token request failed in an unexpected way',
    todo: `Read the details; if they do not name what to fix, report them with the worker's log, ${AND_AUTHORIZE} once fixed`,
  },
  invalid_token_response: {
    what: 'The token endpoint answered, but not with a usable bearer token',
    todo: `Check that the access token URL is the token endpoint and that it issues bearer tokens, ${AND_AUTHORIZE}`,
  },
  response_too_large: { what: "The token endpoint's answer is larger than any token response", todo: `Check the access token URL, ${AND_AUTHORIZE}` },
  secret_unavailable: {
    what: 'The client secret could not be read where the configuration says it is',
    todo: `Set it (the environment variable or file the reference names) where the workers run, ${AND_AUTHORIZE}`,
  },
  secret_reference_refused: {
    what: "The workers may not read the secret reference the configuration names",
    todo: `Name a variable or file within the workers' secretReferences allowlist (or widen it), ${AND_AUTHORIZE}`,
  },
  invalid_private_key: {
    what: 'The private key for private_key_jwt cannot be used',
    todo: `Give a private JWK or PEM key of a supported algorithm, ${AND_AUTHORIZE}`,
  },
};

/** The words for a token failure code; a code an authorization server made up gets the words for any other OAuth error. */
export function tokenFailureWords(code: string): PlainWords {
  return Object.hasOwn(TOKEN_FAILURE_WORDS, code) ? TOKEN_FAILURE_WORDS[code as keyof typeof TOKEN_FAILURE_WORDS] : TOKEN_FAILURE_WORDS.other_oauth_error;
}

/** The codes Node and undici give network failures, each in words; the code itself is kept after them, in brackets. */
const NETWORK_ERROR_WORDS: Record<string, string> = {
  ECONNREFUSED: 'nothing is listening at that host and port',
  ECONNRESET: 'the connection was reset',
  EPIPE: 'the connection closed while the request was being sent',
  ETIMEDOUT: 'the connection timed out',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name could not be resolved just now',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  UND_ERR_SOCKET: 'the connection closed before an answer came',
  UND_ERR_CLOSED: 'the connection was already closed',
  UND_ERR_CONNECT_TIMEOUT: 'connecting took too long',
  UND_ERR_HEADERS_TIMEOUT: 'no answer came in time',
  UND_ERR_BODY_TIMEOUT: 'the answer stopped coming before its end',
  UND_ERR_HEADERS_OVERFLOW: "the answer's headers are too large",
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'the answer was shorter or longer than it announced',
  CERT_HAS_EXPIRED: "the server's TLS certificate has expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's TLS certificate is self-signed and not trusted",
  SELF_SIGNED_CERT_IN_CHAIN: "the server's TLS certificate chain is not trusted",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's TLS certificate cannot be verified",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the issuer of the server's TLS certificate is not trusted",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's TLS certificate is for another host name",
};

/** A network failure's code in words, the code after them in brackets: "the connection closed before an answer came [UND_ERR_SOCKET]". */
export function networkErrorWords(code: string): string {
  return `${NETWORK_ERROR_WORDS[code] ?? 'the network failed'} [${code}]`;
}

/** Text that names library codes (a description such as "could not reach the token endpoint: UND_ERR_SOCKET") with words before each. */
export function withNetworkWords(text: string): string {
  return text.replace(/(?<![\w[])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|E[A-Z]{3,})(?![\w\]])/g, (code: string) => (Object.hasOwn(NETWORK_ERROR_WORDS, code) ? networkErrorWords(code) : code));
}
