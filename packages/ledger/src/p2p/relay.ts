/**
 * Announcing transactions and blocks to peers.
 *
 * - Transactions go out by `inv` (developer reference, "inv"), batched every relay interval, to
 *   peers that did not opt out with the version's relay flag (BIP 37), whose `feefilter` the
 *   transaction's fee rate meets (BIP 133), and that are not known to have it already.
 * - Blocks go to each peer the way it asked for: a `cmpctblock` to peers that asked for
 *   high-bandwidth compact blocks (BIP 152 `sendcmpct` with announce = 1), `headers` to peers
 *   that sent `sendheaders` (BIP 130, at most 8 headers as Core does, else an inv of the tip),
 *   `inv` otherwise.
 */
import { toHex } from '../hash';
import type { LedgerNode } from '../node';
import { type Block, blockHash } from '../primitives/block';
import { buildCompactBlock } from './compact-block';
import { MAX_INV_SZ, MSG_BLOCK, MSG_TX } from './constants';
import type { InvVector } from './messages/types';

/** Inventory remembered per peer (Core's filterInventoryKnown holds 50,000). */
const KNOWN_LIMIT = 20_000;
/** BIP 130 / Core: announce up to this many headers at once, an inv beyond. */
const MAX_BLOCKS_TO_ANNOUNCE = 8;

export class Relay {
  readonly #node: LedgerNode;
  readonly #known = new Map<number, Set<string>>();
  readonly #pending = new Map<number, InvVector[]>();

  constructor(node: LedgerNode) {
    this.#node = node;
  }

  /** Notes that `peer` has the object `key` (hex of its hash). */
  markKnown(peer: number, key: string): void {
    let set = this.#known.get(peer);
    if (!set) {
      set = new Set();
      this.#known.set(peer, set);
    }
    if (set.size >= KNOWN_LIMIT) set.clear();
    set.add(key);
  }

  knows(peer: number, key: string): boolean {
    return this.#known.get(peer)?.has(key) ?? false;
  }

  peerGone(peer: number): void {
    this.#known.delete(peer);
    this.#pending.delete(peer);
  }

  /**
   * Queues an inv of a new mempool transaction to every peer that wants it (`again`: also to
   * peers that announced or received it before, after a reorg returned it to the mempool).
   */
  announceTx(id: Uint8Array, feeRate: bigint, again = false): void {
    const key = toHex(id);
    for (const peer of this.#node.readyPeers()) {
      const info = peer.info;
      if (!info?.relay || feeRate < info.feeFilter || (!again && this.knows(peer.id, key)))
        continue;
      this.markKnown(peer.id, key);
      let list = this.#pending.get(peer.id);
      if (!list) {
        list = [];
        this.#pending.set(peer.id, list);
      }
      list.push({ type: MSG_TX, hash: id });
    }
  }

  /** Sends the queued transaction announcements. */
  flush(): void {
    if (this.#pending.size === 0) return;
    const peers = new Map(this.#node.readyPeers().map((p) => [p.id, p]));
    for (const [id, list] of this.#pending) {
      const peer = peers.get(id);
      if (!peer) continue;
      for (let i = 0; i < list.length; i += MAX_INV_SZ) {
        peer.send({ command: 'inv', inventory: list.slice(i, i + MAX_INV_SZ) });
      }
    }
    this.#pending.clear();
  }

  /** Announces newly connected blocks (the new tip last) to every peer that lacks them. */
  announceBlocks(connected: Block[]): void {
    const tip = connected.at(-1);
    if (!tip) return;
    const tipHash = blockHash(tip.header);
    const tipKey = toHex(tipHash);
    for (const peer of this.#node.readyPeers()) {
      const info = peer.info;
      if (!info || this.knows(peer.id, tipKey)) continue;
      const fresh = connected.filter((b) => !this.knows(peer.id, toHex(blockHash(b.header))));
      for (const b of fresh) this.markKnown(peer.id, toHex(blockHash(b.header)));
      if (info.compactAnnounce && info.compactVersion > 0n && fresh.length === 1) {
        const nonce = new DataView(this.#node.network.random.bytes(8).buffer).getBigUint64(0, true);
        const compact = buildCompactBlock(tip, nonce, info.compactVersion);
        peer.send({ command: 'cmpctblock', compact, witness: info.compactVersion === 2n });
      } else if (info.sendHeaders && fresh.length <= MAX_BLOCKS_TO_ANNOUNCE) {
        peer.send({ command: 'headers', headers: fresh.map((b) => b.header) });
      } else {
        peer.send({ command: 'inv', inventory: [{ type: MSG_BLOCK, hash: tipHash }] });
      }
    }
  }
}
