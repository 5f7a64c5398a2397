export const REDACTED = '[REDACTED]';
const MAX_TEXT = 500;

/**
 * Removes every known sensitive value from text that came from outside (an error description, a
 * response body), in the forms it is likely to appear in, and bounds its length so a hostile
 * server cannot flood a disabled reason or a log line.
 */
export function redact(text: string, sensitiveValues: readonly string[]): string {
  let result = text;
  for (const value of sensitiveValues) {
    if (value.length < 4) continue;
    for (const form of new Set([value, encodeURIComponent(value), Buffer.from(value).toString('base64')])) {
      result = result.split(form).join(REDACTED);
    }
  }
  return result.length > MAX_TEXT ? `${result.slice(0, MAX_TEXT)}…` : result;
}
