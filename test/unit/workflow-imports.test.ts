import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

/**
 * A worker evaluates the modules a workflow imports once for every workflow it holds, and every
 * workflow on a worker with the plugin imports the plugin's workflows and converters: whatever
 * they import at the top, each workflow pays for, the user's own included.
 */
const EVERY_WORKFLOW_IMPORTS = ['../../src/workflow', '../../src/workflows', '../../src/codec/payload-converter', '../../src/codec/failure-converter'].map((module) =>
  require.resolve(module),
);

/** The zod modules a fresh Node process holds after importing what every workflow imports, and after `then` runs. */
function zodModulesLoaded(then: string): { atImport: number; after: number } {
  const script = `
    for (const module of ${JSON.stringify(EVERY_WORKFLOW_IMPORTS)}) require(module);
    const zodModules = () => Object.keys(require.cache).filter((path) => path.includes('/node_modules/zod/')).length;
    const atImport = zodModules();
    ${then};
    console.log(JSON.stringify({ atImport, after: zodModules() }));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as { atImport: number; after: number };
}

describe('what every workflow on a worker with the plugin imports', () => {
  it('leaves zod unloaded until a server checks a configuration', () => {
    const configRules = JSON.stringify(require.resolve('../../src/workflows/config-rules'));
    const { atImport, after } = zodModulesLoaded(`require(${configRules}).configRules().parseOAuthServerConfig`);
    assert.equal(atImport, 0, 'zod is imported by a module every workflow evaluates');
    assert.ok(after > 0, 'the configuration rules, once asked for, load zod');
  });
});
