/**
 * The README's selection and streaming example (examples/select-and-stream.ts) runs, over real
 * sockets on loopback, and the README shows it verbatim.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { selectAndStream } from '../examples/select-and-stream';

describe('README example: select and stream', () => {
  it('runs: only the selected files on disk, the streamed tail right', async () => {
    const { tail, expected, files } = await selectAndStream();
    expect(files).toEqual(['part1.bin', 'part3.bin']);
    expect(tail.equals(expected)).toBe(true);
  }, 60_000);

  it('is in the README as it is in examples/', async () => {
    const example = await readFile(
      new URL('../examples/select-and-stream.ts', import.meta.url),
      'utf8',
    );
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const code = example.slice(example.indexOf('import '));
    expect(readme).toContain(code.trim());
  });
});
