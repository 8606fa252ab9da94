/**
 * What a node stores for others: peers announced for info-hashes (BEP 5 announce_peer) and
 * BEP 44 items. Both expire (peers after 30 minutes, items after 2 hours without a re-put) and
 * both have hard limits, so that a flood of announces or puts cannot exhaust memory:
 *
 * - at most `maxInfoHashes` info-hashes; a new info-hash beyond that is refused (after dropping
 *   expired entries), and the server tells the announcer so with KRPC error 202 "store full"
 *   rather than a success reply (docs/security.md, "DHT");
 * - at most `maxPeersPerInfoHash` peers per info-hash; beyond that the least recently announced
 *   peer makes room (honest peers re-announce, so they come back);
 * - at most `maxItems` items and `maxItemBytes` bytes of items; new items beyond that are refused.
 *
 * Expired entries are dropped lazily whenever the store is touched, and by `prune()`.
 */
import type { Address, Clock } from '@peerkit/transport';
import type { Item } from './bep44';
import { normalizeIp } from './ip';
import { type NodeId, toHex } from './node-id';

export interface StoreLimits {
  /** Default 2,000. */
  maxInfoHashes?: number;
  /** Default 100. */
  maxPeersPerInfoHash?: number;
  /** Default 1,000. */
  maxItems?: number;
  /** Total bytes of stored item values, keys, signatures and salts. Default 1 MiB. */
  maxItemBytes?: number;
  /** Default 30 minutes (BEP 5 practice). */
  peerTtlMs?: number;
  /** Default 2 hours (BEP 44 "Expiration"). */
  itemTtlMs?: number;
}

export const PEER_TTL_MS = 30 * 60 * 1000;
export const ITEM_TTL_MS = 2 * 60 * 60 * 1000;

interface PeerEntry {
  address: Address;
  announcedAt: number;
}

export interface StoredItem extends Item {
  storedAt: number;
}

export class Store {
  private readonly clock: Clock;
  readonly limits: Required<StoreLimits>;
  // Both maps are created on the first announce / put: most nodes at rest store nothing.
  private peerMap: Map<string, Map<string, PeerEntry>> | undefined;
  private itemMap: Map<string, StoredItem> | undefined;
  private itemBytesUsed = 0;
  private peerCount = 0;

  constructor(clock: Clock, limits: StoreLimits = {}) {
    this.clock = clock;
    this.limits = {
      maxInfoHashes: limits.maxInfoHashes ?? 2000,
      maxPeersPerInfoHash: limits.maxPeersPerInfoHash ?? 100,
      maxItems: limits.maxItems ?? 1000,
      maxItemBytes: limits.maxItemBytes ?? 1024 * 1024,
      peerTtlMs: limits.peerTtlMs ?? PEER_TTL_MS,
      itemTtlMs: limits.itemTtlMs ?? ITEM_TTL_MS,
    };
  }

  get infoHashCount(): number {
    return this.peerMap?.size ?? 0;
  }

  /** Total stored peers over all info-hashes. */
  get peersStored(): number {
    return this.peerCount;
  }

  get itemCount(): number {
    return this.itemMap?.size ?? 0;
  }

  get itemBytes(): number {
    return this.itemBytesUsed;
  }

  /** Records `peer` for `infoHash`; false when the info-hash limit refused it. */
  addPeer(infoHash: NodeId, peer: Address): boolean {
    const now = this.clock.now();
    const key = toHex(infoHash);
    this.peerMap ??= new Map();
    const peerMap = this.peerMap;
    let peers = peerMap.get(key);
    if (!peers) {
      if (peerMap.size >= this.limits.maxInfoHashes) this.prunePeers(now);
      if (peerMap.size >= this.limits.maxInfoHashes) return false;
      peers = new Map();
      peerMap.set(key, peers);
    }
    const host = normalizeIp(peer.host) ?? peer.host;
    const peerKey = `${host}|${peer.port}`;
    if (peers.delete(peerKey)) this.peerCount--;
    if (peers.size >= this.limits.maxPeersPerInfoHash) {
      // Maps iterate in insertion order: the first entry is the least recently announced.
      const oldest = peers.keys().next().value;
      if (oldest !== undefined) {
        peers.delete(oldest);
        this.peerCount--;
      }
    }
    peers.set(peerKey, { address: { host, port: peer.port }, announcedAt: now });
    this.peerCount++;
    return true;
  }

