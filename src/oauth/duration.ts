import { parse as parseIsoDuration, toSeconds } from 'iso8601-duration';

/**
 * Reads a duration given either as milliseconds or as an ISO-8601 duration (`PT1M`), the two forms
 * the configuration accepts, into milliseconds. Returns undefined for anything else so that the
 * schema can name the field in its own error.
 */
export function durationToMs(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (/^\d+$/.test(value)) return Number(value);
  try {
    return Math.round(toSeconds(parseIsoDuration(value)) * 1000);
  } catch {
    return undefined;
  }
}
