/** What P3's workflows write to visibility, read by the bench (bench/p3-fan-out.ts) and written by its workflows (bench/workflows.ts). */
import { defineSearchAttributeKey } from '@temporalio/common';

/** The population of one size of P3 (its watchers and waiters), set when each is started. */
export const P3_POPULATION = defineSearchAttributeKey('BenchP3Population', 'KEYWORD');
/**
 * What a P3 workflow heard last: an availability status for a watcher, `wokenBy(wake)` for a
 * waiter. Each writes it in the very task that heard it, after which it waits for nothing but its
 * next message (no activity, no timer): once that task is completed visibility has it, so one count
 * tells that a round's workflows have all heard, and are idle again, where a describe of each took
 * minutes at 10,000.
 */
export const P3_HEARD = defineSearchAttributeKey('BenchP3Heard', 'KEYWORD');
/**
 * When the task that heard it started (workflow time), in epoch milliseconds: a round ends at the
 * latest of these. A Keyword because the bench registers its attributes with a helper that takes Keywords.
 */
export const P3_HEARD_AT_MS = defineSearchAttributeKey('BenchP3HeardAtMs', 'KEYWORD');

/** What a waiter marks once it has heard wake signal number `wake` (undefined: none yet). */
export function wokenBy(wake: number | undefined): string {
  return wake === undefined ? 'not woken' : `woken by ${wake}`;
}
