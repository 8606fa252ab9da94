/**
 * The README's example runs as written: it is cut out of README.md, run with tsx on real
 * loopback sockets, and must print the echo.
 */
import { readmeExample } from '@peerkit/dev-kit/readme';
import { expect, it } from 'vitest';

it('the README example runs and echoes', () => {
  const example = readmeExample(new URL('..', import.meta.url));
  expect(example.code).toBeDefined();
  const run = example.run();
  expect(run.stderr).toBe('');
  expect(run.stdout).toMatch(/^bob talks to [0-9a-f]{64}\necho: hello, bob\n$/);
  expect(run.status).toBe(0);
}, 60_000);
