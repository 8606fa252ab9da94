/**
 * The BEP 5 routing table ("Routing Table" section), as a pure data structure driven by a Clock.
 *
 * - The id space is covered by buckets. Bucket `i` (for i < last) holds nodes whose id shares
 *   exactly `i` leading bits with ours; the last bucket holds everything closer, including our
 *   own id. Only that last bucket is ever split, when it is full and a new node falls into it.
 * - Each bucket holds at most `k` (8) nodes. A node is *good* if it answered one of our queries
 *   in the last 15 minutes, or ever answered and queried us in the last 15 minutes; *bad* after
 *   `maxFailures` consecutive unanswered queries; otherwise *questionable*.
 * - When a full bucket cannot split, a bad node is replaced at once; otherwise the newcomer waits
 *   in the bucket's replacement cache and the caller is told to ping the questionable nodes
 *   (`observe` returns `{ kind: 'pending', ping }`); a ping that fails (`fail`) makes the node bad
 *   and the best waiting replacement takes its place.
 * - Every bucket remembers when it last changed; `bucketsToRefresh()` lists those untouched for
 *   15 minutes so the node can look up a random id in them.
 *
 * No I/O here: the DHT node sends the pings and lookups this table asks for.
 */

import type { Address, Clock } from '@peerkit/transport';
import type { Contact } from './compact';
import { DEFAULT_K } from './defaults';
import { commonPrefixLength, ID_BITS, idEquals, type NodeId } from './node-id';
import { NodeRecords } from './node-records';

export { DEFAULT_K };
/** BEP 5: "After 15 minutes of inactivity, a node becomes questionable." */
export const GOOD_NODE_MS = 15 * 60 * 1000;
/** BEP 5: "Buckets that have not been changed in 15 minutes should be refreshed." */
export const BUCKET_REFRESH_MS = 15 * 60 * 1000;

export type NodeStatus = 'good' | 'questionable' | 'bad';

/**
 * A node held in the table (or in a bucket's replacement cache), as the table hands it out: a
 * snapshot built from the packed records (`NodeRecords`), not updated afterwards.
 */
export interface TableNode extends Contact {
  address: Address;
  /** Clock time of the last response to one of our queries; undefined if it never answered. */
  lastResponse: number | undefined;
  /** Clock time of the last query it sent us. */
  lastQuery: number | undefined;
  /** Consecutive queries it failed to answer. */
  failures: number;
  /** BEP 42: its id matches its IP (or its IP is local). */
  verified: boolean;
}

/**
 * A k-bucket: the slots (in `NodeRecords`) of its nodes and of its waiting replacements. The
 * replacement cache is created when first needed (most buckets never need one).
 */
interface Bucket {
  nodes: number[];
  /** Waiting candidates, most recently seen last. */
  replacements: number[] | undefined;
  lastChanged: number;
}

export interface RoutingTableOptions {
  /** Bucket size (BEP 5: 8). */
  k?: number;
  /** Consecutive failures after which a node is bad (default 2: "fail to respond to multiple queries in a row"). */
  maxFailures?: number;
  /** Replacement-cache entries per bucket (default k / 4: 2). */
  replacementCacheSize?: number;
}

/** What `observe` did with a node we heard from. */
export type ObserveResult =
  | { kind: 'added'; replaced?: TableNode }
  | { kind: 'updated' }
  /** Bucket full: the node waits in the replacement cache; ping these questionable nodes. */
  | { kind: 'pending'; ping: TableNode[] }
  /** Bucket full of good nodes: the node waits in the replacement cache. */
  | { kind: 'cached' }
  /** Our own id, or a known id claimed from another address. */
  | { kind: 'ignored' };

/** What `fail` did. */
export interface FailResult {
  /** The node was dropped from its bucket (it went bad and a replacement took its place). */
  removed?: TableNode;
  promoted?: TableNode;
}

export class RoutingTable {
  readonly id: NodeId;
  readonly k: number;
  private readonly clock: Clock;
  private readonly maxFailures: number;
  private readonly replacementCacheSize: number;
  private readonly buckets: Bucket[];
  /** Every node of the buckets and replacement caches, packed (see node-records.ts). */
  private readonly records = new NodeRecords();

