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
import {
  commonPrefixLength,
  compareDistance,
  copyId,
  ID_BITS,
  idEquals,
  type NodeId,
} from './node-id';

export const DEFAULT_K = 8;
/** BEP 5: "After 15 minutes of inactivity, a node becomes questionable." */
export const GOOD_NODE_MS = 15 * 60 * 1000;
/** BEP 5: "Buckets that have not been changed in 15 minutes should be refreshed." */
export const BUCKET_REFRESH_MS = 15 * 60 * 1000;

export type NodeStatus = 'good' | 'questionable' | 'bad';

/** A node held in the table (or in a bucket's replacement cache). */
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

interface Bucket {
  nodes: TableNode[];
  /** Waiting candidates, most recently seen last. */
  replacements: TableNode[];
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

  constructor(id: NodeId, clock: Clock, options: RoutingTableOptions = {}) {
    this.id = id;
    this.clock = clock;
    this.k = options.k ?? DEFAULT_K;
    this.maxFailures = options.maxFailures ?? 2;
    this.replacementCacheSize = options.replacementCacheSize ?? Math.ceil(this.k / 4);
    this.buckets = [{ nodes: [], replacements: [], lastChanged: clock.now() }];
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
    return this.statusAt(node, this.clock.now());
  }

  private statusAt(node: TableNode, now: number): NodeStatus {
    if (node.failures >= this.maxFailures) return 'bad';
    if (node.lastResponse !== undefined) {
      if (now - node.lastResponse <= GOOD_NODE_MS) return 'good';
      if (node.lastQuery !== undefined && now - node.lastQuery <= GOOD_NODE_MS) return 'good';
    }
    return 'questionable';
  }

  /** The bucket an id falls into: its common prefix length with our id, capped at the last bucket. */
  bucketIndexOf(id: NodeId): number {
    return Math.min(commonPrefixLength(this.id, id), this.buckets.length - 1);
  }

  /** The nodes of bucket `index` (a copy of the list). */
  bucketNodes(index: number): TableNode[] {
    return [...(this.buckets[index]?.nodes ?? [])];
  }

  bucketReplacements(index: number): TableNode[] {
    return [...(this.buckets[index]?.replacements ?? [])];
  }

  get(id: NodeId): TableNode | undefined {
    return this.buckets[this.bucketIndexOf(id)]?.nodes.find((n) => idEquals(n.id, id));
  }

  /** Every node in the buckets. */
  nodes(): TableNode[] {
    return this.buckets.flatMap((b) => b.nodes);
  }

  /**
   * Records that we heard from `contact`: `'response'` when it answered our query, `'query'` when
   * it queried us. Adds it when there is room (splitting our own bucket if needed), replaces a bad
   * node, or parks it in the replacement cache.
   */
  observe(contact: Contact, kind: 'response' | 'query', verified = true): ObserveResult {
    if (idEquals(contact.id, this.id)) return { kind: 'ignored' };
    const now = this.clock.now();
    let index = this.bucketIndexOf(contact.id);
    let bucket = this.buckets[index]!;
    const existing = bucket.nodes.find((n) => idEquals(n.id, contact.id));
    if (existing) {
      if (!sameAddress(existing.address, contact.address)) {
        // An id seen from a new address only moves there once the old address went bad.
        if (this.status(existing) !== 'bad') return { kind: 'ignored' };
        existing.address = contact.address;
        existing.lastResponse = undefined;
        existing.lastQuery = undefined;
        existing.verified = verified;
      }
      touch(existing, kind, now);
      if (kind === 'response') bucket.lastChanged = now;
      return { kind: 'updated' };
    }
    const fresh: TableNode = {
      id: contact.id,
      address: contact.address,
      lastResponse: undefined,
      lastQuery: undefined,
      failures: 0,
      verified,
    };
    touch(fresh, kind, now);
    while (bucket.nodes.length >= this.k && this.canSplit(index)) {
      this.split();
      index = this.bucketIndexOf(contact.id);
      bucket = this.buckets[index]!;
    }
    if (bucket.nodes.length < this.k) {
      removeById(bucket.replacements, contact.id);
      bucket.nodes.push(keep(fresh));
      bucket.lastChanged = now;
      return { kind: 'added' };
    }
    const bad = bucket.nodes.find((n) => this.status(n) === 'bad');
    if (bad) {
      removeById(bucket.replacements, contact.id);
      bucket.nodes[bucket.nodes.indexOf(bad)] = keep(fresh);
      bucket.lastChanged = now;
      return { kind: 'added', replaced: bad };
    }
    this.addReplacement(bucket, fresh, kind, now);
    const ping = bucket.nodes.filter((n) => this.status(n) === 'questionable');
    return ping.length > 0 ? { kind: 'pending', ping } : { kind: 'cached' };
  }

