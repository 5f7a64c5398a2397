/**
 * The configuration's defaults and numeric bounds, apart from its schema so that workflow code can
 * read them without importing zod (see src/workflows/config-rules.ts for why that matters).
 */
export const DEFAULT_CATEGORY = 'Default';
export const DEFAULT_MAX_RETRY_ATTEMPTS = 3;
export const DEFAULT_MAX_WAIT_MS = 60_000;
export const MIN_MAX_WAIT_MS = 1_000;
export const MAX_MAX_WAIT_MS = 15 * 60_000;
export const DEFAULT_RECOVERY_INITIAL_DELAY_MS = 60_000;
export const DEFAULT_RECOVERY_MAX_DELAY_MS = 60 * 60_000;
export const MIN_RECOVERY_DELAY_MS = 1_000;
export const MAX_RECOVERY_DELAY_MS = 24 * 60 * 60_000;
