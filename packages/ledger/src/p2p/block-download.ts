/**
 * Headers-first block download (developer reference, devguide "Headers-First" initial block
 * download): the chain of headers is learned first; blocks are then fetched from several peers
 * in parallel, within a moving window, and a peer that holds the window back is dropped.
 *
 * Pure policy, no I/O: the node tells it which blocks are wanted, which peers could serve which
 * heights, and what arrived; it answers which blocks to request from whom and which peers stall.
 * Core's numbers (net_processing.cpp): MAX_BLOCKS_IN_TRANSIT_PER_PEER = 16,
 * BLOCK_DOWNLOAD_WINDOW = 1024, BLOCK_STALLING_TIMEOUT = 2 s (doubling up to 64 s while it
 * keeps firing), a block-download timeout per request.
 */

export interface WantedBlock {
  hash: Uint8Array;
  /** Hex of the hash (internal order), the map key. */
  key: string;
  height: number;
}

interface InFlight {
  peer: number;
  since: number;
}

export interface BlockDownloadOptions {
  /** Blocks one peer may have in flight (default 16). */
  perPeer?: number;
  /** Blocks requested at most this far above the connected tip (default 1024). */
  window?: number;
  /**
   * How long the block right above the tip may be awaited while the window is full before its
   * peer counts as stalling (default 2,000 ms).
   */
  stallTimeoutMs?: number;
  /** Any single request older than this marks its peer as stalling (default 60,000 ms). */
  requestTimeoutMs?: number;
}

export class BlockDownload {
  readonly perPeer: number;
  readonly window: number;
  readonly stallTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly #wanted = new Map<string, WantedBlock>();
  readonly #inFlight = new Map<string, InFlight>();
  readonly #peerLoad = new Map<number, number>();
  /** The highest height each peer is known to have (from its headers and its version). */
  readonly #peerHeight = new Map<number, number>();
  /** Blocks a peer said it does not have (notfound): don't ask it again. */
  readonly #refused = new Map<number, Set<string>>();
  #sorted: WantedBlock[] | undefined;

  constructor(options: BlockDownloadOptions = {}) {
    this.perPeer = options.perPeer ?? 16;
    this.window = options.window ?? 1024;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 2000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  }

  /** Blocks wanted and not yet received. */
  get pending(): number {
    return this.#wanted.size;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Adds blocks to fetch (from a headers batch that extended the best header chain). */
  want(blocks: Iterable<WantedBlock>): void {
    for (const b of blocks) {
      if (this.#wanted.has(b.key)) continue;
      this.#wanted.set(b.key, b);
      this.#sorted = undefined;
    }
  }

  /** Records that `peer` has the chain up to at least `height`. */
  peerHeight(peer: number, height: number): void {
    if (height > (this.#peerHeight.get(peer) ?? -1)) this.#peerHeight.set(peer, height);
  }

  getPeerHeight(peer: number): number {
    return this.#peerHeight.get(peer) ?? -1;
  }

  /**
   * The blocks to request from `peer` now: the lowest wanted heights not in flight, within the
   * window above `tipHeight`, that the peer can serve, up to its free slots.
   */
  assign(peer: number, tipHeight: number, now: number): WantedBlock[] {
    const free = this.perPeer - (this.#peerLoad.get(peer) ?? 0);
    if (free <= 0) return [];
    const peerHeight = this.#peerHeight.get(peer) ?? -1;
    const refused = this.#refused.get(peer);
    const out: WantedBlock[] = [];
    for (const b of this.#byHeight()) {
      if (b.height > tipHeight + this.window || b.height > peerHeight) break;
      if (this.#inFlight.has(b.key) || refused?.has(b.key)) continue;
      this.#inFlight.set(b.key, { peer, since: now });
      out.push(b);
      if (out.length === free) break;
    }
    this.#peerLoad.set(peer, (this.#peerLoad.get(peer) ?? 0) + out.length);
    return out;
  }

  /**
   * Records a request made outside `assign` (a compact block asked of the announcing peer), so
   * that no one else is asked for the same block meanwhile.
   */
  markRequested(key: string, peer: number, now: number): void {
    if (!this.#wanted.has(key) || this.#inFlight.has(key)) return;
    this.#inFlight.set(key, { peer, since: now });
    this.#peerLoad.set(peer, (this.#peerLoad.get(peer) ?? 0) + 1);
  }

  /** A wanted block arrived (from anyone): it is no longer wanted. Returns whether it was. */
  received(key: string): boolean {
    const had = this.#wanted.delete(key);
    if (had) this.#sorted = undefined;
    this.#release(key);
    return had;
  }

  /** `peer` answered notfound for `key`: ask someone else. */
  notFound(peer: number, key: string): void {
    const f = this.#inFlight.get(key);
    if (f?.peer === peer) this.#release(key);
    let set = this.#refused.get(peer);
    if (!set) {
      set = new Set();
      this.#refused.set(peer, set);
    }
    set.add(key);
  }

  /** The peer left: its requests go back to the queue. */
  peerGone(peer: number): void {
    for (const [key, f] of this.#inFlight) if (f.peer === peer) this.#inFlight.delete(key);
    this.#peerLoad.delete(peer);
    this.#peerHeight.delete(peer);
    this.#refused.delete(peer);
  }

  /** Whether `key` is wanted (a header we hold without its block). */
  isWanted(key: string): boolean {
    return this.#wanted.has(key);
  }

  /**
   * Peers that hold the download back: the one owing the block right above `tipHeight` longer
   * than the stall timeout while the window is full ("Headers-First": the download "stalls"),
   * and any peer with a request older than the request timeout.
   */
  stalling(tipHeight: number, now: number): number[] {
    const out = new Set<number>();
    const next = this.#byHeight()[0];
    if (next && next.height === tipHeight + 1) {
      const f = this.#inFlight.get(next.key);
      // Core's stall: the window is what stops us, i.e. some wanted block lies beyond it while
      // everything inside it is already requested.
      const sorted = this.#byHeight();
      const beyond = sorted.some((b) => b.height > tipHeight + this.window);
      const windowFull =
        beyond &&
        sorted.every((b) => b.height > tipHeight + this.window || this.#inFlight.has(b.key));
      if (f && windowFull && now - f.since > this.stallTimeoutMs) out.add(f.peer);
    }
    for (const f of this.#inFlight.values())
      if (now - f.since > this.requestTimeoutMs) out.add(f.peer);
    return [...out];
  }

  /** Drops every wanted block (after a reorg of the header chain the node re-adds what it needs). */
  clear(): void {
    this.#wanted.clear();
    this.#inFlight.clear();
    this.#peerLoad.clear();
    this.#sorted = undefined;
  }

  #release(key: string): void {
    const f = this.#inFlight.get(key);
    if (!f) return;
    this.#inFlight.delete(key);
    this.#peerLoad.set(f.peer, Math.max(0, (this.#peerLoad.get(f.peer) ?? 1) - 1));
  }

  #byHeight(): WantedBlock[] {
    if (!this.#sorted)
      this.#sorted = [...this.#wanted.values()].sort((a, b) => a.height - b.height);
    return this.#sorted;
  }
}
