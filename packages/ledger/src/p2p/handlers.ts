/**
 * What the node does with each message from a ready peer (developer reference, "P2P Network:
 * Protocol Messages"; devguide "Headers-First" and "Block Broadcasting"; BIP 35, 130, 133, 152).
 * Called one message at a time (the node serialises chain and mempool work).
 */
import { isLedgerError, LedgerError } from '../errors';
import { bytesEqual, toHex } from '../hash';
import type { LedgerNode } from '../node';
import { type Block, blockHash } from '../primitives/block';
import { type Transaction, txid } from '../primitives/transaction';
import type { WantedBlock } from './block-download';
import { finishReconstruction, type PartialBlock, startReconstruction } from './compact-block';
import {
  MAX_ADDR_TO_SEND,
  MAX_HEADERS_RESULTS,
  MAX_INV_SZ,
  MSG_BLOCK,
  MSG_CMPCT_BLOCK,
  MSG_TX,
  MSG_WITNESS_BLOCK,
  MSG_WITNESS_FLAG,
  MSG_WITNESS_TX,
  MSG_WTX,
} from './constants';
import type { InvVector, Message, MessageOf } from './messages/types';
import type { Peer } from './peer';
import type { ChainEntry } from './ports';
import { onAddr, serveGetBlockTxn, serveGetData, serveGetHeaders, serveMempool } from './serve';

/** Unconnecting headers messages tolerated before scoring (Core: MAX_NUM_UNCONNECTING_HEADERS_MSGS). */
const MAX_UNCONNECTING_HEADERS = 10;
/** Core answers getblocks with at most 500 hashes. */
const MAX_GETBLOCKS_RESULTS = 500;
/** Recently rejected transactions are not requested again (bounded). */
const REJECTS_LIMIT = 10_000;

interface PeerState {
  unconnecting: number;
  answeredGetaddr: boolean;
  /** Compact blocks being rebuilt from this peer, by block hash key. */
  partial: Map<string, PartialBlock>;
}

export class Handlers {
  readonly #node: LedgerNode;
  readonly #peers = new Map<number, PeerState>();
  readonly #rejects = new Set<string>();
  /** Transactions requested (txid key → peer id) so as not to ask twice at once. */
  readonly #txRequested = new Map<string, number>();

  constructor(node: LedgerNode) {
    this.#node = node;
  }

