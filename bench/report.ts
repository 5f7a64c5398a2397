import { availableParallelism, totalmem } from 'node:os';

/** One figure of the suite, as printed: a human line, then one JSON line. */
export interface Figure {
  bench: 'P1' | 'P2' | 'P3' | 'P4';
  /** The line a person reads. */
  summary: string;
  /** value ÷ baseline: what the goal is set on. */
  ratio: number;
  /** What each round (or interval) measured, so that the spread shows. */
  rounds: unknown[];
  value: number;
  baseline: number;
  unit: string;
  goal: string;
  /** Further numbers of the figure (counts, memory, latencies). */
  details?: Record<string, unknown>;
  /** The options that reproduce this figure alone, beyond its name, e.g. `--p3-dependents 1000 --rounds 3`. */
  args?: string;
}

/** The A and B measurements of interleaved rounds: A, B, A, B… so that a slow spell of the machine hits both. */
export interface RoundsResult {
  a: number[];
  b: number[];
}

/**
 * `rounds` measured rounds of A then B, after `warmUpRounds` of each that are run the same way (the
 * callbacks see every round's number) but not kept.
 */
export async function interleavedRounds(
  rounds: number,
  a: (round: number) => Promise<number>,
  b: (round: number) => Promise<number>,
  { warmUpRounds = 0 } = {},
): Promise<RoundsResult> {
  const result: RoundsResult = { a: [], b: [] };
  for (let round = 0; round < warmUpRounds + rounds; round += 1) {
    const [valueOfA, valueOfB] = [await a(round), await b(round)];
    if (round < warmUpRounds) continue;
    result.a.push(valueOfA);
    result.b.push(valueOfB);
  }
  return result;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** The rounded median of one numeric field over `items` (rounds, phases, sampled workflows). */
export function medianOf<T, K extends keyof T>(items: readonly T[], key: T[K] extends number ? K : never): number {
  return rounded(median(items.map((item) => item[key] as number)));
}

/** Rounded for print: a ratio's third decimal is already noise on this kind of machine. */
export function rounded(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Per-round ratios of interleaved rounds, and the figure's value, baseline and ratio as medians. */
export function ratioOfRounds({ a, b }: RoundsResult): Pick<Figure, 'ratio' | 'rounds' | 'value' | 'baseline'> {
  const perRound = a.map((value, index) => ({ value: rounded(value), baseline: rounded(b[index] ?? Number.NaN), ratio: rounded(value / (b[index] ?? Number.NaN)) }));
  return { ratio: rounded(median(perRound.map((round) => round.ratio))), rounds: perRound, value: rounded(median(a)), baseline: rounded(median(b)) };
}

/** How to run one figure again. */
export function commandOf(figure: Figure): string {
  return `npm run bench -- ${figure.bench.toLowerCase()}${figure.args ? ` ${figure.args}` : ''}`;
}

export function printFigures(figures: readonly Figure[]): void {
  const machine = { cores: availableParallelism(), memoryGiB: rounded(totalmem() / 2 ** 30, 1) };
  for (const figure of figures) process.stdout.write(`${figure.bench}: ${figure.summary} (goal ${figure.goal})\n`);
  for (const figure of figures) {
    const { bench, ratio, rounds, value, baseline, unit, goal, details } = figure;
    process.stdout.write(`${JSON.stringify({ bench, ratio, rounds, value, baseline, ...machine, command: commandOf(figure), unit, goal, ...details })}\n`);
  }
}