  constructor(id: NodeId, clock: Clock, options: RoutingTableOptions = {}) {
    this.id = id;
    this.clock = clock;
    this.k = options.k ?? DEFAULT_K;
    this.maxFailures = options.maxFailures ?? 2;
    this.replacementCacheSize = options.replacementCacheSize ?? Math.ceil(this.k / 4);
    this.buckets = [{ nodes: [], replacements: undefined, lastChanged: clock.now() }];
  }

  /** Number of nodes in buckets (replacement caches not counted). */
  get size(): number {
    let n = 0;
    for (const b of this.buckets) n += b.nodes.length;
    return n;
  }

  get bucketCount(): number {
    return this.buckets.length;
  }

  /** BEP 5's good / questionable / bad classification of a node, now. */
  status(node: TableNode): NodeStatus {
    return classify(
      node.failures,
      node.lastResponse,
      node.lastQuery,
      this.maxFailures,
      this.clock.now(),
    );
  }

  private statusOf(slot: number, now: number): NodeStatus {
    const r = this.records;
    return classify(
      r.failures(slot),
      r.lastResponse(slot),
      r.lastQuery(slot),
      this.maxFailures,
      now,
    );
  }

  /** The bucket an id falls into: its common prefix length with our id, capped at the last bucket. */
  bucketIndexOf(id: NodeId): number {
    return Math.min(commonPrefixLength(this.id, id), this.buckets.length - 1);
  }

  /** The nodes of bucket `index`. */
  bucketNodes(index: number): TableNode[] {
    return (this.buckets[index]?.nodes ?? []).map((s) => this.node(s));
  }

  bucketReplacements(index: number): TableNode[] {
    return (this.buckets[index]?.replacements ?? []).map((s) => this.node(s));
  }

  get(id: NodeId): TableNode | undefined {
    const slot = this.find(this.buckets[this.bucketIndexOf(id)]!.nodes, id);
    return slot === undefined ? undefined : this.node(slot);
  }

  /** Every node in the buckets. */
  nodes(): TableNode[] {
    return this.buckets.flatMap((b) => b.nodes.map((s) => this.node(s)));
  }

  /**
   * Records that we heard from `contact`: `'response'` when it answered our query, `'query'` when
   * it queried us. Adds it when there is room (splitting our own bucket if needed), replaces a bad
   * node, or parks it in the replacement cache.
   */
  observe(contact: Contact, kind: 'response' | 'query', verified = true): ObserveResult {
    if (idEquals(contact.id, this.id)) return { kind: 'ignored' };
    const records = this.records;
    const now = this.clock.now();
    let index = this.bucketIndexOf(contact.id);
    let bucket = this.buckets[index]!;
    const existing = this.find(bucket.nodes, contact.id);
    if (existing !== undefined) {
      if (!records.hasAddress(existing, contact.address)) {
        // An id seen from a new address only moves there once the old address went bad.
        if (this.statusOf(existing, now) !== 'bad') return { kind: 'ignored' };
        records.setAddress(existing, contact.address);
        records.setLastResponse(existing, undefined);
        records.setLastQuery(existing, undefined);
        records.setVerified(existing, verified);
      }
      this.touch(existing, kind, now);
      if (kind === 'response') bucket.lastChanged = now;
      return { kind: 'updated' };
    }
    while (bucket.nodes.length >= this.k && this.canSplit(index)) {
      this.split();
      index = this.bucketIndexOf(contact.id);
      bucket = this.buckets[index]!;
    }
    if (bucket.nodes.length < this.k) {
      this.removeReplacement(bucket, contact.id);
      bucket.nodes = bucket.nodes.concat(this.add(contact, verified, kind, now));
      bucket.lastChanged = now;
      return { kind: 'added' };
    }
    const at = bucket.nodes.findIndex((s) => this.statusOf(s, now) === 'bad');
    if (at >= 0) {
      this.removeReplacement(bucket, contact.id);
      const bad = bucket.nodes[at]!;
      const replaced = this.node(bad);
      records.release(bad);
      bucket.nodes[at] = this.add(contact, verified, kind, now);
      bucket.lastChanged = now;
      return { kind: 'added', replaced };
    }
    this.addReplacement(bucket, contact, verified, kind, now);
    const ping = bucket.nodes
      .filter((s) => this.statusOf(s, now) === 'questionable')
      .map((s) => this.node(s));
    return ping.length > 0 ? { kind: 'pending', ping } : { kind: 'cached' };
  }

