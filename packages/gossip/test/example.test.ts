import { expect, test } from 'vitest';
import { main } from '../examples/loopback';

test('the README example delivers to both subscribers over loopback TCP', async () => {
  const lines = await main(() => {});
  expect(lines.sort()).toEqual(['b got "hello, mesh" on chat', 'c got "hello, mesh" on chat']);
});
