import { networkErrorWords, type PlainWords } from '../oauth/plain-words';

const RETRIED = 'Temporal retries the call; if it keeps failing, check the health of the API';

/** What an API's error status means for the caller, and what to do; a challenge's `error` (RFC 6750 §3.1) says more than the status. */
export function statusWords(status: number, challengeError: string | undefined): PlainWords {
  if (challengeError === 'insufficient_scope') {
    return { what: 'the token lacks a scope this call needs', todo: "Add the scope the API names to the OAuth server's scope, then authorize the server again" };
  }
  if (challengeError === 'invalid_token') {
    return {
      what: 'the API refused the token, even a fresh one',
      todo: "Check that the OAuth server's tokens are meant for this API (its audience and scope) and that the API trusts their issuer",
    };
  }
  if (status === 401) return { what: 'the API did not accept the call as authorized', todo: "Check that this API takes the OAuth server's bearer tokens" };
  if (status === 403) return { what: 'the API forbids this call to this client', todo: 'Have the client granted access at the API, or call what it is allowed' };
  if (status === 404 || status === 410) return { what: 'the API has nothing at this path', todo: 'Check the URL of the call' };
  if (status === 405) return { what: 'the API does not take this method at this path', todo: 'Check the method and the URL of the call' };
  if (status === 413) return { what: "the call's body is larger than the API takes", todo: 'Send less in one call' };
  if (status === 415) return { what: "the API does not take the call's content type", todo: 'Send the body in a form the API takes (JSON, form, text)' };
  if (status === 408 || status === 429 || status >= 500) return { what: 'the API is busy or failing', todo: RETRIED };
  return { what: 'the API refused the call', todo: "Fix the call's query, headers or body as the API's answer says" };
}

/** Why a call got no answer, in words with the library's code in brackets, and that it is retried. */
export function transportWords(reason: { timedOut: true } | { code: string }): PlainWords {
  return { what: 'timedOut' in reason ? 'the call timed out before an answer came' : networkErrorWords(reason.code), todo: RETRIED };
}
