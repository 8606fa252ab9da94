/** The README's example runs as written (cut out of README.md, run with tsx) and prints what the README says. */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('the README example runs and prints what the README shows', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const code = /## Example\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  const expected = /\nprints\n\n```\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  expect(expected).toBeDefined();
  // Inside the package, so that `@peerkit/ledger` resolves to this package (self-reference).
  const file = fileURLToPath(new URL('./readme-example.tmp.ts', import.meta.url));
  writeFileSync(file, code as string);
  try {
    const run = spawnSync(
      process.execPath,
      ['--conditions=@peerkit/source', '--import', 'tsx', file],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(expected);
    expect(run.status).toBe(0);
  } finally {
    rmSync(file, { force: true });
  }
}, 90_000);
