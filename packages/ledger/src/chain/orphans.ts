/**
 * Orphan blocks (developer reference devguide/p2p_network.rst "Orphan Blocks"): blocks whose
 * parent is unknown, kept until the parent arrives. Bounded: past `max`, the oldest is dropped
 * (a peer can always send it again).
 */
import { toHex } from '../hash';
import type { Block } from '../primitives/block';

export class OrphanBlocks {
  readonly #max: number;
  readonly #blocks = new Map<string, Block>(); // by block hash; insertion order = age

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#blocks.size;
  }

  add(key: string, block: Block): void {
    if (this.#blocks.has(key)) return;
    this.#blocks.set(key, block);
    while (this.#blocks.size > this.#max)
      this.#blocks.delete(this.#blocks.keys().next().value as string);
  }

  /** Removes and returns the orphans whose parent is `parentKey`. */
  takeChildrenOf(parentKey: string): Block[] {
    const found: Block[] = [];
    for (const [k, b] of this.#blocks) {
      if (toHex(b.header.prevBlock) === parentKey) {
        found.push(b);
        this.#blocks.delete(k);
      }
    }
    return found;
  }
}

/** A small least-recently-used map (recent blocks and their txids, so connecting does not re-read or re-hash). */
export class RecentMap<V> {
  readonly #max: number;
  readonly #map = new Map<string, V>();

  constructor(max: number) {
    this.#max = max;
  }

  get(key: string): V | undefined {
    return this.#map.get(key);
  }

  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as string);
  }
}
