/**
 * The mempool (developer reference devguide/p2p_network.rst "Memory Pool"): unconfirmed
 * transactions that are valid on the current tip, waiting for a block.
 *
 * accept: context-free checks, then policy (final, no conflict with a mempool transaction,
 * i.e. no replacement, scripts inside the verified subset with the standard flags, fee rate ≥
 * the minimum relay fee rate), then inputs against the chain's UTXO set plus mempool outputs.
 * A transaction whose inputs are unknown is an orphan, kept aside (bounded, oldest dropped)
 * until its parent arrives. Above `maxBytes` of virtual size, the transactions with the lowest
 * fee rate are evicted with their descendants. Blocks remove their transactions and the
 * transactions that conflict with them; a disconnected block's transactions are re-accepted.
 */
import { Emitter } from '@peerkit/transport';
import type { Chain } from '../chain/chain';
import { type Coin, type CoinView, outpointKey } from '../chain/coins';
import { checkTxInputs } from '../chain/connect';
import { checkTransaction, isFinalTx } from '../consensus/tx-checks';
import { LedgerError } from '../errors';
import { toHex } from '../hash';
import type { MempoolResult, NodeMempool } from '../p2p/ports';
import type { Block } from '../primitives/block';
import {
  isCoinbase,
  type Transaction,
  txid,
  txVsize,
  txWeight,
  wtxid,
} from '../primitives/transaction';
import { STANDARD_FLAGS } from '../script/interpreter';

export interface MempoolEntry {
  tx: Transaction;
  txid: Uint8Array;
  wtxid: Uint8Array;
  fee: bigint;
  vsize: number;
  /** Satoshis per 1,000 virtual bytes. */
  feeRate: bigint;
  /** When it was accepted (the `now` option's clock, seconds). */
  time: number;
}

export type RemovalReason = 'block' | 'conflict' | 'evicted' | 'reorg';

export interface MempoolEvents {
  added: { entry: MempoolEntry };
  removed: { txid: Uint8Array; reason: RemovalReason };
}

export interface MempoolOptions {
  chain: Chain;
  /** Cap on the sum of virtual sizes (default 32 MiB). */
  maxBytes?: number;
  /** Orphan transactions kept (default 100). */
  maxOrphans?: number;
  /** Minimum fee rate in sat per 1,000 vbytes (default 1,000, Core's minrelaytxfee). */
  minRelayFeeRate?: bigint;
  /** Unix time in seconds for entry times (default: the chain's network time). */
  now?: () => number;
}

/** MAX_STANDARD_TX_WEIGHT (Core policy.h). */
export const MAX_STANDARD_TX_WEIGHT = 400_000;

export class Mempool extends Emitter<MempoolEvents> implements NodeMempool {
  readonly #chain: Chain;
  readonly #maxBytes: number;
  readonly #maxOrphans: number;
  readonly #minFeeRate: bigint;
  readonly #now: () => number;
  readonly #entries = new Map<string, MempoolEntry>();
  readonly #spentBy = new Map<string, string>(); // outpoint key → spending txid hex
  readonly #orphans = new Map<string, Transaction>(); // txid hex → tx (insertion order = age)
  #bytes = 0;

  constructor(options: MempoolOptions) {
    super();
    this.#chain = options.chain;
    this.#maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
    this.#maxOrphans = options.maxOrphans ?? 100;
    this.#minFeeRate = options.minRelayFeeRate ?? 1000n;
    this.#now = options.now ?? (() => options.chain.now());
  }