  #state(peer: Peer): PeerState {
    let s = this.#peers.get(peer.id);
    if (!s) {
      s = { unconnecting: 0, answeredGetaddr: false, partial: new Map() };
      this.#peers.set(peer.id, s);
    }
    return s;
  }

  peerGone(id: number): void {
    this.#peers.delete(id);
    for (const [k, p] of this.#txRequested) if (p === id) this.#txRequested.delete(k);
  }

  /** After the handshake: ask for headers (headers-first IBD) and, from outbound peers, addresses. */
  onReady(peer: Peer): void {
    const chain = this.#node.chain;
    peer.send({
      command: 'getheaders',
      version: 70016,
      locator: chain.locator(),
      stop: new Uint8Array(32),
    });
    if (peer.outbound) peer.send({ command: 'getaddr' });
    this.#node.download.peerHeight(
      peer.id,
      Math.min(peer.info?.startHeight ?? -1, chain.bestHeader.height),
    );
  }

  async handle(peer: Peer, m: Message): Promise<void> {
    if (peer.state === 'closed') return;
    switch (m.command) {
      case 'headers':
        return this.#onHeaders(peer, m.headers);
      case 'block':
        await this.processBlock(m.block, peer);
        return;
      case 'tx':
        return this.processTransaction(m.tx, peer, false);
      case 'inv':
        return this.#onInv(peer, m.inventory);
      case 'getdata':
        return serveGetData(this.#node, peer, m.inventory);
      case 'notfound':
        for (const v of m.inventory) {
          if ((v.type & ~MSG_WITNESS_FLAG) === MSG_BLOCK)
            this.#node.download.notFound(peer.id, toHex(v.hash));
          if ((v.type & ~MSG_WITNESS_FLAG) === MSG_TX) this.#txRequested.delete(toHex(v.hash));
        }
        this.#node.scheduleDownloads();
        return;
      case 'getheaders':
        return serveGetHeaders(this.#node, peer, m);
      case 'getblocks': {
        const headers = this.#node.chain.headersAfter(m.locator, m.stop, MAX_GETBLOCKS_RESULTS);
        if (headers.length > 0) {
          peer.send({
            command: 'inv',
            inventory: headers.map((h) => ({ type: MSG_BLOCK, hash: blockHash(h) })),
          });
        }
        return;
      }
      case 'addr':
        return onAddr(this.#node, peer, m);
      case 'getaddr': {
        // Core answers getaddr once per connection, and only to inbound peers.
        const s = this.#state(peer);
        if (peer.outbound || s.answeredGetaddr) return;
        s.answeredGetaddr = true;
        const addresses = this.#node.addresses.sample(MAX_ADDR_TO_SEND, (n) =>
          this.#node.network.random.int(n),
        );
        if (addresses.length > 0) peer.send({ command: 'addr', addresses });
        return;
      }
      case 'mempool':
        return serveMempool(this.#node, peer);
      case 'cmpctblock':
        return this.#onCompactBlock(peer, m);
      case 'getblocktxn':
        return serveGetBlockTxn(this.#node, peer, m);
      case 'blocktxn': {
        const s = this.#state(peer);
        const key = toHex(m.response.blockHash);
        const partial = s.partial.get(key);
        if (!partial) return;
        s.partial.delete(key);
        const block = finishReconstruction(partial, m.response.transactions);
        if (!block) {
          // BIP 152: a collision or a wrong blocktxn; fall back to the full block.
          peer.send({
            command: 'getdata',
            inventory: [{ type: this.#blockType(peer), hash: m.response.blockHash }],
          });
          return;
        }
        await this.processBlock(block, peer);
        return;
      }
      default:
        return;
    }
  }

  /** Sends getdata for `blocks` to `peer`. */
  requestBlocks(peer: Peer, blocks: WantedBlock[]): void {
    const type = this.#blockType(peer);
    for (let i = 0; i < blocks.length; i += MAX_INV_SZ) {
      peer.send({
        command: 'getdata',
        inventory: blocks.slice(i, i + MAX_INV_SZ).map((b) => ({ type, hash: b.hash })),
      });
    }
  }

  /** Validates and connects a block; relays the new tip; bans the sender of an invalid block. */
  async processBlock(
    block: Block,
    from: Peer | undefined,
  ): Promise<'connected' | 'stored' | 'orphan' | 'duplicate'> {
    const node = this.#node;
    const hash = blockHash(block.header);
    const key = toHex(hash);
    if (from) node.relay.markKnown(from.id, key);
    node.download.received(key);
    let result: Awaited<ReturnType<typeof node.chain.acceptBlock>>;
    const before = node.chain.tip;
    try {
      result = await node.chain.acceptBlock(block);
    } catch (error) {
      // A branch can fail half-way through a reorg: the tip moved although the call threw.
      // Follow the move from the chain itself, so the mempool and the peers stay exact.
      if (!bytesEqual(node.chain.tip.hash, before.hash)) await this.#followTip(before);
      if (
        from &&
        isLedgerError(error) &&
        (error.code === 'INVALID_BLOCK' || error.code === 'INVALID_HEADER')
      ) {
        // An invalid block is a ban (Core: Misbehaving for BLOCK_CONSENSUS / BLOCK_MUTATED...).
        from.misbehave(100, `invalid block ${key.slice(0, 16)}: ${error.message}`);
      }
      node.report('warning', { message: `block ${key.slice(0, 16)} rejected`, error });
      if (!from) throw error;
      return 'duplicate';
    }
    if (result.status === 'orphan' && from) {
      // We lack its ancestors: ask for the headers leading to it.
      from.send({
        command: 'getheaders',
        version: 70016,
        locator: node.chain.locator(),
        stop: hash,
      });
    }
    await this.#tipChanged(result.connected, result.disconnected);
    node.scheduleDownloads();
    return result.status;
  }

  /** Rebuilds the blocks between `before` and the current tip (for a reorg that threw). */
  async #followTip(before: ChainEntry): Promise<void> {
    const chain = this.#node.chain;
    const disconnected: Block[] = [];
    const connected: Block[] = [];
    let a: ChainEntry | undefined = before;
    let b: ChainEntry | undefined = chain.tip;
    while (a && b && !bytesEqual(a.hash, b.hash)) {
      if (a.height >= b.height) {
        const blk = await chain.getBlock(a.hash);
        if (blk) disconnected.push(blk);
        a = chain.getEntry(a.header.prevBlock);
      } else {
        const blk = await chain.getBlock(b.hash);
        if (blk) connected.unshift(blk);
        b = chain.getEntry(b.header.prevBlock);
      }
    }
    await this.#tipChanged(connected, disconnected);
  }

  async #tipChanged(connected: Block[], disconnected: Block[]): Promise<void> {
    const node = this.#node;
    const result = { connected, disconnected };
    if (result.connected.length > 0 || result.disconnected.length > 0) {
      for (const b of result.disconnected) await node.mempool.blockDisconnected(b);
      for (const b of result.connected) node.mempool.blockConnected(b);
      // Transactions of disconnected blocks that are back in the mempool are announced again,
      // so that peers that never saw them (the other side of a partition) can mine them.
      for (const b of result.disconnected) {
        for (const tx of b.transactions.slice(1)) {
          const id = txid(tx);
          if (node.mempool.has(id)) node.relay.announceTx(id, node.mempool.feeRate(id), true);
        }
      }
      const tip = node.chain.tip;
      node.report('tip', {
        hash: tip.hash,
        height: tip.height,
        connected: result.connected,
        disconnected: result.disconnected,
      });
      node.report('sync', { height: tip.height, headerHeight: node.chain.bestHeader.height });
      // Announce only once caught up (Core does not relay blocks during initial block download).
      if (node.chain.bestHeader.height <= tip.height) node.relay.announceBlocks(result.connected);
    }
  }

  /** Offers a transaction to the mempool; relays it when accepted. */
  async processTransaction(tx: Transaction, from: Peer | undefined, local: boolean): Promise<void> {
    const node = this.#node;
    const id = txid(tx);
    const key = toHex(id);
    this.#txRequested.delete(key);
    if (from) node.relay.markKnown(from.id, key);
    if (node.mempool.has(id)) return;
    try {
      const result = await node.mempool.accept(tx);
      if (result.status === 'orphan') {
        if (from) {
          const missing = (result.missingParents ?? []).filter((p) => !this.#rejects.has(toHex(p)));
          const type = from.witness ? MSG_WITNESS_TX : MSG_TX;
          if (missing.length > 0)
            from.send({ command: 'getdata', inventory: missing.map((hash) => ({ type, hash })) });
        }
        return;
      }
      node.report('tx', { txid: id, from: from?.id });
      node.relay.announceTx(id, node.mempool.feeRate(id));
    } catch (error) {
      if (local) throw error;
      if (this.#rejects.size >= REJECTS_LIMIT) this.#rejects.clear();
      this.#rejects.add(key);
      // Only a consensus failure is misbehaviour; policy (fee, conflicts) and duplicates are not.
      if (
        from &&
        isLedgerError(error) &&
        (error.code === 'INVALID_TX' || error.code === 'SCRIPT')
      ) {
        from.misbehave(100, `invalid transaction ${key.slice(0, 16)}: ${error.message}`);
      }
    }
  }

  async #onHeaders(peer: Peer, headers: MessageOf<'headers'>['headers']): Promise<void> {
    const node = this.#node;
    const chain = node.chain;
    if (headers.length === 0) return;
    const s = this.#state(peer);
    try {
      chain.acceptHeaders(headers);
    } catch (error) {
      if (isLedgerError(error, 'ORPHAN')) {
        // devguide "Headers-First": headers that don't connect are answered with getheaders
        // from our locator; Core scores a peer that keeps sending them.
        s.unconnecting++;
        if (s.unconnecting % MAX_UNCONNECTING_HEADERS === 0)
          peer.misbehave(20, 'too many unconnecting headers');
        peer.send({
          command: 'getheaders',
          version: 70016,
          locator: chain.locator(),
          stop: new Uint8Array(32),
        });
        return;
      }
      if (isLedgerError(error)) {
        peer.misbehave(100, `invalid headers: ${error.message}`);
        return;
      }
      throw error;
    }
    s.unconnecting = 0;
    const last = headers.at(-1);
    const lastEntry = last ? chain.getEntry(blockHash(last)) : undefined;
    if (lastEntry) node.download.peerHeight(peer.id, lastEntry.height);
    for (const h of headers) node.relay.markKnown(peer.id, toHex(blockHash(h)));
    if (headers.length === MAX_HEADERS_RESULTS && lastEntry) {
      // A full batch: the peer has more (developer reference, "headers": up to 2,000 per message).
      peer.send({
        command: 'getheaders',
        version: 70016,
        locator: chain.locator(lastEntry.hash),
        stop: new Uint8Array(32),
      });
    }
    node.refillWanted(true);
    this.#fetchCompact(peer, headers.length);
    node.report('sync', { height: chain.tip.height, headerHeight: chain.bestHeader.height });
    node.scheduleDownloads();
  }

  /**
   * BIP 152 low-bandwidth mode ("Intended Protocol Flow"): a block announced by headers that
   * extends our tip is fetched as a compact block (getdata MSG_CMPCT_BLOCK) and rebuilt from
   * the mempool, when the peer negotiated compact blocks and we are caught up.
   */
  #fetchCompact(peer: Peer, announced: number): void {
    const node = this.#node;
    const chain = node.chain;
    if ((peer.info?.compactVersion ?? 0n) === 0n || announced > 1) return;
    if (chain.bestHeader.height !== chain.tip.height + 1) return;
    const next = chain.bestHeader;
    if (!bytesEqual(next.header.prevBlock, chain.tip.hash)) return;
    const key = toHex(next.hash);
    node.download.want([{ hash: next.hash, key, height: next.height }]);
    node.download.markRequested(key, peer.id, node.network.clock.now());
    peer.send({ command: 'getdata', inventory: [{ type: MSG_CMPCT_BLOCK, hash: next.hash }] });
  }

  #onInv(peer: Peer, inventory: InvVector[]): void {
    const node = this.#node;
    const txWanted: InvVector[] = [];
    let unknownBlock: Uint8Array | undefined;
    for (const v of inventory) {
      const type = v.type & ~MSG_WITNESS_FLAG;
      const key = toHex(v.hash);
      node.relay.markKnown(peer.id, key);
      if (type === MSG_BLOCK) {
        if (!node.chain.getEntry(v.hash)) unknownBlock = v.hash;
      } else if (type === MSG_TX || type === MSG_WTX) {
        if (node.mempool.has(v.hash) || this.#rejects.has(key) || this.#txRequested.has(key))
          continue;
        this.#txRequested.set(key, peer.id);
        txWanted.push({ type: peer.witness ? MSG_WITNESS_TX : MSG_TX, hash: v.hash });
      }
    }
    // devguide "Block Broadcasting": an inv of an unknown block is answered with getheaders.
    if (unknownBlock) {
      peer.send({
        command: 'getheaders',
        version: 70016,
        locator: node.chain.locator(),
        stop: unknownBlock,
      });
    }
    if (txWanted.length > 0) peer.send({ command: 'getdata', inventory: txWanted });
  }

  async #onCompactBlock(peer: Peer, m: MessageOf<'cmpctblock'>): Promise<void> {
    const node = this.#node;
    const chain = node.chain;
    const header = m.compact.header;
    const hash = blockHash(header);
    const key = toHex(hash);
    node.relay.markKnown(peer.id, key);
    if (chain.hasBlock(hash)) return;
    try {
      chain.acceptHeaders([header]);
    } catch (error) {
      if (isLedgerError(error, 'ORPHAN')) {
        peer.send({ command: 'getheaders', version: 70016, locator: chain.locator(), stop: hash });
        return;
      }
      if (isLedgerError(error))
        peer.misbehave(100, `invalid compact block header: ${error.message}`);
      return;
    }
    const version = peer.info?.compactVersion || 1n;
    let partial: PartialBlock;
    try {
      partial = startReconstruction(m.compact, node.mempool.transactions(), version);
    } catch (error) {
      if (error instanceof LedgerError) {
        // Duplicate short ids are not necessarily malicious (BIP 152): fetch the full block.
        peer.send({ command: 'getdata', inventory: [{ type: this.#blockType(peer), hash }] });
        return;
      }
      throw error;
    }
    node.report('compact', {
      hash,
      transactions: partial.slots.length,
      prefilled: m.compact.prefilled.length,
      fromMempool: partial.slots.length - m.compact.prefilled.length - partial.missing.length,
      missing: partial.missing.length,
    });
    if (partial.missing.length === 0) {
      const block = finishReconstruction(partial, []);
      if (block) await this.processBlock(block, peer);
      else peer.send({ command: 'getdata', inventory: [{ type: this.#blockType(peer), hash }] });
      return;
    }
    this.#state(peer).partial.set(key, partial);
    peer.send({ command: 'getblocktxn', request: { blockHash: hash, indexes: partial.missing } });
  }

  #blockType(peer: Peer): number {
    return peer.witness ? MSG_WITNESS_BLOCK : MSG_BLOCK;
  }
}
