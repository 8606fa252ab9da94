/**
 * The chain: block index, most-work chain selection, the UTXO set with undo data (utxo-set.ts),
 * reorganisations, bounded orphan blocks and persistence through a ChainStore.
 *
 * Every block is stored (append-only, durable) once its header and context-free checks pass,
 * then the best chain is activated: the stored chain with the most cumulative work (ties:
 * the one completed first) becomes the tip, disconnecting blocks back to the fork with their
 * undo data and connecting the new branch; a block that fails to connect is marked invalid
 * with its descendants and the next best chain is tried. `open` replays the store, so a
 * restart rebuilds the same state without the network.
 */

import type { Clock } from '@peerkit/transport';
import { Emitter } from '@peerkit/transport';
import {
  checkBlock,
  checkBlockHeader,
  contextualCheckBlock,
  contextualCheckBlockHeader,
  type HeaderContext,
} from '../consensus/block-checks';
import { blockProof } from '../consensus/pow';
import { LedgerError } from '../errors';
import { bytesEqual, toHex } from '../hash';
import type { BlockResult, NodeChain } from '../p2p/ports';
import { type ChainParams, REGTEST } from '../params';
import {
  type Block,
  type BlockHeader,
  blockHash,
  decodeBlock,
  encodeBlock,
} from '../primitives/block';
import { type OutPoint, type Transaction, txid } from '../primitives/transaction';
import {
  BlockIndex,
  type BlockIndexEntry,
  blockLocator,
  findFork,
  type IndexNode,
  medianTimePast,
} from './block-index';
import { type Coin, outpointFromKey, outpointKey } from './coins';
import { connectBlock, type UnsupportedScriptPolicy } from './connect';
import { OrphanBlocks, RecentMap } from './orphans';
import {
  type ChainStore,
  encodeRecord,
  MemoryChainStore,
  RECORD_HEADER_SIZE,
  scanRecords,
} from './store';
import { UtxoSet } from './utxo-set';

export interface ChainEvents {
  /** The tip changed: blocks disconnected (tip first), then connected (in order). */
  tip: { tip: BlockIndexEntry; connected: Block[]; disconnected: Block[] };
  /** A block was found invalid (with the reason, Core's reject reason first). */
  invalid: { hash: Uint8Array; reason: string };
}

export interface ChainOptions {
  params?: ChainParams;
  store?: ChainStore;
  /** Network-adjusted Unix time in seconds (the "at most 2 hours ahead" rule). */
  now: () => number;
  /** Verify input scripts (default true). */
  verifyScripts?: boolean;
  /** Inputs spending scripts outside the subset: 'accept' unverified (default) or 'reject'. */
  unsupportedScripts?: UnsupportedScriptPolicy;
  /** Orphan blocks kept while their parent is missing (default 100; oldest dropped first). */
  maxOrphanBlocks?: number;
}

/** `epochSeconds` + clock.now() in whole seconds: a `now` for ChainOptions from transport's Clock. */
export function unixTimeFrom(clock: Clock, epochSeconds: number): () => number {
  return () => Math.floor(epochSeconds + clock.now() / 1000);
}

const BLOCK_CACHE_SIZE = 32;

export class Chain extends Emitter<ChainEvents> implements NodeChain {
  readonly params: ChainParams;
  readonly #store: ChainStore;
  readonly #now: () => number;
  readonly #verifyScripts: boolean;
  readonly #unsupported: UnsupportedScriptPolicy;
  readonly #index: BlockIndex;
  readonly #active: IndexNode[] = [];
  readonly #utxo = new UtxoSet();
  readonly #orphans: OrphanBlocks;
  readonly #cache = new RecentMap<Block>(BLOCK_CACHE_SIZE);
  /** Txids of recently checked blocks, so connecting does not hash them again. */
  readonly #txidCache = new RecentMap<Uint8Array[]>(BLOCK_CACHE_SIZE);
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Inputs connected without script verification (outside the subset). */
  unverifiedInputs = 0;

