/**
 * The README's example runs as written: it is cut out of README.md, run with tsx, and must
 * print the shrunk failure of its toy echo target.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('the README example runs and reports the shrunk failure with its replay seed', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const code = /## Example\n\n[^`]*```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  // Inside the package, so that `@peerkit/conformance` resolves to this package (self-reference).
  const file = fileURLToPath(new URL('./readme-example.tmp.ts', import.meta.url));
  writeFileSync(file, code as string);
  try {
    const run = spawnSync(
      process.execPath,
      ['--conditions=@peerkit/source', '--import', 'tsx', file],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(
      /^echo\.same-bytes: failed \(sent 256 bytes, got 0 back\)\ncounterexample: 256; replay: seed 42, path [0-9:]+\n$/,
    );
    expect(run.status).toBe(0);
  } finally {
    rmSync(file, { force: true });
  }
}, 60_000);
