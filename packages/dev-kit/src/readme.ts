/**
 * READMEs whose examples run: the first ```ts block after a README heading (`## Example` by
 * default) is cut out of the package's README.md, written next to the test (inside the package,
 * so that the package's own name resolves to its sources by self-reference) and run with tsx
 * under the `@peerkit/source` condition. The test then checks what it printed.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface ReadmeExample {
  /** The whole README.md, for tests that compare the output with a block of it. */
  readonly readme: string;
  /** The example's code, undefined when the README has no such block. */
  readonly code: string | undefined;
  /** Runs the code (at most `timeoutMs`) and returns what it printed and its exit status. */
  run(): SpawnSyncReturns<string>;
}

export interface ReadmeExampleOptions {
  /** The heading (level 2) the example follows; default `Example`. */
  section?: string;
  /** Longest run, ms (default 30,000). */
  timeoutMs?: number;
}

/** The example of the README.md in `packageDir` (a `file:` URL, e.g. `new URL('..', import.meta.url)`). */
export function readmeExample(packageDir: URL, options: ReadmeExampleOptions = {}): ReadmeExample {
  const readme = readFileSync(new URL('README.md', packageDir), 'utf8');
  const heading = (options.section ?? 'Example').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const code = new RegExp(`\\n## ${heading}\\n[\\s\\S]*?\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(
    readme,
  )?.[1];
  return {
    readme,
    code,
    run() {
      if (code === undefined) throw new Error(`README.md has no ts block under ## ${heading}`);
      const file = fileURLToPath(new URL('test/readme-example.tmp.ts', packageDir));
      writeFileSync(file, code);
      try {
        return spawnSync(
          process.execPath,
          ['--conditions=@peerkit/source', '--import', 'tsx', file],
          {
            encoding: 'utf8',
            timeout: options.timeoutMs ?? 30_000,
          },
        );
      } finally {
        rmSync(file, { force: true });
      }
    },
  };
}