  get size(): number {
    return this.#entries.size;
  }
  /** Sum of the virtual sizes of the mempool's transactions. */
  get bytes(): number {
    return this.#bytes;
  }
  get orphanCount(): number {
    return this.#orphans.size;
  }
  has(id: Uint8Array): boolean {
    return this.#entries.has(toHex(id));
  }
  get(id: Uint8Array): Transaction | undefined {
    return this.#entries.get(toHex(id))?.tx;
  }
  entry(id: Uint8Array): MempoolEntry | undefined {
    return this.#entries.get(toHex(id));
  }
  *transactions(): IterableIterator<Transaction> {
    for (const e of this.#entries.values()) yield e.tx;
  }
  entries(): IterableIterator<MempoolEntry> {
    return this.#entries.values();
  }
  feeRate(id: Uint8Array): bigint {
    return this.#entries.get(toHex(id))?.feeRate ?? 0n;
  }

  /** Accepts a transaction; throws INVALID_TX (rules), MEMPOOL (policy) or DUPLICATE. */
  async accept(tx: Transaction): Promise<MempoolResult> {
    const result = this.#accept(tx);
    if (result.status === 'accepted') this.#acceptOrphansOf(toHex(txid(tx)));
    return result;
  }

  #accept(tx: Transaction): MempoolResult {
    const id = txid(tx);
    const key = toHex(id);
    if (this.#entries.has(key) || this.#orphans.has(key))
      throw new LedgerError('DUPLICATE', 'txn-already-in-mempool');
    checkTransaction(tx, this.#chain.params);
    if (isCoinbase(tx))
      throw new LedgerError('INVALID_TX', 'coinbase: a coinbase is only valid in a block');
    for (let index = 0; index < tx.outputs.length; index++) {
      if (this.#chain.getCoin({ txid: id, index }) !== undefined)
        throw new LedgerError('DUPLICATE', 'txn-already-known: in the chain');
    }
    if (txWeight(tx) > MAX_STANDARD_TX_WEIGHT)
      throw new LedgerError('MEMPOOL', 'tx-size: too large');
    const next = this.#chain.nextBlockTarget();
    if (!isFinalTx(tx, next.height, this.#chain.tip.medianTimePast))
      throw new LedgerError('MEMPOOL', 'non-final');
    for (const input of tx.inputs) {
      if (this.#spentBy.has(outpointKey(input.prevout)))
        throw new LedgerError(
          'MEMPOOL',
          'txn-mempool-conflict: an input is spent by a mempool transaction',
        );
    }
    const view: CoinView = {
      getCoin: (k) => this.#chain.getCoin(keyToOutpoint(k)) ?? this.#mempoolCoin(k, next.height),
    };
    const missing = tx.inputs.filter(
      (input) => view.getCoin(outpointKey(input.prevout)) === undefined,
    );
    if (missing.length > 0) {
      this.#addOrphan(key, tx);
      return { status: 'orphan', missingParents: missing.map((input) => input.prevout.txid) };
    }
    const { fee } = checkTxInputs(tx, view, {
      params: this.#chain.params,
      spendHeight: next.height,
      verifyScripts: true,
      unsupportedScripts: 'reject',
      flags: STANDARD_FLAGS,
      code: 'INVALID_TX',
    });
    const vsize = txVsize(tx);
    const feeRate = (fee * 1000n) / BigInt(vsize);
    if (feeRate < this.#minFeeRate)
      throw new LedgerError(
        'MEMPOOL',
        `min relay fee not met: ${feeRate} < ${this.#minFeeRate} sat/kvB`,
      );
    const entry: MempoolEntry = {
      tx,
      txid: id,
      wtxid: wtxid(tx),
      fee,
      vsize,
      feeRate,
      time: this.#now(),
    };
    this.#entries.set(key, entry);
    for (const input of tx.inputs) this.#spentBy.set(outpointKey(input.prevout), key);
    this.#bytes += vsize;
    this.#trim();
    if (!this.#entries.has(key))
      throw new LedgerError('MEMPOOL', 'mempool full: fee rate too low to enter');
    this.emit('added', { entry });
    return { status: 'accepted' };
  }

  /** An output of a mempool transaction, seen as a coin at the next block's height. */
  #mempoolCoin(key: string, height: number): Coin | undefined {
    const [hex, index] = key.split(':') as [string, string];
    const e = this.#entries.get(hex);
    const output = e?.tx.outputs[Number(index)];
    return output === undefined ? undefined : { output, height, coinbase: false };
  }

  #addOrphan(key: string, tx: Transaction): void {
    this.#orphans.set(key, tx);
    while (this.#orphans.size > this.#maxOrphans) {
      this.#orphans.delete(this.#orphans.keys().next().value as string);
    }
  }

  #acceptOrphansOf(parentKey: string): void {
    const queue = [parentKey];
    for (let parent = queue.shift(); parent !== undefined; parent = queue.shift()) {
      for (const [k, tx] of this.#orphans) {
        if (!tx.inputs.some((input) => toHex(input.prevout.txid) === parent)) continue;
        this.#orphans.delete(k);
        try {
          if (this.#accept(tx).status === 'accepted') queue.push(k);
        } catch (e) {
          if (!(e instanceof LedgerError)) throw e;
        }
      }
    }
  }

  /** Removes a transaction and everything spending its outputs. */
  #remove(key: string, reason: RemovalReason): void {
    const queue = [key];
    for (let k = queue.shift(); k !== undefined; k = queue.shift()) {
      const e = this.#entries.get(k);
      if (e === undefined) continue;
      this.#entries.delete(k);
      this.#bytes -= e.vsize;
      for (const input of e.tx.inputs) this.#spentBy.delete(outpointKey(input.prevout));
      for (let index = 0; index < e.tx.outputs.length; index++) {
        const child = this.#spentBy.get(`${k}:${index}`);
        if (child !== undefined) queue.push(child);
      }
      this.emit('removed', {
        txid: e.txid,
        reason: k === key ? reason : reason === 'block' ? 'conflict' : reason,
      });
    }
  }

  /** Evicts the lowest fee-rate transactions (with descendants) until under the byte cap. */
  #trim(): void {
    while (this.#bytes > this.#maxBytes) {
      let worst: MempoolEntry | undefined;
      for (const e of this.#entries.values())
        if (worst === undefined || e.feeRate < worst.feeRate) worst = e;
      if (worst === undefined) return;
      this.#remove(toHex(worst.txid), 'evicted');
    }
  }

  blockConnected(block: Block): void {
    for (const tx of block.transactions) {
      const key = toHex(txid(tx));
      if (this.#entries.has(key)) {
        // In the block now: remove it, but keep its children (they now spend a confirmed output).
        const e = this.#entries.get(key) as MempoolEntry;
        this.#entries.delete(key);
        this.#bytes -= e.vsize;
        for (const input of tx.inputs) this.#spentBy.delete(outpointKey(input.prevout));
        this.emit('removed', { txid: e.txid, reason: 'block' });
      }
      this.#orphans.delete(key);
      if (isCoinbase(tx)) continue;
      for (const input of tx.inputs) {
        const spender = this.#spentBy.get(outpointKey(input.prevout));
        if (spender !== undefined) this.#remove(spender, 'conflict');
      }
    }
  }

  async blockDisconnected(block: Block): Promise<void> {
    for (const tx of block.transactions) {
      if (isCoinbase(tx)) continue;
      try {
        await this.accept(tx);
      } catch (e) {
        if (!(e instanceof LedgerError)) throw e;
      }
    }
    this.#removeForReorg();
  }

  /**
   * After a reorganisation (Core's removeForReorg): drop transactions whose inputs no longer
   * exist on the new tip (e.g. the coinbase of a disconnected block) or spend a coinbase that
   * is no longer mature, with their descendants.
   */
  #removeForReorg(): void {
    const spendHeight = this.#chain.nextBlockTarget().height;
    for (const [key, e] of [...this.#entries]) {
      if (!this.#entries.has(key)) continue;
      const broken = e.tx.inputs.some((input) => {
        const coin = this.#chain.getCoin(input.prevout);
        if (coin === undefined) return !this.#entries.has(toHex(input.prevout.txid));
        return coin.coinbase && spendHeight - coin.height < this.#chain.params.coinbaseMaturity;
      });
      if (broken) this.#remove(key, 'reorg');
    }
  }

  /**
   * Transactions for a block template: highest fee rate first, a transaction only after all
   * its mempool parents, until `maxWeight`.
   */
  selectForBlock(maxWeight: number): MempoolEntry[] {
    const sorted = [...this.#entries.values()].sort((a, b) =>
      a.feeRate > b.feeRate ? -1 : a.feeRate < b.feeRate ? 1 : 0,
    );
    const chosen: MempoolEntry[] = [];
    const included = new Set<string>();
    let weight = 0;
    for (let progress = true; progress; ) {
      progress = false;
      for (const e of sorted) {
        const key = toHex(e.txid);
        if (included.has(key)) continue;
        const ready = e.tx.inputs.every((input) => {
          const parent = toHex(input.prevout.txid);
          return !this.#entries.has(parent) || included.has(parent);
        });
        const w = e.vsize * 4;
        if (!ready || weight + w > maxWeight) continue;
        chosen.push(e);
        included.add(key);
        weight += w;
        progress = true;
      }
    }
    return chosen;
  }
}

function keyToOutpoint(key: string): { txid: Uint8Array; index: number } {
  const [hex, index] = key.split(':') as [string, string];
  return { txid: new Uint8Array(Buffer.from(hex, 'hex')), index: Number(index) };
}
