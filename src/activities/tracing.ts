import { ProxyTracerProvider, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { ApplicationFailure } from '@temporalio/common';
import type { OAuthServerConfig } from '../oauth/config';
import type { AcquireTokenInput, AcquiredToken } from './acquire-token';
import { DEFAULT_METHOD, METHODS } from './web-service-call-input';
import type { WebServiceCallInput, WebServiceCallResult } from './web-service-call-types';

/**
 * Spans go through the OpenTelemetry API alone: without an SDK they cost nothing, and with the
 * Temporal OpenTelemetry interceptors they nest under the activity's span, since the interceptor
 * makes that span the active one while the activity runs.
 */
const TRACER_NAME = 'temporal-oauth';

// The plugin's own attributes; everything else follows the OpenTelemetry semantic conventions.
const SERVER_ATTRIBUTE = 'temporal_oauth.server';
/** `ok`, or the failure type: the same word whether the failure was an HTTP status, a transport error or a refusal. */
const OUTCOME_ATTRIBUTE = 'temporal_oauth.outcome';
const ISSUER_ATTRIBUTE = 'temporal_oauth.issuer';

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/**
 * Where a request goes and nothing more: a path or a query string may carry identifiers or API
 * keys, and the URL's credentials are never part of its host.
 */
function originAttributes(url: URL): Attributes {
  return {
    'url.scheme': url.protocol.slice(0, -1),
    'server.address': url.hostname.replace(/^\[(.*)\]$/, '$1'),
    'server.port': url.port === '' ? DEFAULT_PORTS[url.protocol] : Number(url.port),
  };
}

/**
 * A failure is told by its type alone: its message may quote what a server answered, and the
 * exception itself is never recorded.
 */
function failureType(error: unknown): string {
  if (error instanceof ApplicationFailure && error.type) return error.type;
  return error instanceof Error ? error.name : '_OTHER';
}

/** The HTTP status a failure reports in its details (an error status, a refused redirect, a token endpoint's answer). */
function failureStatus(error: unknown): number | undefined {
  if (!(error instanceof ApplicationFailure)) return undefined;
  const status = (error.details?.[0] as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** What the API's own provider hands spans to while nobody has registered one: it records nothing. */
const NO_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * Whether a tracer provider is registered, asked at each call: the global provider is the user's
 * to set, and to replace, at any time. A provider of another copy of the API counts as registered.
 */
function tracing(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NO_TRACER_PROVIDER;
}

/** Without a registered provider a span would record nothing: the work runs as it is, and its attributes are never read. */
async function inSpan<T>(name: string, attributes: () => Attributes, work: () => Promise<T>, resultAttributes: (result: T) => Attributes = () => ({})): Promise<T> {
  if (!tracing()) return work();
  return trace.getTracer(TRACER_NAME).startActiveSpan(name, { kind: SpanKind.CLIENT, attributes: attributes() }, async (span) => {
    try {
      const result = await work();
      span.setAttributes({ ...resultAttributes(result), [OUTCOME_ATTRIBUTE]: 'ok' });
      span.setStatus({ code: SpanStatusCode.OK });
      return result;
    } catch (error) {
      const type = failureType(error);
      const status = failureStatus(error);
      span.setAttributes({ 'error.type': type, [OUTCOME_ATTRIBUTE]: type, ...(status === undefined ? {} : { 'http.response.status_code': status }) });
      span.setStatus({ code: SpanStatusCode.ERROR, message: type });
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * Read from the input as the workflow gave it: an input the call refuses still gets its span, with
 * whatever parts of it are well-formed, and the refusal as its error.
 */
function callAttributes(input: WebServiceCallInput): Attributes {
  // A workflow may pass anything, null included.
  const { server, method, url: text }: Partial<Record<keyof WebServiceCallInput, unknown>> = input ?? {};
  const url = typeof text === 'string' ? URL.parse(text) : null;
  return {
    ...(typeof server === 'string' ? { [SERVER_ATTRIBUTE]: server } : {}),
    // The semantic conventions' word for a method the call does not know (and refuses).
    'http.request.method': method === undefined ? DEFAULT_METHOD : METHODS.find((known) => known === method) ?? '_OTHER',
    ...(url ? originAttributes(url) : {}),
  };
}

/** A `webServiceCall` span: method, origin, server, and the status the API answered (on success or failure). */
export function tracedWebServiceCall(call: (input: WebServiceCallInput) => Promise<WebServiceCallResult>) {
  return (input: WebServiceCallInput): Promise<WebServiceCallResult> =>
    inSpan('webServiceCall', () => callAttributes(input), () => call(input), (result) => ({ 'http.response.status_code': result.status }));
}

/** The token endpoint when it is configured; with discovery, the issuer whose metadata names it. */
function tokenEndpointAttributes(config: OAuthServerConfig): Attributes {
  const url = config.accessTokenUrl === undefined ? null : URL.parse(config.accessTokenUrl);
  if (url) return originAttributes(url);
  return config.issuer === undefined ? {} : { [ISSUER_ATTRIBUTE]: config.issuer };
}

/** A token request span: server, token endpoint origin, and the outcome (the token failure type when it fails). */
export function tracedTokenRequest(acquire: (input: AcquireTokenInput) => Promise<AcquiredToken>) {
  return (input: AcquireTokenInput): Promise<AcquiredToken> =>
    inSpan('oauthTokenRequest', () => ({ [SERVER_ATTRIBUTE]: input.config.name, ...tokenEndpointAttributes(input.config) }), () => acquire(input));
}
