/**
 * The block index: one entry per known header, linked to its parent, with the cumulative
 * work of its chain (developer reference devguide/block_chain.rst "Proof of Work": the chain
 * with the most work, not the most blocks, is the best chain).
 */
import type { ChainEntry } from '../p2p/ports';

export type BlockStatus =
  /** Header known and valid so far; the block itself not stored. */
  | 'header'
  /** Block stored, passed the context-free and contextual checks, never connected. */
  | 'stored'
  /** Block connected to the UTXO set at least once: fully valid. */
  | 'valid'
  /** The block, or an ancestor, broke a rule. */
  | 'invalid';

export interface BlockIndexEntry extends ChainEntry {
  readonly status: BlockStatus;
  /** Median of this block's and its 10 predecessors' times (Core's GetMedianTimePast). */
  readonly medianTimePast: number;
  /** The parent's entry (undefined for genesis). */
  readonly prev: BlockIndexEntry | undefined;
}

/** The chain's own view of an entry (fields the public type keeps read-only). */
export interface IndexNode extends BlockIndexEntry {
  status: BlockStatus;
  prev: IndexNode | undefined;
  key: string;
  /** Offset of the block's bytes in the store, once stored. */
  dataOffset: number | undefined;
  dataLength: number;
  /** This block and every ancestor are stored: it can be connected. */
  haveChain: boolean;
  /** Order in which haveChain became true (tie-break between equal work: first wins). */
  sequence: number;
  children: IndexNode[];
  /** Reason for `invalid`. */
  invalidReason?: string;
}

/** Number of blocks the median time past spans (BIP 113 / Core's nMedianTimeSpan). */
export const MEDIAN_TIME_SPAN = 11;

export function medianTimePast(time: number, prev: BlockIndexEntry | undefined): number {
  const times = [time];
  for (let p = prev; p !== undefined && times.length < MEDIAN_TIME_SPAN; p = p.prev)
    times.push(p.header.time);
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

/** The ancestor of `node` at `height`, using the active chain array as a shortcut. */
export function ancestor<T extends BlockIndexEntry>(
  node: T,
  height: number,
  active: readonly T[],
): T | undefined {
  let n: BlockIndexEntry | undefined = node;
  while (n !== undefined && n.height > height) {
    if (active[n.height] === n) return active[height];
    n = n.prev;
  }
  return n !== undefined && n.height === height ? (n as T) : undefined;
}

/** The last common ancestor of two entries. */
export function findFork<T extends BlockIndexEntry>(a: T, b: T, active: readonly T[]): T {
  let x = a.height > b.height ? ancestor(a, b.height, active) : a;
  let y = b.height > a.height ? ancestor(b, a.height, active) : b;
  while (x !== undefined && y !== undefined && x !== y) {
    x = x.prev as T | undefined;
    y = y.prev as T | undefined;
  }
  if (x === undefined) throw new Error('entries share no ancestor');
  return x;
}

/**
 * A block locator (developer reference p2p_networking.rst "getheaders"): hashes stepping back
 * from `node`, one at a time for the first ten, then doubling the step, ending at genesis.
 */
export function blockLocator<T extends BlockIndexEntry>(
  node: T,
  active: readonly T[],
): Uint8Array[] {
  const hashes: Uint8Array[] = [];
  let step = 1;
  let n: T | undefined = node;
  while (n !== undefined) {
    hashes.push(n.hash);
    if (n.height === 0) break;
    const height = Math.max(n.height - step, 0);
    n = ancestor(n, height, active);
    if (hashes.length > 10) step *= 2;
  }
  return hashes;
}

/**
 * The index itself: every known entry by hash, the best header (most work, any status but
 * invalid), and the candidates for the tip (stored with all ancestors, not invalid).
 */
export class BlockIndex {
  readonly #nodes = new Map<string, IndexNode>();
  readonly #candidates = new Set<IndexNode>();
  #bestHeader: IndexNode;
  #sequence = 0;

  constructor(genesis: IndexNode) {
    genesis.sequence = this.#sequence++;
    this.#nodes.set(genesis.key, genesis);
    this.#candidates.add(genesis);
    this.#bestHeader = genesis;
  }

  get(key: string): IndexNode | undefined {
    return this.#nodes.get(key);
  }

  get bestHeader(): IndexNode {
    return this.#bestHeader;
  }

  /** Adds a header's entry under its parent. */
  add(node: IndexNode): void {
    this.#nodes.set(node.key, node);
    node.prev?.children.push(node);
    if (node.work > this.#bestHeader.work) this.#bestHeader = node;
  }

  /** Marks `node` and its stored descendants as connectable (haveChain), in order. */
  linkChain(node: IndexNode): void {
    const queue = [node];
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      if (n.status === 'invalid') continue;
      n.haveChain = true;
      n.sequence = this.#sequence++;
      this.#candidates.add(n);
      for (const child of n.children) {
        if (child.dataOffset !== undefined && !child.haveChain) queue.push(child);
      }
    }
  }

  /** Marks `node` and all its descendants invalid; `tip` is the fallback best header. */
  markInvalid(node: IndexNode, reason: string, tip: IndexNode): void {
    const queue = [node];
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      n.status = 'invalid';
      n.invalidReason = reason;
      this.#candidates.delete(n);
      queue.push(...n.children);
    }
    // The best header may have been on the invalid branch.
    let best = tip;
    for (const n of this.#nodes.values())
      if (n.status !== 'invalid' && n.work > best.work) best = n;
    this.#bestHeader = best;
  }

  /** The candidate with the most work; between equal work, the one completed first. */
  bestCandidate(): IndexNode | undefined {
    let best: IndexNode | undefined;
    for (const n of this.#candidates) {
      if (
        best === undefined ||
        n.work > best.work ||
        (n.work === best.work && n.sequence < best.sequence)
      )
        best = n;
    }
    return best;
  }

  /** Drops candidates with less work than `work` (they can no longer become the tip). */
  pruneCandidates(work: bigint): void {
    for (const n of this.#candidates) if (n.work < work) this.#candidates.delete(n);
  }
}
