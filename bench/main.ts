/**
 * The benchmark suite of ratios: every figure is measured against a baseline in the same run, on
 * the same dev server, authorization server and resource API, so that a noisy machine shows in the
 * rounds rather than in the ratio.
 *
 *   npm run bench                      P1-P4 at the sizes
 *   npm run bench -- p1                one figure
 *   npm run bench -- p3 --p3-dependents 200 --rounds 3    a quick run (sizes: bench/options.ts)
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startBenchBed, type BenchBed } from './bed';
import { BenchUsageError, flagsFor, parseBenchArgs, type BenchOptions, type FigureName } from './options';
import { hotPath } from './p1-hot-path';
import { tokenRequests } from './p2-token-requests';
import { fanOut } from './p3-fan-out';
import { idleServers } from './p4-idle-servers';
import { printFigures, type Figure } from './report';

const RUNS: Record<FigureName, (bed: BenchBed, options: BenchOptions) => Promise<Figure[]>> = {
  p1: async (bed, options) => [await hotPath(bed, options)],
  p2: async (bed, options) => [await tokenRequests(bed, options)],
  p3: fanOut,
  p4: async (bed, options) => [await idleServers(bed, options)],
};

async function main(): Promise<void> {
  const { figures, options } = parseBenchArgs(process.argv.slice(2));
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const bed = await startBenchBed();
  const results: Figure[] = [];
  try {
    for (const figure of figures) {
      process.stderr.write(`[bench] ${figure}…\n`);
      const flags = flagsFor(figure, options);
      const measured = (await RUNS[figure](bed, options)).map((result) => ({ ...result, args: [result.args, flags].filter(Boolean).join(' ') }));
      for (const result of measured) process.stderr.write(`[bench] ${result.bench}: ${result.summary}\n`);
      results.push(...measured);
    }
  } catch (error) {
    // Now: closing the bed can end the process first, from a client's retry timer.
    process.stderr.write(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    throw error;
  } finally {
    await bed.close();
  }
  printFigures(results);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof BenchUsageError) process.stderr.write(`${error.message}\n`);
    else process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(error instanceof BenchUsageError ? 2 : 1);
  },
);
