import { CLEARABLE_FIELDS } from './definitions';

const CLEARABLE: ReadonlySet<string> = new Set(CLEARABLE_FIELDS);

/** Whether null for `field` removes the setting (see CLEARABLE_FIELDS). */
export function isClearable(field: string): boolean {
  return CLEARABLE.has(field);
}

/**
 * `config` with `changes` applied: a left-out or undefined field keeps its value, null removes a
 * clearable one, and the name never changes. Null for any other field stays, for the schema to refuse
 * by name. No parsing, so that replaying an edit never depends on today's rules; shared, so that the
 * server workflow and the admin page apply an edit the same way.
 */
export function withChanges<Config extends { name: string }>(config: Config, changes: object): Config {
  const changed: Record<string, unknown> = { ...config };
  for (const [field, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    if (value === null && isClearable(field)) delete changed[field];
    else changed[field] = value;
  }
  changed.name = config.name;
  return changed as Config;
}
