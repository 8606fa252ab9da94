import { describe, expect, it } from 'vitest';
import { runLedgerDemo } from '../src/index';

describe('runLedgerDemo (the third part of pnpm demo)', () => {
  it('syncs, relays and confirms a payment, and resolves a fork to the most-work chain', async () => {
    const lines: string[] = [];
    const s = await runLedgerDemo({ log: (l) => lines.push(l), timeoutMs: 60_000 });
    expect(s).toMatchObject({
      synced: true,
      paymentRelayed: true,
      paymentConfirmed: true,
      forkResolved: true,
      height: 104,
    });
    expect(s.payeeBalance).toBe(1_000_000_000n);
    expect(s.blocksReplaced).toBe(1);
    expect(lines.some((l) => l.includes('fork resolves'))).toBe(true);
  }, 120_000);
});
