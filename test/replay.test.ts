import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { testPlugin } from './support/test-bed';

const HISTORIES_DIR = resolve(__dirname, '../../test/fixtures/histories');

describe('workflow changes keep old histories replaying', () => {
  it('replays every recorded history on today’s workflow code without nondeterminism', async function () {
    this.timeout(120_000);
    const files = readdirSync(HISTORIES_DIR).filter((file) => file.endsWith('.binpb'));
    assert.ok(files.length >= 4, `expected recorded histories in ${HISTORIES_DIR}`);
    const histories = files.map((file) => ({
      workflowId: file,
      history: temporal.api.history.v1.History.decode(readFileSync(join(HISTORIES_DIR, file))),
    }));
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories(
      { workflowsPath: require.resolve('./workflows'), plugins: [testPlugin()] },
      histories,
    )) {
      replayed += 1;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    assert.deepEqual(failures, []);
    assert.equal(replayed, files.length);
  });
});
