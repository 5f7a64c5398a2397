import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { MINIMUM_NODE_VERSION, unsupportedNodeMessage } from '../../src/supported-node';

/** The machine's own Node.js, older than the one the project runs on: what a user with an old install has. */
const SYSTEM_NODE = '/usr/bin/node';
const PACKAGE_ENTRY = resolve(__dirname, '../../src/index.js');
const CLI = resolve(__dirname, '../../src/cli/main.js');

describe('supported Node.js versions', () => {
  it('names the version needed for every release below it, and nothing for it and later ones', () => {
    assert.equal(MINIMUM_NODE_VERSION, '22.19');
    for (const old of ['18.20.4', '20.20.2', '22.0.0', '22.18.9']) {
      assert.equal(unsupportedNodeMessage(old), `temporal-oauth needs Node.js 22.19 or later; this is Node.js ${old}. Install a newer Node.js and run again.`);
    }
    for (const supported of ['22.19.0', '22.22.1', '23.0.0', '24.21.0', '100.0.0']) assert.equal(unsupportedNodeMessage(supported), undefined, supported);
  });

  describe(`on ${SYSTEM_NODE}`, function () {
    const version = existsSync(SYSTEM_NODE) ? execFileSync(SYSTEM_NODE, ['--version'], { encoding: 'utf8' }).trim().slice(1) : undefined;
    before(function () {
      // The check needs an old Node.js to run on; a machine whose system Node.js is new enough has none to offer.
      if (version === undefined || unsupportedNodeMessage(version) === undefined) this.skip();
    });

    it("require('temporal-oauth') fails at once, naming the version needed, not inside a dependency", () => {
      const run = spawnSync(SYSTEM_NODE, ['-e', `require(${JSON.stringify(PACKAGE_ENTRY)})`], { encoding: 'utf8' });
      assert.notEqual(run.status, 0);
      assert.match(run.stderr, new RegExp(`^Error: temporal-oauth needs Node\\.js 22\\.19 or later; this is Node\\.js ${version!.replace(/\./g, '\\.')}\\.`, 'm'));
      assert.match(run.stderr, /at requireSupportedNode/, 'the error came from somewhere else');
    });

    it('the CLI says so in one line and exits 1', () => {
      const run = spawnSync(SYSTEM_NODE, [CLI, 'servers', 'list'], { encoding: 'utf8' });
      assert.equal(run.status, 1);
      assert.equal(run.stderr, `temporal-oauth needs Node.js 22.19 or later; this is Node.js ${version}. Install a newer Node.js and run again.\n`);
    });
  });
});
