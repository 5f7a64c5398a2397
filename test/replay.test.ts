import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker, type BundleOptions } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { NormalModuleReplacementPlugin } from 'webpack';
import { testPlugin } from './support/test-bed';

const HISTORIES_DIR = resolve(__dirname, '../../test/fixtures/histories');

/** Replays every recorded history, of every generation, and returns what failed. */
async function replayAll(bundlerOptions?: BundleOptions['webpackConfigHook']): Promise<string[]> {
  const files = readdirSync(HISTORIES_DIR).filter((file) => file.endsWith('.binpb'));
  assert.ok(files.length >= 4, `expected recorded histories in ${HISTORIES_DIR}`);
  const histories = files.map((file) => ({
    workflowId: file,
    history: temporal.api.history.v1.History.decode(readFileSync(join(HISTORIES_DIR, file))),
  }));
  const failures: string[] = [];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories(
    { workflowsPath: require.resolve('./workflows'), plugins: [testPlugin()], bundlerOptions: { webpackConfigHook: bundlerOptions } },
    histories,
  )) {
    replayed += 1;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  assert.equal(replayed, files.length);
  return failures;
}

describe('workflow changes keep old histories replaying', () => {
  it('replays every recorded history on today’s workflow code without nondeterminism', async function () {
    this.timeout(120_000);
    assert.deepEqual(await replayAll(), []);
  });

  it('replays every recorded history when a later release refuses every configuration it once accepted', async function () {
    this.timeout(120_000);
    // The workflows' own import of the configuration module, and only that one, gets the strictest rules.
    const strictest = new NormalModuleReplacementPlugin(/^\.\.\/oauth\/config$/, require.resolve('./support/strictest-config'));
    assert.deepEqual(await replayAll((config) => ({ ...config, plugins: [...(config.plugins ?? []), strictest] })), []);
  });
});
