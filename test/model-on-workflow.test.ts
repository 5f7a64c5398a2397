import fc from 'fast-check';
import { CURRENT_RULES } from '../src/workflows/server-machine';
import { assertAsyncProperty } from './support/generated-cases';
import { ModelReplay, snapshotOf } from './support/model-replay';
import { commandArbitraries, Delete, newRun, TokenAnswer, WantToken, type Command, type Harness, type Model } from './support/server-machine-model';
import { testBed } from './support/test-bed';

interface Systems {
  /** The pure state machine, played by the model-based test's own harness with its invariants. */
  harness: Harness;
  real: ModelReplay;
}

/**
 * Steps no real party takes while a refresh is scheduled: a worker asks for a fresh token only when its
 * copy is due for replacement (a real one calls with the valid token it has), and the refresh reaches
 * the token endpoint only when due, which no sequence lives to see.
 */
const notReplayable = (command: Command, model: Readonly<Model>) => {
  const scheduled = model.request === 'scheduled' || model.request === 'waiting';
  if (command instanceof WantToken) return scheduled && !model.deleted && model.status === 'OK';
  return command instanceof TokenAnswer && !command.stale && scheduled;
};

/** One step of the model, taken by the model and then by the real workflow, and compared. */
class OnBoth implements fc.AsyncCommand<Model, Systems> {
  constructor(readonly command: Command) {}
  check = (model: Readonly<Model>) => this.command.check(model) && !notReplayable(this.command, model);
  async run(model: Model, { harness, real }: Systems): Promise<void> {
    const before = snapshotOf(model);
    this.command.run(model, harness);
    await real.replay(this.command, before, model);
  }
  toString = () => this.command.toString();
}

/**
 * The model's own command arbitraries, weighted towards what the real workflow can get wrong: an edit
 * or a delete while a token request runs, authorize after an edit, token failures of every kind,
 * rejections, dependents coming and going. Left out: what a dev server cannot be made to do on cue
 * (continue-as-new, a refresh timer, time passing) and a rejection of an older token (no worker
 * holds one on cue).
 */
const step = fc
  .oneof(
    { arbitrary: commandArbitraries.authorize, weight: 3 },
    { arbitrary: commandArbitraries.wantToken, weight: 2 },
    { arbitrary: commandArbitraries.rejectToken.filter((command) => command.current), weight: 3 },
    { arbitrary: commandArbitraries.edit, weight: 3 },
    { arbitrary: commandArbitraries.delete, weight: 1 },
    { arbitrary: commandArbitraries.loopStartsRequest, weight: 5 },
    // A token before anything else: most of what can go wrong needs a server that was OK.
    { arbitrary: commandArbitraries.tokenAnswer.filter((command) => !command.stale && command.outcome.ok), weight: 4 },
    { arbitrary: commandArbitraries.tokenAnswer.filter((command) => !command.stale && !command.outcome.ok), weight: 3 },
    { arbitrary: commandArbitraries.tokenAnswer.filter((command) => command.stale), weight: 1 },
    { arbitrary: commandArbitraries.register, weight: 2 },
    { arbitrary: commandArbitraries.dependentsEnd, weight: 2 },
  )
  .map((command: Command) => new OnBoth(command));

/**
 * Fixed, so that every run replays the same sequences; change them to explore others. Together these
 * 22 sequences (165 steps) take every kind of step the replay knows, among them: edits and deletes
 * during a token request, authorize after an edit, a rejected token replaced and a later rejection
 * rationed, token failures (connection_failed, server_error, unsupported_grant_type), the answer to a
 * cancelled request arriving late, a delete refused for dependents and forced ones, dependents
 * registering and ending.
 */
const SEEDS = [
  { seed: 231, sequences: 12 },
  { seed: 283, sequences: 10 },
];

async function replaySequences(taskQueue: string, seed: number, sequences: number): Promise<void> {
  const bed = testBed();
  await assertAsyncProperty(
    fc.asyncProperty(fc.array(step, { minLength: 8, maxLength: 14 }), async (steps) => {
      const { model, real: harness } = newRun(CURRENT_RULES);
      const real = await ModelReplay.start(bed, taskQueue, model);
      try {
        await fc.asyncModelRun(() => ({ model, real: { harness, real } }), steps);
        // Every sequence ends in a forced delete: whatever still waits must end, and every dependent hear of it.
        const end = new OnBoth(new Delete(true, undefined));
        if (end.check(model)) await end.run(model, { harness, real });
        harness.drain();
      } finally {
        await real.close(model);
      }
    }),
    // A failure is reported as generated: shrinking would replay dozens of sequences on the dev server.
    { numRuns: sequences, seed, endOnFailure: true, includeErrorInReport: true },
  );
}

describe('sequences the model generates, replayed on the real server workflow', () => {
  for (const { seed, sequences } of SEEDS) {
    it(`seed ${seed}, ${sequences} sequences of 8 to 14 generated steps: after every step the server's view, its dependents and its callers see what the model expects`, async function () {
      this.timeout(180_000);
      await testBed().withWorker((taskQueue) => replaySequences(taskQueue, seed, sequences));
    });
  }
});
