#!/usr/bin/env node
import { unsupportedNodeMessage } from '../supported-node';

// Before anything else is loaded: on an old Node.js a dependency would fail first, and less clearly.
const unsupported = unsupportedNodeMessage();
if (unsupported !== undefined) {
  process.stderr.write(`${unsupported}\n`);
  process.exit(1);
}

import { cliProgram } from './program';

void cliProgram()
  .run(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
