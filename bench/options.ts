/**
 * The suite's sizes. Each is a flag (`--p1-calls 500` or `--p1-calls=500`) or an environment
 * variable (BENCH_P1_CALLS=500); the defaults are the issue's. Bare words choose the figures
 * (`p1 p3`); none runs them all.
 */
export const DEFAULTS = {
  /** Interleaved rounds of each side of a ratio (P1, P3). */
  rounds: 5,
  p1Calls: 2_000,
  p1Concurrency: 50,
  p2Workers: 10,
  p2Calls: 1_000,
  /** Token lifetime at the authorization server during P2's steady phase, in seconds. */
  p2TtlSeconds: 20,
  /** Token lifetimes P2's steady phase lasts. */
  p2Lifetimes: 4,
  /** Concurrent calls of one wave of P2's steady phase, one wave a second. */
  p2WaveCalls: 50,
  /** Comma-separated sizes of P3's dependents. */
  p3Dependents: '1000,10000',
  /**
   * The P3 worker's maxCachedWorkflows (it runs in the bench process). Its default follows the V8
   * heap, about 2,400 workflows under Node's default, but at 10,000 dependents the process (cache,
   * handles, the client's calls) filled that heap, and collecting garbage stalled registration for minutes.
   */
  p3CachedWorkflows: 1_000,
  /**
   * What P3's baseline client signals over: 'own', a connection of its own (the issue's baseline, a
   * client elsewhere), or 'worker', the P3 worker's, which the plugin's fan-out activity signals over
   * beside the worker's own polls and task completions: the same figure with the transport held equal.
   */
  p3BaselineConnection: 'own' as 'own' | 'worker',
  /**
   * Comma-separated counts of idle servers at which P4 measures, as servers are added: worker
   * memory that stays flat from one to the next is bounded by the cache, not by the servers.
   */
  p4Servers: '1000,5000',
  /** The P4 worker's maxCachedWorkflows: a few hundred, far below the servers. */
  p4CachedWorkflows: 250,
  /**
   * The P4 worker's V8 heap limit (--max-old-space-size), in MiB: without one, V8 lets garbage pile
   * up towards Node's default of about 4 GiB before it collects hard, and RSS shows that, not the cache.
   */
  p4WorkerHeapMib: 1_536,
  /** Servers created at once in P4. */
  p4CreateConcurrency: 25,
  /** Servers with a short token lifetime beside P4's idle ones, to count events per refresh. */
  p4RefreshingServers: 3,
  p4RefreshTtlSeconds: 6,
  p4Refreshes: 4,
};

export type BenchOptions = { [K in keyof typeof DEFAULTS]: (typeof DEFAULTS)[K] };

/** Options that take one of a few words. */
const CHOICES: Partial<Record<keyof BenchOptions, readonly string[]>> = { p3BaselineConnection: ['own', 'worker'] };
export const FIGURES = ['p1', 'p2', 'p3', 'p4'] as const;
export type FigureName = (typeof FIGURES)[number];

function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

function envName(key: string): string {
  return `BENCH_${flagName(key).replace(/-/g, '_').toUpperCase()}`;
}

export class BenchUsageError extends Error {}

export function parseBenchArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): { figures: FigureName[]; options: BenchOptions } {
  const raw = new Map<string, string>();
  for (const key of Object.keys(DEFAULTS)) {
    const fromEnv = env[envName(key)];
    if (fromEnv !== undefined) raw.set(key, fromEnv);
  }
  const figures: FigureName[] = [];
  const keyOfFlag = new Map(Object.keys(DEFAULTS).map((key) => [`--${flagName(key)}`, key]));
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] ?? '';
    const [flag = '', inline] = arg.split(/=(.*)/s, 2);
    const key = keyOfFlag.get(flag);
    if (key) {
      const value = inline ?? argv[(index += 1)];
      if (value === undefined) throw new BenchUsageError(`${flag} needs a value`);
      raw.set(key, value);
    } else if ((FIGURES as readonly string[]).includes(arg.toLowerCase())) {
      figures.push(arg.toLowerCase() as FigureName);
    } else {
      throw new BenchUsageError(`unknown argument ${arg}: expected ${FIGURES.join(', ')} or ${[...keyOfFlag.keys()].join(', ')}`);
    }
  }
  const options = { ...DEFAULTS } as Record<string, string | number>;
  for (const [key, value] of raw) {
    const choices = CHOICES[key as keyof BenchOptions];
    if (typeof DEFAULTS[key as keyof BenchOptions] === 'number') {
      const number = Number(value);
      if (!Number.isInteger(number) || number < 1) throw new BenchUsageError(`--${flagName(key)} (${envName(key)}) must be a positive integer, not ${value}`);
      options[key] = number;
    } else if (choices) {
      if (!choices.includes(value)) throw new BenchUsageError(`--${flagName(key)} (${envName(key)}) must be one of ${choices.join(', ')}, not ${value}`);
      options[key] = value;
    } else {
      if (!/^\d+(,\d+)*$/.test(value)) throw new BenchUsageError(`--${flagName(key)} (${envName(key)}) must be comma-separated positive integers, not ${value}`);
      options[key] = value;
    }
  }
  return { figures: figures.length > 0 ? figures : [...FIGURES], options: options as BenchOptions };
}

/**
 * The flags that reproduce a figure's run where it left the defaults: its own sizes and the rounds.
 * P3's dependents are left to the figure, which names the one size it measured.
 */
export function flagsFor(figure: FigureName, options: BenchOptions): string {
  return (Object.keys(DEFAULTS) as (keyof BenchOptions)[])
    .filter((key) => (key === 'rounds' || key.startsWith(figure)) && key !== 'p3Dependents' && options[key] !== DEFAULTS[key])
    .map((key) => `--${flagName(key)} ${options[key]}`)
    .join(' ');
}
