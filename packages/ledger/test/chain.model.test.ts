/**
 * Model-based test of fork choice and reorganisation: random trees of blocks (some invalid,
 * some spending earlier outputs, some withheld and delivered later as orphans) are fed to the
 * chain. After every step: the tip is a most-work leaf among the blocks that are stored with
 * all their ancestors and valid, and the UTXO set equals the one rebuilt from genesis along
 * that tip. At the end, reopening the store replays to the same tip and UTXO set.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Chain } from '../src/chain/chain';
import { MemoryChainStore } from '../src/chain/store';
import { blockProof } from '../src/consensus/pow';
import { type Block, blockHash, REGTEST, type Transaction, toHex, txid } from '../src/index';
import { buildBlock, coinbaseTx, GENESIS, OP_TRUE } from './helpers/blocks';

const PARAMS = { ...REGTEST, coinbaseMaturity: 2 };
const NOW = () => 2_000_000_000;

interface ModelBlock {
  block: Block;
  key: string;
  parent: ModelBlock | undefined;
  height: number;
  time: number;
  valid: boolean; // this block's own rules (ancestors separate)
  delivered: boolean;
  utxo: Map<string, bigint> | undefined; // after this block, when valid along the path
  work: bigint;
}

class Model {
  readonly blocks: ModelBlock[] = [];
  readonly genesis: ModelBlock;
  constructor() {
    this.genesis = {
      block: REGTEST.genesis,
      key: toHex(REGTEST.genesisHash),
      parent: undefined,
      height: 0,
      time: GENESIS.time,
      valid: true,
      delivered: true,
      utxo: new Map(),
      work: blockProof(REGTEST.powLimitBits),
    };
    this.blocks.push(this.genesis);
  }

  /** Valid along the whole path and delivered with every ancestor. */
  connectable(b: ModelBlock): boolean {
    for (let n: ModelBlock | undefined = b; n !== undefined; n = n.parent)
      if (!n.valid || !n.delivered) return false;
    return true;
  }
}

/** A new block on `parent`: kind 0 valid, 1 spends an output, 2 overpays, 3 double-spends. */
function makeBlock(model: Model, parent: ModelBlock, kind: number, pick: number): ModelBlock {
  const height = parent.height + 1;
  const subsidy =
    PARAMS.initialSubsidy >> BigInt(Math.floor(height / PARAMS.subsidyHalvingInterval));
  const txs: Transaction[] = [];
  let valid = parent.utxo !== undefined;
  const utxo = new Map(parent.utxo ?? []);
  const spendable = [...utxo.entries()].filter(([k]) => {
    const h = Number(k.split('@')[1]);
    return Number.isNaN(h) || height - h >= PARAMS.coinbaseMaturity;
  });
  let fee = 0n;
  if ((kind === 1 || kind === 3) && spendable.length > 0) {
    const [key, value] = spendable[pick % spendable.length] as [string, bigint];
    const [outpoint] = key.split('@') as [string];
    const [hex, index] = outpoint.split(':') as [string, string];
    const spend = (out: bigint): Transaction => ({
      version: 1,
      inputs: [
        {
          prevout: { txid: new Uint8Array(Buffer.from(hex, 'hex')), index: Number(index) },
          scriptSig: new Uint8Array(0),
          sequence: 0xffffffff,
          witness: [],
        },
      ],
      outputs: [{ value: out, scriptPubKey: OP_TRUE }],
      lockTime: 0,
    });
    const tx = spend(value - 1000n);
    txs.push(tx);
    fee = 1000n;
    utxo.delete(key);
    utxo.set(`${toHex(txid(tx))}:0@tx`, value - 1000n);
    if (kind === 3) {
      txs.push(spend(value - 2000n)); // the same outpoint again: a double spend
      valid = false;
    }
  }
  const coinbase = coinbaseTx(
    height,
    subsidy + fee + (kind === 2 ? 1n : 0n),
    OP_TRUE,
    model.blocks.length,
  );
  if (kind === 2) valid = false;
  const block = buildBlock(
    { hash: blockHash(parent.block.header), height: parent.height, time: parent.time },
    [coinbase, ...txs],
  );
  utxo.set(`${toHex(txid(coinbase))}:0@${height}`, coinbase.outputs[0]!.value);
  const node: ModelBlock = {
    block,
    key: toHex(blockHash(block.header)),
    parent,
    height,
    time: block.header.time,
    valid,
    delivered: false,
    utxo: valid ? utxo : undefined,
    work: parent.work + blockProof(block.header.bits),
  };
  model.blocks.push(node);
  return node;
}

