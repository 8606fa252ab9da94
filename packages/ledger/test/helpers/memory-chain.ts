/**
 * A small reference chain and mempool for the P2P tests: header tree with proof of work and
 * most-work selection, blocks checked against their merkle root, reorgs. No script or UTXO
 * validation beyond "an outpoint is spent once": that is ledger-core's Chain; these doubles let
 * the P2P layer be tested on its own (sync, relay, stalls, bans, reorgs) in netsim.
 */
import { LedgerError } from '../../src/errors';
import { toHex } from '../../src/hash';
import type { ChainEntry, NodeChain, NodeMempool } from '../../src/p2p/ports';
import { REGTEST } from '../../src/params';
import { type Block, type BlockHeader, blockHash, merkleRoot } from '../../src/primitives/block';
import { type Transaction, txid } from '../../src/primitives/transaction';

interface Entry extends ChainEntry {
  prev: Entry | undefined;
  key: string;
  complete: boolean;
}

export function targetFromBits(bits: number): bigint {
  const exponent = bits >>> 24;
  const mantissa = BigInt(bits & 0x007fffff);
  return exponent <= 3
    ? mantissa >> BigInt(8 * (3 - exponent))
    : mantissa << BigInt(8 * (exponent - 3));
}

/** The hash as a number (internal order is little-endian). */
export function hashValue(hash: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(hash).reverse().toString('hex')}`);
}

export function workFromBits(bits: number): bigint {
  const target = targetFromBits(bits);
  return (1n << 256n) / (target + 1n);
}

export class MemoryChain implements NodeChain {
  readonly #entries = new Map<string, Entry>();
  readonly #blocks = new Map<string, Block>();
  readonly #active: Entry[] = [];
  #bestHeader: Entry;

  constructor(genesis: Block = REGTEST.genesis) {
    const hash = blockHash(genesis.header);
    const g: Entry = {
      hash,
      key: toHex(hash),
      height: 0,
      header: genesis.header,
      work: workFromBits(genesis.header.bits),
      prev: undefined,
      complete: true,
    };
    this.#entries.set(g.key, g);
    this.#blocks.set(g.key, genesis);
    this.#active.push(g);
    this.#bestHeader = g;
  }

  get tip(): ChainEntry {
    return this.#active[this.#active.length - 1] as Entry;
  }

  get bestHeader(): ChainEntry {
    return this.#bestHeader;
  }

  getEntry(hash: Uint8Array): ChainEntry | undefined {
    return this.#entries.get(toHex(hash));
  }

  hasBlock(hash: Uint8Array): boolean {
    return this.#blocks.has(toHex(hash));
  }

  async getBlock(hash: Uint8Array): Promise<Block | undefined> {
    return this.#blocks.get(toHex(hash));
  }

  /** The block at `height` on the active chain. */
  blockAt(height: number): Block | undefined {
    const e = this.#active[height];
    return e ? this.#blocks.get(e.key) : undefined;
  }

  locator(hash?: Uint8Array): Uint8Array[] {
    let e: Entry | undefined = hash ? this.#entries.get(toHex(hash)) : this.#bestHeader;
    const out: Uint8Array[] = [];
    let step = 1;
    while (e) {
      out.push(e.hash);
      if (out.length >= 10) step *= 2;
      for (let i = 0; i < step && e; i++) e = e.prev;
    }
    const genesis = this.#active[0] as Entry;
    if (toHex(out[out.length - 1] as Uint8Array) !== genesis.key) out.push(genesis.hash);
    return out;
  }

  headersAfter(locator: Uint8Array[], stop: Uint8Array, max: number): BlockHeader[] {
    // No common hash: the last common block is genesis, so start at block one.
    let start = 1;
    for (const h of locator) {
      const e = this.#entries.get(toHex(h));
      if (e && this.#active[e.height] === e) {
        start = e.height + 1;
        break;
      }
    }
    const stopKey = toHex(stop);
    const out: BlockHeader[] = [];
    for (let h = start; h < this.#active.length && out.length < max; h++) {
      const e = this.#active[h] as Entry;
      out.push(e.header);
      if (e.key === stopKey) break;
    }
    return out;
  }

  acceptHeaders(headers: BlockHeader[]): { added: ChainEntry[] } {
    const added: ChainEntry[] = [];
    headers.forEach((header, i) => {
      const hash = blockHash(header);
      const key = toHex(hash);
      if (this.#entries.has(key)) return;
      const prev = this.#entries.get(toHex(header.prevBlock));
      if (!prev) {
        if (i === 0) throw new LedgerError('ORPHAN', 'headers do not connect');
        throw new LedgerError('INVALID_HEADER', 'non-continuous headers');
      }
      if (hashValue(hash) > targetFromBits(header.bits) || header.bits !== REGTEST.powLimitBits) {
        throw new LedgerError('INVALID_HEADER', 'high hash');
      }
      const e: Entry = {
        hash,
        key,
        height: prev.height + 1,
        header,
        work: prev.work + workFromBits(header.bits),
        prev,
        complete: false,
      };
      this.#entries.set(key, e);
      added.push(e);
      if (e.work > this.#bestHeader.work) this.#bestHeader = e;
    });
    return { added };
  }

  missingBlocks(max: number): ChainEntry[] {
    const out: Entry[] = [];
    for (let e: Entry | undefined = this.#bestHeader; e && !this.#isComplete(e); e = e.prev) {
      if (!this.#blocks.has(e.key)) out.push(e);
    }
    return out.reverse().slice(0, max);
  }

  async acceptBlock(block: Block): Promise<{
    status: 'connected' | 'stored' | 'orphan' | 'duplicate';
    connected: Block[];
    disconnected: Block[];
  }> {
    const hash = blockHash(block.header);
    const key = toHex(hash);
    if (this.#blocks.has(key)) return { status: 'duplicate', connected: [], disconnected: [] };
    try {
      this.acceptHeaders([block.header]);
    } catch (error) {
      if (error instanceof LedgerError && error.code === 'ORPHAN')
        return { status: 'orphan', connected: [], disconnected: [] };
      throw error;
    }
    const { root, mutated } = merkleRoot(block.transactions.map(txid));
    if (
      mutated ||
      block.transactions.length === 0 ||
      Buffer.compare(root, block.header.merkleRoot) !== 0
    ) {
      throw new LedgerError('INVALID_BLOCK', 'bad merkle root');
    }
    this.#blocks.set(key, block);
    // Activate the most-work chain whose blocks we all have.
    let best = this.tip as Entry;
    for (const e of this.#entries.values()) if (e.work > best.work && this.#isComplete(e)) best = e;
    const connected: Block[] = [];
    const disconnected: Block[] = [];
    if (best !== this.tip) {
      const path: Entry[] = [];
      let e: Entry | undefined = best;
      while (e && this.#active[e.height] !== e) {
        path.push(e);
        e = e.prev;
      }
      const forkHeight = e ? e.height : -1;
      while (this.#active.length - 1 > forkHeight) {
        const gone = this.#active.pop() as Entry;
        disconnected.push(this.#blocks.get(gone.key) as Block);
      }
      for (const p of path.reverse()) {
        this.#active.push(p);
        connected.push(this.#blocks.get(p.key) as Block);
      }
    }
    const status = connected.some((b) => b === block) ? 'connected' : 'stored';
    return { status, connected, disconnected };
  }

  #isComplete(e: Entry): boolean {
    const chain: Entry[] = [];
    let c: Entry | undefined = e;
    while (c && !c.complete) {
      if (!this.#blocks.has(c.key)) return false;
      chain.push(c);
      c = c.prev;
    }
    for (const x of chain) x.complete = true;
    return true;
  }
}

/** A mempool double: any transaction whose outpoints are not already spent in it. */
export class MemoryMempool implements NodeMempool {
  readonly #txs = new Map<string, Transaction>();
  readonly #spent = new Map<string, string>();

  accept(tx: Transaction): { status: 'accepted' } {
    const key = toHex(txid(tx));
    if (this.#txs.has(key)) throw new LedgerError('DUPLICATE', 'already in the mempool');
    for (const i of tx.inputs) {
      if (this.#spent.has(`${toHex(i.prevout.txid)}:${i.prevout.index}`))
        throw new LedgerError('MEMPOOL', 'conflict');
    }
    this.#txs.set(key, tx);
    for (const i of tx.inputs) this.#spent.set(`${toHex(i.prevout.txid)}:${i.prevout.index}`, key);
    return { status: 'accepted' };
  }

  has(id: Uint8Array): boolean {
    return this.#txs.has(toHex(id));
  }

  get(id: Uint8Array): Transaction | undefined {
    return this.#txs.get(toHex(id));
  }

  transactions(): Iterable<Transaction> {
    return this.#txs.values();
  }

  feeRate(): bigint {
    return 1000n;
  }

  #remove(key: string): void {
    const tx = this.#txs.get(key);
    if (!tx) return;
    this.#txs.delete(key);
    for (const i of tx.inputs) this.#spent.delete(`${toHex(i.prevout.txid)}:${i.prevout.index}`);
  }

  blockConnected(block: Block): void {
    for (const tx of block.transactions) {
      this.#remove(toHex(txid(tx)));
      for (const i of tx.inputs) {
        const other = this.#spent.get(`${toHex(i.prevout.txid)}:${i.prevout.index}`);
        if (other) this.#remove(other);
      }
    }
  }

  blockDisconnected(block: Block): void {
    for (const tx of block.transactions.slice(1)) {
      try {
        this.accept(tx);
      } catch {
        // conflicts with what is there: dropped
      }
    }
  }
}

/** Mines a block on `parent` (trivial regtest proof of work) with `txs` after a unique coinbase. */
export function mineBlock(
  parent: ChainEntry,
  txs: Transaction[],
  tag: number,
  options: { badMerkle?: boolean; time?: number } = {},
): Block {
  const height = parent.height + 1;
  const coinbase: Transaction = {
    version: 1,
    inputs: [
      {
        prevout: { txid: new Uint8Array(32), index: 0xffffffff },
        scriptSig: Uint8Array.from([
          4,
          height & 0xff,
          (height >> 8) & 0xff,
          tag & 0xff,
          (tag >> 8) & 0xff,
          1,
          (tag >> 16) & 0xff,
        ]),
        sequence: 0xffffffff,
        witness: [],
      },
    ],
    // Regtest subsidy: 50 coins halving every 150 blocks (chainparams.cpp, nSubsidyHalvingInterval).
    outputs: [
      {
        value: (50n * 100_000_000n) >> BigInt(Math.floor(height / 150)),
        scriptPubKey: Uint8Array.from([0x51]),
      },
    ],
    lockTime: 0,
  };
  const transactions = [coinbase, ...txs];
  const root = merkleRoot(transactions.map(txid)).root;
  const header: BlockHeader = {
    version: 4,
    prevBlock: parent.hash,
    merkleRoot: options.badMerkle ? new Uint8Array(32).fill(0xee) : root,
    time: Math.max(parent.header.time + 1, options.time ?? 0),
    bits: REGTEST.powLimitBits,
    nonce: 0,
  };
  const target = targetFromBits(header.bits);
  while (hashValue(blockHash(header)) > target) header.nonce++;
  return { header, transactions };
}
