import assert from 'node:assert/strict';
import type { CliResult } from './cli.js';

/** Exit 1 and one short error line naming what is wrong: no stack trace, no megabytes of echo. */
export function assertOneLineError(result: CliResult, pattern: RegExp): void {
  assert.equal(result.code, 1, `expected exit 1, got ${result.code}; stderr: ${result.stderr.slice(0, 2000)}`);
  assert.match(result.stderr, pattern);
  assert.doesNotMatch(result.stderr, /\n\s+at |internal error/, `a stack trace: ${result.stderr.slice(0, 2000)}`);
  assert.ok(result.stderr.length < 2000, `the error is ${result.stderr.length} characters long`);
}
