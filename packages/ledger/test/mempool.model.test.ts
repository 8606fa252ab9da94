/**
 * Model-based test of the mempool (fc.commands): payments at random fee rates, blocks mined
 * from the template, under a byte cap. The model is a list of (txid, fee rate, vsize) with
 * the reference eviction rule (drop the lowest fee rate, first accepted first, until under the
 * cap); after every command the mempool holds exactly the model's transactions, within the cap,
 * with no two spending the same output.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { outpointKey } from '../src/chain/coins';
import {
  addressToScript,
  Chain,
  COIN,
  generateBlocks,
  Mempool,
  toHex,
  txid,
  txVsize,
  Wallet,
} from '../src/index';

const NOW = () => 2_000_000_000;
const CAP = 1200; // about five 1-in-2-out payments
const stats = { evicted: 0, refused: 0 };

interface ModelTx {
  id: string;
  feeRate: bigint;
  vsize: number;
}
interface Real {
  chain: Chain;
  mempool: Mempool;
  wallet: Wallet;
  address: string;
}

function check(model: ModelTx[], real: Real): void {
  expect([...real.mempool.entries()].map((e) => toHex(e.txid)).sort()).toEqual(
    model.map((m) => m.id).sort(),
  );
  expect(real.mempool.bytes).toBe(model.reduce((s, m) => s + m.vsize, 0));
  expect(real.mempool.bytes).toBeLessThanOrEqual(CAP);
  const spent = new Set<string>();
  for (const tx of real.mempool.transactions()) {
    for (const input of tx.inputs) {
      const key = outpointKey(input.prevout);
      expect(spent.has(key)).toBe(false);
      spent.add(key);
      expect(real.chain.getCoin(input.prevout)).toBeDefined();
    }
  }
}

class PayCommand implements fc.AsyncCommand<ModelTx[], Real> {
  constructor(
    readonly feeRate: bigint,
    readonly coins: bigint,
  ) {}
  check(): boolean {
    return true;
  }
  async run(model: ModelTx[], real: Real): Promise<void> {
    const { chain, mempool, wallet, address } = real;
    const tx = wallet.createPayment({
      chain,
      mempool,
      to: address,
      amount: this.coins * COIN,
      feeRate: this.feeRate,
    });
    const inValue = tx.inputs.reduce(
      (s, i) => s + (chain.getCoin(i.prevout)?.output.value ?? 0n),
      0n,
    );
    const fee = inValue - tx.outputs.reduce((s, o) => s + o.value, 0n);
    const vsize = txVsize(tx);
    const entry: ModelTx = { id: toHex(txid(tx)), feeRate: (fee * 1000n) / BigInt(vsize), vsize };
    // Reference rule: add, then evict the lowest fee rate (earliest first) while above the cap.
    const next = [...model, entry];
    while (next.reduce((s, m) => s + m.vsize, 0) > CAP) {
      let worst = 0;
      next.forEach((m, i) => {
        if (m.feeRate < (next[worst] as ModelTx).feeRate) worst = i;
      });
      next.splice(worst, 1);
    }
    const admitted = next.includes(entry);
    if (!admitted) stats.refused++;
    stats.evicted += model.length + 1 - next.length - (admitted ? 0 : 1);
    if (admitted) await expect(mempool.accept(tx)).resolves.toEqual({ status: 'accepted' });
    else await expect(mempool.accept(tx)).rejects.toMatchObject({ code: 'MEMPOOL' });
    model.splice(0, model.length, ...next);
    check(model, real);
  }
  toString(): string {
    return `pay(${this.coins} coins at ${this.feeRate} sat/kvB)`;
  }
}

class MineCommand implements fc.AsyncCommand<ModelTx[], Real> {
  check(): boolean {
    return true;
  }
  async run(model: ModelTx[], real: Real): Promise<void> {
    const [block] = await generateBlocks({
      chain: real.chain,
      mempool: real.mempool,
      coinbaseScript: addressToScript(real.address),
      count: 1,
    });
    const included = new Set(block!.transactions.map((t) => toHex(txid(t))));
    // Everything fits in one block: the mempool empties.
    expect(model.every((m) => included.has(m.id))).toBe(true);
    model.splice(0, model.length);
    check(model, real);
  }
  toString(): string {
    return 'mine';
  }
}

describe('mempool (model-based)', () => {
  it('holds exactly the reference set under the byte cap, conflict-free', async () => {
    const pay = fc
      .tuple(fc.integer({ min: 1000, max: 20_000 }), fc.integer({ min: 1, max: 40 }))
      .map(([rate, coins]) => new PayCommand(BigInt(rate), BigInt(coins)));
    // Payments four times as often as blocks, so the cap is reached.
    const commands = [pay, pay, pay, pay, fc.constant(new MineCommand())];
    // One funded chain, copied per run by replaying its blocks.
    const source = await Chain.open({ now: NOW });
    const wallet = new Wallet();
    const address = wallet.newAddress();
    const blocks = await generateBlocks({
      chain: source,
      coinbaseScript: addressToScript(address),
      count: 140,
    });
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 25, size: 'max' }), async (cmds) => {
        const chain = await Chain.open({ now: NOW });
        for (const b of blocks) await chain.acceptBlock(b);
        const real: Real = {
          chain,
          mempool: new Mempool({ chain, maxBytes: CAP }),
          wallet,
          address,
        };
        await fc.asyncModelRun(() => ({ model: [] as ModelTx[], real }), cmds);
      }),
      { numRuns: Number(process.env.NUM_RUNS ?? 25) },
    );
    console.log('mempool model stats', stats);
    expect(stats.evicted).toBeGreaterThan(0);
    expect(stats.refused).toBeGreaterThan(0);
  }, 300_000);
});
