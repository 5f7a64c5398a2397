import { existsSync, readFileSync, rmSync } from 'node:fs';
import { GENERATED_CASES_FILE } from './support/generated-cases';

/**
 * `npm test` runs this before its suites with `reset`, and after them to end its output with the
 * number of cases the property and model-based tests generated together.
 */
if (process.argv[2] === 'reset') {
  rmSync(GENERATED_CASES_FILE, { force: true });
} else {
  const counts = existsSync(GENERATED_CASES_FILE) ? readFileSync(GENERATED_CASES_FILE, 'utf8').split('\n').filter(Boolean) : [];
  const total = counts.reduce((sum, line) => sum + Number(line), 0);
  process.stdout.write(`generated cases: ${total}\n`);
}
