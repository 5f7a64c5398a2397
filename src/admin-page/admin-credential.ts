import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Compares a presented password with the operator's in constant time: comparing digests also hides
 * the password's length.
 */
export function passwordMatcher(password: string): (presented: string) => boolean {
  if (password.length < 12) throw new TypeError('the admin password must be at least 12 characters');
  const expected = digest(password);
  return (presented) => timingSafeEqual(digest(presented), expected);
}
