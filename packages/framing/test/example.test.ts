import { describe, expect, it } from 'vitest';
import { main } from '../examples/chat';

describe('README example (examples/chat.ts)', () => {
  it('runs and prints what the README shows', async () => {
    const lines: string[] = [];
    const received = await main((line) => lines.push(line));
    expect(lines).toEqual([
      'someone joined lobby',
      'lobby: hello, peers',
      'rejected: MALFORMED',
      'rejected: FRAME_TOO_LARGE',
    ]);
    expect(received).toHaveLength(2);
  });
});