async function deliver(chain: Chain, b: ModelBlock): Promise<void> {
  b.delivered = true;
  try {
    await chain.acceptBlock(b.block);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'INVALID_BLOCK' && code !== 'INVALID_HEADER') throw e;
  }
}

function checkInvariant(model: Model, chain: Chain): void {
  const leaves = model.blocks.filter((b) => model.connectable(b));
  let maxWork = 0n; // bigints: no Math.max
  for (const b of leaves) if (b.work > maxWork) maxWork = b.work;
  const tipKey = toHex(chain.tip.hash);
  const tip = model.blocks.find((b) => b.key === tipKey);
  expect(tip, 'tip is a known block').toBeDefined();
  expect(model.connectable(tip as ModelBlock), 'tip is valid and complete').toBe(true);
  expect(chain.tip.work).toBe(maxWork);
  const expected = [...((tip as ModelBlock).utxo ?? new Map()).entries()]
    .map(([k, v]) => `${k.split('@')[0]}=${v}`)
    .sort();
  const actual = [...chain.coins()]
    .map(([o, c]) => `${toHex(o.txid)}:${o.index}=${c.output.value}`)
    .sort();
  expect(actual).toEqual(expected);
}

interface Real {
  chain: Chain;
  store: MemoryChainStore;
  withheld: ModelBlock[];
}

const stats = { reorgs: 0, invalid: 0, orphans: 0, spends: 0 };

/** Builds a block on a recent block (so branches grow long enough to compete); delivers or withholds it. */
class ExtendCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly parent: number,
    readonly kind: number,
    readonly pick: number,
    readonly withhold: boolean,
  ) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    const candidates = model.blocks.slice(-6);
    const parent = candidates[this.parent % candidates.length] as ModelBlock;
    const b = makeBlock(model, parent, this.kind, this.pick);
    if (b.block.transactions.length > 1) stats.spends++;
    if (this.withhold) real.withheld.push(b);
    else await deliver(real.chain, b);
    checkInvariant(model, real.chain);
  }
  toString(): string {
    return `extend(${this.parent}, kind ${this.kind}, ${this.pick}${this.withhold ? ', withheld' : ''})`;
  }
}

/** Delivers one withheld block (its descendants may be waiting as orphans). */
class ReleaseCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    const b = real.withheld.splice(this.pick % Math.max(1, real.withheld.length), 1)[0];
    if (b !== undefined) await deliver(real.chain, b);
    checkInvariant(model, real.chain);
  }
  toString(): string {
    return `release(${this.pick})`;
  }
}

describe('chain fork choice and reorganisation (model-based)', () => {
  it('tip is the most-work valid leaf and the UTXO set matches a rebuild from genesis', async () => {
    const commands = [
      fc
        .tuple(fc.nat(), fc.constantFrom(0, 0, 0, 1, 1, 2, 3), fc.nat(), fc.boolean())
        .map(
          ([parent, kind, pick, withhold]) =>
            new ExtendCommand(parent, kind, pick, withhold && pick % 4 === 0),
        ),
      fc.nat().map((pick) => new ReleaseCommand(pick)),
    ];
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 60, size: 'max' }), async (cmds) => {
        const store = new MemoryChainStore();
        const chain = await Chain.open({ params: PARAMS, store, now: NOW, maxOrphanBlocks: 1000 });
        chain.on('tip', ({ disconnected }) => {
          if (disconnected.length > 0) stats.reorgs++;
        });
        chain.on('invalid', () => stats.invalid++);
        const model = new Model();
        const real: Real = { chain, store, withheld: [] };
        await fc.asyncModelRun(() => ({ model, real }), cmds);
        stats.orphans += chain.orphanCount;
        for (const b of real.withheld) await deliver(chain, b);
        checkInvariant(model, chain);
        // Restart: replaying the store gives the same tip and UTXO set.
        const reopened = await Chain.open({
          params: PARAMS,
          store: MemoryChainStore.from(store.snapshot()),
          now: NOW,
        });
        expect(toHex(reopened.tip.hash)).toBe(toHex(chain.tip.hash));
        checkInvariant(model, reopened);
      }),
      { numRuns: Number(process.env.NUM_RUNS ?? 100) },
    );
    console.log('chain model stats', stats);
    // The generated trees did exercise what the property is about.
    expect(stats.reorgs).toBeGreaterThan(10);
    expect(stats.invalid).toBeGreaterThan(10);
    expect(stats.orphans).toBeGreaterThan(0);
    expect(stats.spends).toBeGreaterThan(10);
  }, 300_000);
});
