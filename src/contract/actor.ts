/** Who did an admin action, as the admin API is told: a user name, never checked against anything. */
export const MAX_ACTOR_LENGTH = 200;

// eslint-disable-next-line no-control-regex -- the rule is exactly "no control characters"
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** Why `value` cannot name an actor, or undefined when it can. */
export function actorProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ACTOR_LENGTH) return `must be text of 1 to ${MAX_ACTOR_LENGTH} characters`;
  if (CONTROL_CHARACTERS.test(value)) return 'must not contain control characters';
  return undefined;
}
