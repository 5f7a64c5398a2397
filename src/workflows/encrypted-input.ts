/**
 * Set (non-enumerable, so copies, spreads and JSON never carry it) by the plugin's payload converter on
 * a value converted from a payload that the plugin's codec decrypted. Symbol.for, so that the
 * converter and workflow code agree on it whichever copy of this module each was bundled with.
 */
export const ARRIVED_ENCRYPTED = Symbol.for('temporal-oauth.arrivedEncrypted');

/**
 * Whether `value` (a workflow's input, or an update's or signal's argument, exactly as the handler
 * received it) was decrypted with the codec's keys on its way in, rather than sent in clear by a client
 * without them. Only objects and arrays can say so: a string, number or derived copy answers false.
 */
export function arrivedEncrypted(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return Object.getOwnPropertyDescriptor(value, ARRIVED_ENCRYPTED)?.value === true;
}