  /** Up to `max` live peers for `infoHash` (of one IP family when `family` is given). */
  getPeers(infoHash: NodeId, max = 50, family?: 4 | 6): Address[] {
    const peers = this.peerMap?.get(toHex(infoHash));
    if (!peers) return [];
    const now = this.clock.now();
    const out: Address[] = [];
    // Most recent announces first.
    for (const [key, entry] of [...peers].reverse()) {
      if (now - entry.announcedAt > this.limits.peerTtlMs) {
        peers.delete(key);
        this.peerCount--;
        continue;
      }
      const isV6 = entry.address.host.includes(':');
      if (family === 4 && isV6) continue;
      if (family === 6 && !isV6) continue;
      if (out.length < max) out.push(entry.address);
    }
    if (peers.size === 0) this.peerMap?.delete(toHex(infoHash));
    return out;
  }

  /**
   * The hex keys of the info-hashes with at least one live peer, for BEP 51 samples (hex is the
   * store's own key; `fromHex` gives the bytes). Cheap: a peer list is read only until its
   * first live peer, and the oldest comes first; `prune()` drops the expired ones.
   */
  infoHashKeys(): string[] {
    const out: string[] = [];
    for (const key of this.peerMap?.keys() ?? []) if (this.hasInfoHashKey(key)) out.push(key);
    return out;
  }

  /** Whether `key` (hex, from `infoHashKeys`) still has a live peer. */
  hasInfoHashKey(key: string): boolean {
    const peers = this.peerMap?.get(key);
    if (!peers) return false;
    const now = this.clock.now();
    for (const entry of peers.values()) {
      if (now - entry.announcedAt <= this.limits.peerTtlMs) return true;
    }
    return false;
  }

  getItem(target: NodeId): StoredItem | undefined {
    const key = toHex(target);
    const item = this.itemMap?.get(key);
    if (item && this.clock.now() - item.storedAt > this.limits.itemTtlMs) {
      this.deleteItem(key, item);
      return undefined;
    }
    return item;
  }

  /** Stores (or replaces) the item under `target`; false when a limit refused it. */
  putItem(target: NodeId, item: Item): boolean {
    const now = this.clock.now();
    const key = toHex(target);
    this.itemMap ??= new Map();
    const itemMap = this.itemMap;
    const previous = itemMap.get(key);
    const size = itemSize(item);
    const freed = previous ? itemSize(previous) : 0;
    const fits = () =>
      (previous || itemMap.size < this.limits.maxItems) &&
      this.itemBytesUsed - freed + size <= this.limits.maxItemBytes;
    if (!fits()) this.pruneItems(now);
    if (!fits()) return false;
    if (previous) this.deleteItem(key, previous);
    const stored: StoredItem = { ...item, storedAt: now };
    itemMap.set(key, stored);
    this.itemBytesUsed += size;
    return true;
  }

  /** Drops every expired peer and item. */
  prune(): void {
    const now = this.clock.now();
    this.prunePeers(now);
    this.pruneItems(now);
  }

  private prunePeers(now: number) {
    const peerMap = this.peerMap;
    if (!peerMap) return;
    for (const [key, peers] of peerMap) {
      for (const [pk, entry] of peers) {
        if (now - entry.announcedAt > this.limits.peerTtlMs) {
          peers.delete(pk);
          this.peerCount--;
        }
      }
      if (peers.size === 0) peerMap.delete(key);
    }
  }

  private pruneItems(now: number) {
    for (const [key, item] of this.itemMap ?? []) {
      if (now - item.storedAt > this.limits.itemTtlMs) this.deleteItem(key, item);
    }
  }

  private deleteItem(key: string, item: Item) {
    this.itemMap?.delete(key);
    this.itemBytesUsed -= itemSize(item);
  }
}

function itemSize(item: Item): number {
  return item.v.length + (item.k?.length ?? 0) + (item.sig?.length ?? 0) + (item.salt?.length ?? 0);
}
