/** A throwing event handler neither breaks the chain or mempool nor stops the other handlers. */
import { describe, expect, it } from 'vitest';
import { addressToScript, Chain, COIN, generateBlocks, Mempool, Wallet } from '../src/index';

const NOW = () => 2_000_000_000;

describe('events', () => {
  it('isolates throwing handlers of the chain and the mempool', async () => {
    const chain = await Chain.open({ now: NOW });
    const mempool = new Mempool({ chain });
    const tips: number[] = [];
    const added: number[] = [];
    const errors: string[] = [];
    const originalError = console.error;
    console.error = (...args: unknown[]) => errors.push(args.join(' '));
    const originalWrite = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => {
      errors.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      chain.on('tip', () => {
        throw new Error('bad tip handler');
      });
      chain.on('tip', ({ tip }) => tips.push(tip.height));
      mempool.on('added', () => {
        throw new Error('bad mempool handler');
      });
      mempool.on('added', () => added.push(1));
      const wallet = new Wallet();
      const address = wallet.newAddress();
      await generateBlocks({
        chain,
        mempool,
        coinbaseScript: addressToScript(address),
        count: 101,
      });
      await mempool.accept(wallet.createPayment({ chain, mempool, to: address, amount: COIN }));
    } finally {
      console.error = originalError;
      process.stderr.write = originalWrite;
    }
    expect(tips).toHaveLength(101);
    expect(tips.at(-1)).toBe(101);
    expect(added).toEqual([1]);
    expect(chain.height).toBe(101);
    expect(mempool.size).toBe(1);
    expect(errors.some((e) => e.includes('tip'))).toBe(true);
  });
});