  private constructor(options: ChainOptions) {
    super();
    this.params = options.params ?? REGTEST;
    this.#store = options.store ?? new MemoryChainStore();
    this.#now = options.now;
    this.#verifyScripts = options.verifyScripts ?? true;
    this.#unsupported = options.unsupportedScripts ?? 'accept';
    this.#orphans = new OrphanBlocks(options.maxOrphanBlocks ?? 100);
    const g = this.params.genesis;
    const genesis: IndexNode = {
      hash: this.params.genesisHash,
      key: toHex(this.params.genesisHash),
      height: 0,
      header: g.header,
      work: blockProof(g.header.bits),
      status: 'valid',
      medianTimePast: g.header.time,
      prev: undefined,
      dataOffset: undefined,
      dataLength: 0,
      haveChain: true,
      sequence: 0,
      children: [],
    };
    this.#index = new BlockIndex(genesis);
    this.#active.push(genesis);
    // The genesis coinbase is not added to the UTXO set (Core: it cannot be spent).
  }

  /** Opens a chain on `store`, replaying (and re-validating) every block it holds. */
  static async open(options: ChainOptions): Promise<Chain> {
    const chain = new Chain(options);
    await scanRecords(chain.#store, async (payload, offset) => {
      let block: Block;
      try {
        block = decodeBlock(payload);
      } catch {
        return; // a record that is not a block: skip it
      }
      try {
        await chain.#accept(block, { offset: offset + RECORD_HEADER_SIZE, length: payload.length });
      } catch (e) {
        if (!(e instanceof LedgerError)) throw e;
      }
    });
    return chain;
  }

  get tip(): BlockIndexEntry {
    return this.#active[this.#active.length - 1] as IndexNode;
  }
  get height(): number {
    return this.#active.length - 1;
  }
  get bestHeader(): BlockIndexEntry {
    return this.#index.bestHeader;
  }
  /** Orphan blocks held (parent unknown). */
  get orphanCount(): number {
    return this.#orphans.size;
  }

  getEntry(hash: Uint8Array): BlockIndexEntry | undefined {
    return this.#index.get(toHex(hash));
  }
  entryAt(height: number): BlockIndexEntry | undefined {
    return this.#active[height];
  }
  hasBlock(hash: Uint8Array): boolean {
    const node = this.#index.get(toHex(hash));
    return node !== undefined && (node.dataOffset !== undefined || node.height === 0);
  }
  getCoin(prevout: OutPoint): Coin | undefined {
    return this.#utxo.getCoin(outpointKey(prevout));
  }
  *coins(): IterableIterator<[OutPoint, Coin]> {
    for (const [key, coin] of this.#utxo.entries()) yield [outpointFromKey(key), coin];
  }
  /** The UTXO set's size. */
  get coinCount(): number {
    return this.#utxo.size;
  }

  locator(hash?: Uint8Array): Uint8Array[] {
    const best = this.#index.bestHeader;
    const from = hash === undefined ? best : this.#index.get(toHex(hash));
    return blockLocator(from ?? best, this.#active);
  }

  /** getheaders on the active chain: headers after the fork point of `locator`, through `stop`. */
  headersAfter(locator: Uint8Array[], stop: Uint8Array, max: number): BlockHeader[] {
    let start: IndexNode = this.#active[0] as IndexNode;
    for (const hash of locator) {
      const node = this.#index.get(toHex(hash));
      if (node === undefined) continue;
      start =
        this.#active[node.height] === node
          ? node
          : findFork(node, this.#active[this.height] as IndexNode, this.#active);
      break;
    }
    const headers: BlockHeader[] = [];
    for (let h = start.height + 1; h <= this.height && headers.length < max; h++) {
      const node = this.#active[h] as IndexNode;
      headers.push(node.header);
      if (bytesEqual(node.hash, stop)) break;
    }
    return headers;
  }

  /** Adds headers (each must connect to a known one); throws INVALID_HEADER or ORPHAN. */
  acceptHeaders(headers: BlockHeader[]): { added: BlockIndexEntry[] } {
    this.#checkOpen();
    const added: BlockIndexEntry[] = [];
    for (const header of headers) {
      const hash = blockHash(header);
      const known = this.#index.get(toHex(hash));
      if (known !== undefined) {
        if (known.status === 'invalid')
          throw new LedgerError('INVALID_HEADER', 'duplicate-invalid: header of an invalid block');
        continue;
      }
      const parent = this.#index.get(toHex(header.prevBlock));
      if (parent === undefined)
        throw new LedgerError('ORPHAN', 'prev-blk-not-found: header does not connect');
      added.push(this.#addHeader(header, hash, parent));
    }
    return { added };
  }

  /** Entries on the way to the best header whose blocks are not stored, lowest first. */
  missingBlocks(max: number): BlockIndexEntry[] {
    const missing: IndexNode[] = [];
    for (
      let n: IndexNode | undefined = this.#index.bestHeader;
      n !== undefined && !n.haveChain;
      n = n.prev
    ) {
      if (n.dataOffset === undefined) missing.push(n);
    }
    return missing.reverse().slice(0, max);
  }

  acceptBlock(block: Block): Promise<BlockResult> {
    return this.#serial(() => this.#accept(block, undefined));
  }

  async getBlock(hash: Uint8Array): Promise<Block | undefined> {
    const node = this.#index.get(toHex(hash));
    if (node === undefined) return undefined;
    return this.#readBlock(node);
  }

  /** A transaction of the active chain by txid. */
  async getTransaction(
    id: Uint8Array,
  ): Promise<{ tx: Transaction; blockHash: Uint8Array; height: number } | undefined> {
    const node = this.#utxo.blockOfTx(toHex(id));
    if (node === undefined) return undefined;
    const block = await this.#readBlock(node);
    const tx = block?.transactions.find((t) => bytesEqual(txid(t), id));
    return tx === undefined ? undefined : { tx, blockHash: node.hash, height: node.height };
  }

  /** What the next block on the tip must use: height, parent, nBits and its earliest time. */
  nextBlockTarget(): { height: number; prevBlock: Uint8Array; bits: number; minTime: number } {
    const tip = this.tip;
    return {
      height: tip.height + 1,
      prevBlock: tip.hash,
      bits: tip.header.bits,
      minTime: tip.medianTimePast + 1,
    };
  }

  /** The network-adjusted time the chain checks headers against (seconds). */
  now(): number {
    return this.#now();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.catch(() => undefined);
    await this.#store.close();
  }

  // ---- internals ----

  #checkOpen(): void {
    if (this.#closed) throw new LedgerError('CLOSED', 'chain is closed');
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    this.#checkOpen();
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #context(parent: IndexNode): HeaderContext {
    return {
      height: parent.height + 1,
      parentBits: parent.header.bits,
      parentMedianTimePast: parent.medianTimePast,
    };
  }

  #addHeader(header: BlockHeader, hash: Uint8Array, parent: IndexNode): IndexNode {
    if (parent.status === 'invalid')
      throw new LedgerError('INVALID_HEADER', 'bad-prevblk: previous block is invalid');
    checkBlockHeader(header, this.params, hash);
    contextualCheckBlockHeader(header, this.#context(parent), this.params, this.#now());
    const node: IndexNode = {
      hash,
      key: toHex(hash),
      height: parent.height + 1,
      header,
      work: parent.work + blockProof(header.bits),
      status: 'header',
      medianTimePast: medianTimePast(header.time, parent),
      prev: parent,
      dataOffset: undefined,
      dataLength: 0,
      haveChain: false,
      sequence: 0,
      children: [],
    };
    this.#index.add(node);
    return node;
  }

  async #readBlock(node: IndexNode): Promise<Block | undefined> {
    if (node.height === 0) return this.params.genesis;
    const cached = this.#cache.get(node.key);
    if (cached !== undefined) return cached;
    if (node.dataOffset === undefined) return undefined;
    const bytes = await this.#store.read(node.dataOffset, node.dataLength);
    const block = decodeBlock(bytes);
    this.#cache.set(node.key, block);
    return block;
  }

  /** Accepts one block; `stored` is set when replaying the store (the block is already on disk). */
  async #accept(
    block: Block,
    stored: { offset: number; length: number } | undefined,
  ): Promise<BlockResult> {
    const hash = blockHash(block.header);
    const key = toHex(hash);
    const existing = this.#index.get(key);
    if (existing?.status === 'invalid')
      throw new LedgerError('INVALID_BLOCK', `duplicate-invalid: ${existing.invalidReason ?? ''}`);
    if (existing !== undefined && (existing.dataOffset !== undefined || existing.height === 0)) {
      return { status: 'duplicate', connected: [], disconnected: [] };
    }
    const parent = this.#index.get(toHex(block.header.prevBlock));
    if (parent === undefined) {
      checkBlock(block, this.params); // only well-formed blocks with proof of work are kept
      this.#orphans.add(key, block);
      return { status: 'orphan', connected: [], disconnected: [] };
    }
    const node = existing ?? this.#addHeader(block.header, hash, parent);
    try {
      const { txids } = checkBlock(block, this.params);
      contextualCheckBlock(block, this.#context(parent), this.params, txids);
      this.#txidCache.set(key, txids);
    } catch (e) {
      // A mutated block (CVE-2012-2459) says nothing about the header: do not mark it.
      if (e instanceof LedgerError && !e.message.includes('(mutated)'))
        this.#markInvalid(node, e.message);
      throw e;
    }
    if (stored === undefined) {
      const payload = encodeBlock(block);
      const offset = await this.#store.size();
      await this.#store.append(encodeRecord(payload));
      node.dataOffset = offset + RECORD_HEADER_SIZE;
      node.dataLength = payload.length;
    } else {
      node.dataOffset = stored.offset;
      node.dataLength = stored.length;
    }
    if (node.status === 'header') node.status = 'stored';
    this.#cache.set(key, block);
    if (parent.haveChain) this.#index.linkChain(node);

    const result = await this.#activateBestChain();
    if (result.connected.length > 0 || result.disconnected.length > 0) {
      this.emit('tip', {
        tip: this.tip,
        connected: [...result.connected],
        disconnected: [...result.disconnected],
      });
    }
    // Orphans waiting for this block can now be accepted (each emits its own `tip` event).
    for (const child of this.#orphans.takeChildrenOf(key)) {
      try {
        const r = await this.#accept(child, undefined);
        result.connected.push(...r.connected);
        result.disconnected.push(...r.disconnected);
      } catch (e) {
        if (!(e instanceof LedgerError)) throw e;
      }
    }
    if (node.status === 'invalid')
      throw new LedgerError('INVALID_BLOCK', node.invalidReason ?? 'invalid');
    const onActive = this.#active[node.height] === node;
    return {
      status: onActive ? 'connected' : 'stored',
      connected: result.connected,
      disconnected: result.disconnected,
    };
  }

  #markInvalid(node: IndexNode, reason: string): void {
    this.#index.markInvalid(node, reason, this.#active[this.height] as IndexNode);
    this.emit('invalid', { hash: node.hash, reason });
  }

  /** Switches to the most-work stored chain (Core's ActivateBestChain). */
  async #activateBestChain(): Promise<{ connected: Block[]; disconnected: Block[] }> {
    const connected: Block[] = [];
    const disconnected: Block[] = [];
    for (;;) {
      const tip = this.#active[this.height] as IndexNode;
      const best = this.#index.bestCandidate();
      if (best === undefined || best === tip || best.work <= tip.work) break;
      const fork = findFork(tip, best, this.#active);
      while (this.height > fork.height) disconnected.push(await this.#disconnectTip());
      const path: IndexNode[] = [];
      for (let n: IndexNode | undefined = best; n !== undefined && n !== fork; n = n.prev)
        path.push(n);
      for (const node of path.reverse()) {
        const block = await this.#connectTip(node);
        if (block === undefined) break; // invalid: marked; choose again
        connected.push(block);
      }
    }
    // Candidates with less work than the tip can no longer win: drop them.
    this.#index.pruneCandidates(this.tip.work);
    return { connected, disconnected };
  }

  async #connectTip(node: IndexNode): Promise<Block | undefined> {
    const block = await this.#readBlock(node);
    if (block === undefined)
      throw new LedgerError('STORAGE', `block ${toHex(node.hash)} missing from the store`);
    const txids = this.#txidCache.get(node.key) ?? block.transactions.map(txid);
    let result: ReturnType<typeof connectBlock>;
    try {
      result = connectBlock(block, txids, this.#utxo, {
        params: this.params,
        height: node.height,
        verifyScripts: this.#verifyScripts,
        unsupportedScripts: this.#unsupported,
      });
    } catch (e) {
      if (!(e instanceof LedgerError)) throw e;
      this.#markInvalid(node, e.message);
      return undefined;
    }
    this.#utxo.connect(node, txids, result);
    this.unverifiedInputs += result.unverifiedInputs;
    node.status = 'valid';
    this.#active.push(node);
    return block;
  }

  async #disconnectTip(): Promise<Block> {
    const node = this.#active[this.height] as IndexNode;
    const block = await this.#readBlock(node);
    const undo = this.#utxo.undoOf(node);
    if (block === undefined || undo === undefined)
      throw new LedgerError('STORAGE', 'cannot disconnect: block or undo data missing');
    const txids = block.transactions.map(txid);
    this.#utxo.disconnect(node, block, txids, undo);
    this.#active.pop();
    return block;
  }
}