  /**
   * Records that `id` did not answer a query (`markBad`: a ping that already was retried, BEP 5's
   * "try once more before discarding"). Once it is bad and a replacement waits, the best
   * replacement (BEP 42-verified first, then most recently seen) takes its place.
   */
  fail(id: NodeId, markBad = false): FailResult {
    const records = this.records;
    const bucket = this.buckets[this.bucketIndexOf(id)]!;
    const slot = this.find(bucket.nodes, id);
    if (slot === undefined) {
      const waiting = this.find(bucket.replacements ?? [], id);
      if (waiting !== undefined) {
        records.setFailures(waiting, records.failures(waiting) + 1);
        if (records.failures(waiting) >= this.maxFailures) this.removeReplacement(bucket, id);
      }
      return {};
    }
    const failures = records.failures(slot) + 1;
    records.setFailures(slot, markBad ? Math.max(failures, this.maxFailures) : failures);
    const now = this.clock.now();
    if (this.statusOf(slot, now) !== 'bad' || !bucket.replacements?.length) return {};
    const promoted = this.takeReplacement(bucket);
    const removed = this.node(slot);
    records.release(slot);
    bucket.nodes[bucket.nodes.indexOf(slot)] = promoted;
    bucket.lastChanged = now;
    return { removed, promoted: this.node(promoted) };
  }

  /** Removes a node from its bucket (e.g. it sent garbage); returns whether it was there. */
  remove(id: NodeId): boolean {
    const bucket = this.buckets[this.bucketIndexOf(id)]!;
    const slot = this.find(bucket.nodes, id);
    if (slot === undefined) return this.removeReplacement(bucket, id);
    bucket.nodes = without(bucket.nodes, slot);
    this.records.release(slot);
    if (bucket.replacements?.length)
      bucket.nodes = bucket.nodes.concat(this.takeReplacement(bucket));
    bucket.lastChanged = this.clock.now();
    return true;
  }

  /**
   * The `count` nodes closest to `target` by XOR distance (bad nodes last, never dropped unless
   * `skipBad`), closest first.
   */
  closest(target: NodeId, count = this.k, skipBad = true): TableNode[] {
    // Buckets in XOR order from the target: with c = common prefix of target and our id,
    // bucket c shares more than c bits with the target, buckets beyond c share exactly c bits
    // (they lie on our side), and buckets j < c share j bits. Only groups sort, not the table.
    const last = this.buckets.length - 1;
    const c = Math.min(commonPrefixLength(this.id, target), last);
    const groups: number[][] = [[c]];
    if (c < last) groups.push(range(c + 1, last));
    for (let j = c - 1; j >= 0; j--) groups.push([j]);
    const out: TableNode[] = [];
    const now = this.clock.now();
    for (const group of groups) {
      if (out.length >= count) break;
      const members: number[] = [];
      for (const index of group) {
        for (const s of this.buckets[index]!.nodes) {
          if (!skipBad || this.statusOf(s, now) !== 'bad') members.push(s);
        }
      }
      members.sort((a, b) => this.records.compareDistance(target, a, b));
      for (const s of members) {
        if (out.length >= count) break;
        out.push(this.node(s));
      }
    }
    return out;
  }

  /** Indexes of buckets that have not changed for 15 minutes (BEP 5 refresh rule). */
  bucketsToRefresh(): number[] {
    const now = this.clock.now();
    const out: number[] = [];
    this.buckets.forEach((b, i) => {
      if (now - b.lastChanged >= BUCKET_REFRESH_MS) out.push(i);
    });
    return out;
  }

  /** Marks a bucket as fresh, e.g. after a refresh lookup ran in its range. */
  touchBucket(index: number): void {
    const b = this.buckets[index];
    if (b) b.lastChanged = this.clock.now();
  }

  lastChanged(index: number): number | undefined {
    return this.buckets[index]?.lastChanged;
  }

  /** The node in `slot` as a `TableNode` snapshot. */
  private node(slot: number): TableNode {
    const r = this.records;
    return {
      id: r.id(slot),
      address: r.address(slot),
      lastResponse: r.lastResponse(slot),
      lastQuery: r.lastQuery(slot),
      failures: r.failures(slot),
      verified: r.verified(slot),
    };
  }

