/** The README's example runs as written (cut out of README.md, run with tsx) and prints what the README says. */
import { readmeExample } from '@peerkit/dev-kit/readme';
import { expect, it } from 'vitest';

it('the README example runs and prints what the README shows', () => {
  const example = readmeExample(new URL('..', import.meta.url), { timeoutMs: 60_000 });
  const code = example.code;
  const expected = /\nprints\n\n```\n([\s\S]*?)```/.exec(example.readme)?.[1];
  expect(code).toBeDefined();
  expect(expected).toBeDefined();
  const run = example.run();
  expect(run.stderr).toBe('');
  expect(run.stdout).toBe(expected);
  expect(run.status).toBe(0);
}, 90_000);
