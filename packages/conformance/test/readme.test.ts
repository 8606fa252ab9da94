/**
 * The README's example runs as written: it is cut out of README.md, run with tsx, and must
 * print the shrunk failure of its toy echo target.
 */
import { readmeExample } from '@peerkit/dev-kit/readme';
import { expect, it } from 'vitest';

it('the README example runs and reports the shrunk failure with its replay seed', () => {
  const example = readmeExample(new URL('..', import.meta.url));
  expect(example.code).toBeDefined();
  const run = example.run();
  expect(run.stderr).toBe('');
  expect(run.stdout).toMatch(
    /^echo\.same-bytes: failed \(sent 256 bytes, got 0 back\)\ncounterexample: 256; replay: seed 42, path [0-9:]+\n$/,
  );
  expect(run.status).toBe(0);
}, 60_000);
