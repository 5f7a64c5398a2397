import { locateTemporalCli } from './binary';

/** Prints the Temporal CLI's path, building it first if needed, so that scripts and CI can pre-build it. */
locateTemporalCli().then(
  (path) => {
    process.stdout.write(`${path}\n`);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
