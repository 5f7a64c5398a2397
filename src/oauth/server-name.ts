/**
 * Names are unique case-insensitively, so every place that compares or keys by name goes through
 * this one normalisation (NFKC folds look-alike forms, then lower case).
 */
export function normaliseServerName(name: string): string {
  return name.trim().normalize('NFKC').toLowerCase();
}