  /**
   * Records that `id` did not answer a query (`markBad`: a ping that already was retried, BEP 5's
   * "try once more before discarding"). Once it is bad and a replacement waits, the best
   * replacement (BEP 42-verified first, then most recently seen) takes its place.
   */
  fail(id: NodeId, markBad = false): FailResult {
    const bucket = this.buckets[this.bucketIndexOf(id)]!;
    const node = bucket.nodes.find((n) => idEquals(n.id, id));
    if (!node) {
      const waiting = bucket.replacements.find((n) => idEquals(n.id, id));
      if (waiting) {
        waiting.failures++;
        if (waiting.failures >= this.maxFailures) removeById(bucket.replacements, id);
      }
      return {};
    }
    node.failures = markBad ? Math.max(node.failures + 1, this.maxFailures) : node.failures + 1;
    if (this.status(node) !== 'bad' || bucket.replacements.length === 0) return {};
    const promoted = pickReplacement(bucket.replacements);
    removeById(bucket.replacements, promoted.id);
    bucket.nodes[bucket.nodes.indexOf(node)] = promoted;
    bucket.lastChanged = this.clock.now();
    return { removed: node, promoted };
  }

  /** Removes a node from its bucket (e.g. it sent garbage); returns whether it was there. */
  remove(id: NodeId): boolean {
    const bucket = this.buckets[this.bucketIndexOf(id)]!;
    if (removeById(bucket.nodes, id)) {
      if (bucket.replacements.length > 0) {
        const promoted = pickReplacement(bucket.replacements);
        removeById(bucket.replacements, promoted.id);
        bucket.nodes.push(promoted);
      }
      bucket.lastChanged = this.clock.now();
      return true;
    }
    return removeById(bucket.replacements, id);
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
      const members: TableNode[] = [];
      for (const index of group) {
        for (const n of this.buckets[index]!.nodes) {
          if (!skipBad || this.statusAt(n, now) !== 'bad') members.push(n);
        }
      }
      members.sort((a, b) => compareDistance(target, a.id, b.id));
      for (const n of members) {
        if (out.length >= count) break;
        out.push(n);
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

  private canSplit(index: number): boolean {
    // BEP 5: only the bucket whose range contains our own id splits (always the last one here).
    return index === this.buckets.length - 1 && this.buckets.length < ID_BITS;
  }

  private split(): void {
    const last = this.buckets.length - 1;
    const old = this.buckets[last]!;
    const far: Bucket = { nodes: [], replacements: [], lastChanged: old.lastChanged };
    const near: Bucket = { nodes: [], replacements: [], lastChanged: old.lastChanged };
    for (const n of old.nodes)
      (commonPrefixLength(this.id, n.id) > last ? near : far).nodes.push(n);
    for (const n of old.replacements) {
      (commonPrefixLength(this.id, n.id) > last ? near : far).replacements.push(n);
    }
    this.buckets[last] = far;
    this.buckets.push(near);
  }

  private addReplacement(bucket: Bucket, node: TableNode, kind: 'response' | 'query', now: number) {
    const existing = bucket.replacements.find((n) => idEquals(n.id, node.id));
    if (existing) {
      removeById(bucket.replacements, node.id);
      touch(existing, kind, now);
      bucket.replacements.push(existing);
      return;
    }
    if (bucket.replacements.length >= this.replacementCacheSize) {
      // Evict the oldest unverified candidate first, else the oldest (BEP 42: prefer verified).
      const victim = bucket.replacements.find((n) => !n.verified) ?? bucket.replacements[0]!;
      if (!victim.verified || node.verified) removeById(bucket.replacements, victim.id);
      else return;
    }
    bucket.replacements.push(keep(node));
  }
}

/**
 * The node as stored: its id copied, because a decoded id is a view into its whole datagram,
 * which must not stay alive. Copied only when kept, so turned-away nodes cost nothing.
 */
function keep(node: TableNode): TableNode {
  return { ...node, id: copyId(node.id) };
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

function touch(node: TableNode, kind: 'response' | 'query', time: number) {
  // Whole milliseconds: small integers stay unboxed (this table holds many timestamps).
  const now = Math.floor(time);
  if (kind === 'response') {
    node.lastResponse = now;
    node.failures = 0;
  } else {
    node.lastQuery = now;
  }
}

function pickReplacement(list: TableNode[]): TableNode {
  for (let i = list.length - 1; i >= 0; i--) if (list[i]!.verified) return list[i]!;
  return list[list.length - 1]!;
}

function removeById(list: TableNode[], id: NodeId): boolean {
  const i = list.findIndex((n) => idEquals(n.id, id));
  if (i < 0) return false;
  list.splice(i, 1);
  return true;
}

function sameAddress(a: Address, b: Address): boolean {
  return a.host === b.host && a.port === b.port;
}
