import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { tempDir } from '../src/interop';
import { readmeExample } from '../src/readme';

it('cuts the ts block under the heading out of README.md, runs it, and leaves no file behind', async () => {
  const dir = await tempDir('readme');
  try {
    mkdirSync(`${dir.path}/test`);
    writeFileSync(
      `${dir.path}/README.md`,
      [
        '# x',
        '',
        '## Install',
        '',
        '```ts',
        "console.log('not this one');",
        '```',
        '',
        '## Example',
        '',
        'Some words first.',
        '',
        '```ts',
        'const n: number = 6 * 7;',
        "console.log('answer', n);",
        '```',
        '',
      ].join('\n'),
    );
    const pkg = pathToFileURL(`${dir.path}/`);
    const example = readmeExample(pkg);
    expect(example.code).toBe("const n: number = 6 * 7;\nconsole.log('answer', n);\n");
    const run = example.run();
    expect(run.stdout).toBe('answer 42\n');
    expect(run.status).toBe(0);
    expect(readdirSync(`${dir.path}/test`)).toEqual([]);

    const missing = readmeExample(pkg, { section: 'Usage' });
    expect(missing.code).toBeUndefined();
    expect(() => missing.run()).toThrow(/no ts block under ## Usage/);
  } finally {
    await dir.remove();
  }
});