  private find(slots: readonly number[], id: NodeId): number | undefined {
    for (const s of slots) if (this.records.idEquals(s, id)) return s;
    return undefined;
  }

  /** Stores a node we just heard from; returns its slot. */
  private add(contact: Contact, verified: boolean, kind: 'response' | 'query', now: number) {
    const slot = this.records.add(contact.id, contact.address, verified);
    this.touch(slot, kind, now);
    return slot;
  }

  private touch(slot: number, kind: 'response' | 'query', time: number) {
    const now = Math.floor(time);
    if (kind === 'response') {
      this.records.setLastResponse(slot, now);
      this.records.setFailures(slot, 0);
    } else {
      this.records.setLastQuery(slot, now);
    }
  }

  private canSplit(index: number): boolean {
    // BEP 5: only the bucket whose range contains our own id splits (always the last one here).
    return index === this.buckets.length - 1 && this.buckets.length < ID_BITS;
  }

  private split(): void {
    const last = this.buckets.length - 1;
    const old = this.buckets[last]!;
    const isNear = (s: number) => this.records.commonPrefixLength(this.id, s) > last;
    // `slice` trims the spare room `filter` leaves (see `without`).
    const part = (list: readonly number[], near: boolean) =>
      list.filter((s) => isNear(s) === near).slice();
    const waiting = old.replacements ?? [];
    const half = (near: boolean): Bucket => ({
      nodes: part(old.nodes, near),
      replacements: waiting.some((s) => isNear(s) === near) ? part(waiting, near) : undefined,
      lastChanged: old.lastChanged,
    });
    this.buckets[last] = half(false);
    this.buckets.push(half(true));
  }

  private addReplacement(
    bucket: Bucket,
    contact: Contact,
    verified: boolean,
    kind: 'response' | 'query',
    now: number,
  ) {
    const records = this.records;
    let list = bucket.replacements ?? [];
    const existing = this.find(list, contact.id);
    if (existing !== undefined) {
      this.touch(existing, kind, now);
      bucket.replacements = without(list, existing).concat(existing);
      return;
    }
    if (list.length >= this.replacementCacheSize) {
      // Evict the oldest unverified candidate first, else the oldest (BEP 42: prefer verified).
      const victim = list.find((s) => !records.verified(s)) ?? list[0]!;
      if (records.verified(victim) && !verified) return;
      list = without(list, victim);
      records.release(victim);
    }
    bucket.replacements = list.concat(this.add(contact, verified, kind, now));
  }

  /** Removes (and frees) a waiting replacement; returns whether it was there. */
  private removeReplacement(bucket: Bucket, id: NodeId): boolean {
    const list = bucket.replacements;
    const slot = list && this.find(list, id);
    if (list === undefined || slot === undefined) return false;
    bucket.replacements = without(list, slot);
    this.records.release(slot);
    return true;
  }

  /** Takes the best replacement out of the cache: the most recent verified one, else the most recent. */
  private takeReplacement(bucket: Bucket): number {
    const list = bucket.replacements!;
    let at = list.length - 1;
    for (let i = list.length - 1; i >= 0; i--) {
      if (this.records.verified(list[i]!)) {
        at = i;
        break;
      }
    }
    const slot = list[at]!;
    bucket.replacements = without(list, slot);
    return slot;
  }
}

/** BEP 5: good if it answered within 15 minutes (or ever answered and queried us within 15). */
function classify(
  failures: number,
  lastResponse: number | undefined,
  lastQuery: number | undefined,
  maxFailures: number,
  now: number,
): NodeStatus {
  if (failures >= maxFailures) return 'bad';
  if (lastResponse !== undefined) {
    if (now - lastResponse <= GOOD_NODE_MS) return 'good';
    if (lastQuery !== undefined && now - lastQuery <= GOOD_NODE_MS) return 'good';
  }
  return 'questionable';
}

/**
 * `list` without `slot`. Bucket lists are replaced, never grown in place: an array grown with
 * `push` keeps spare room (~22 entries for 8 nodes), a new one from `concat` / `toSpliced` is
 * exactly as long as it needs to be, and lists change far less often than they are read.
 */
function without(list: readonly number[], slot: number): number[] {
  return list.toSpliced(list.indexOf(slot), 1);
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}
