/**
 * Packed storage for the nodes of a routing table (and of its replacement caches).
 *
 * Why packed: a table of a few hundred nodes is most of a DHT node's memory. Kept as one object
 * per node, each entry costs ~300 bytes of heap: the object, its address object, a host string
 * and a 20-byte id whose `Uint8Array` view object alone is ~96 bytes. Here one node is one
 * 44-byte record in a shared buffer plus one (interned) host string reference:
 *
 *   bytes  0..19  node id
 *   bytes 20..21  UDP port (big-endian)
 *   bytes 22..23  consecutive failures (saturating at 65,535)
 *   byte  24      1 if BEP 42-verified (25..27 unused)
 *   bytes 28..35  lastResponse (float64, clock ms; NaN: never answered)
 *   bytes 36..43  lastQuery    (float64, clock ms; NaN: never queried us)
 *
 * A record is addressed by its slot number; freed slots are reused. The routing table only
 * keeps slot numbers in its buckets and builds `TableNode` objects when it hands nodes out.
 */
import type { Address } from '@peerkit/transport';
import { ID_BITS, ID_LENGTH, type NodeId } from './node-id';

const RECORD_BYTES = 44;
const PORT = 20;
const FAILURES = 22;
const VERIFIED = 24;
const LAST_RESPONSE = 28;
const LAST_QUERY = 36;
const INITIAL_SLOTS = 16;
const GROW_SLOTS = 16;

export class NodeRecords {
  private bytes = new Uint8Array(INITIAL_SLOTS * RECORD_BYTES);
  private view = new DataView(this.bytes.buffer);
  /** Host of each slot (interned: nodes behind one IP share one string). */
  private readonly hosts: string[] = [];
  private readonly freeSlots: number[] = [];
  private used = 0;

  /** Stores a new node (no response, no query, no failure yet); returns its slot. */
  add(id: NodeId, address: Address, verified: boolean): number {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.used++;
      if (this.used * RECORD_BYTES > this.bytes.length) this.grow();
    }
    // Copying the id also lets go of the datagram it was decoded from.
    this.bytes.set(id.subarray(0, ID_LENGTH), slot * RECORD_BYTES);
    this.setAddress(slot, address);
    this.setVerified(slot, verified);
    this.setFailures(slot, 0);
    this.setLastResponse(slot, undefined);
    this.setLastQuery(slot, undefined);
    return slot;
  }

  /** Frees a slot for reuse. */
  release(slot: number): void {
    this.hosts[slot] = '';
    this.freeSlots.push(slot);
  }

  /** A copy of the node id in `slot`. */
  id(slot: number): NodeId {
    const at = slot * RECORD_BYTES;
    return this.bytes.slice(at, at + ID_LENGTH);
  }

  idEquals(slot: number, id: NodeId): boolean {
    const at = slot * RECORD_BYTES;
    for (let i = 0; i < ID_LENGTH; i++) if (this.bytes[at + i] !== id[i]) return false;
    return true;
  }

  /** `compareDistance(target, id(a), id(b))` without copying the ids. */
  compareDistance(target: NodeId, a: number, b: number): number {
    const atA = a * RECORD_BYTES;
    const atB = b * RECORD_BYTES;
    for (let i = 0; i < ID_LENGTH; i++) {
      const t = target[i] ?? 0;
      const da = (this.bytes[atA + i] ?? 0) ^ t;
      const db = (this.bytes[atB + i] ?? 0) ^ t;
      if (da !== db) return da < db ? -1 : 1;
    }
    return 0;
  }

  /** `commonPrefixLength(self, id(slot))` without copying the id. */
  commonPrefixLength(self: NodeId, slot: number): number {
    const at = slot * RECORD_BYTES;
    for (let i = 0; i < ID_LENGTH; i++) {
      const x = (self[i] ?? 0) ^ (this.bytes[at + i] ?? 0);
      if (x !== 0) return i * 8 + Math.clz32(x) - 24;
    }
    return ID_BITS;
  }

  /** A new address object each call (callers may keep it). */
  address(slot: number): Address {
    return { host: this.hosts[slot] ?? '', port: this.view.getUint16(slot * RECORD_BYTES + PORT) };
  }

  hasAddress(slot: number, address: Address): boolean {
    return (
      this.hosts[slot] === address.host &&
      this.view.getUint16(slot * RECORD_BYTES + PORT) === address.port
    );
  }

  setAddress(slot: number, address: Address): void {
    this.hosts[slot] = internHost(address.host);
    this.view.setUint16(slot * RECORD_BYTES + PORT, address.port);
  }

  failures(slot: number): number {
    return this.view.getUint16(slot * RECORD_BYTES + FAILURES);
  }

  setFailures(slot: number, failures: number): void {
    this.view.setUint16(slot * RECORD_BYTES + FAILURES, Math.min(failures, 0xffff));
  }

  verified(slot: number): boolean {
    return this.bytes[slot * RECORD_BYTES + VERIFIED] === 1;
  }

  setVerified(slot: number, verified: boolean): void {
    this.bytes[slot * RECORD_BYTES + VERIFIED] = verified ? 1 : 0;
  }

  lastResponse(slot: number): number | undefined {
    return orUndefined(this.view.getFloat64(slot * RECORD_BYTES + LAST_RESPONSE));
  }

  setLastResponse(slot: number, time: number | undefined): void {
    this.view.setFloat64(slot * RECORD_BYTES + LAST_RESPONSE, time ?? Number.NaN);
  }

  lastQuery(slot: number): number | undefined {
    return orUndefined(this.view.getFloat64(slot * RECORD_BYTES + LAST_QUERY));
  }

  setLastQuery(slot: number, time: number | undefined): void {
    this.view.setFloat64(slot * RECORD_BYTES + LAST_QUERY, time ?? Number.NaN);
  }

  private grow() {
    // Linear growth: doubling would leave up to half of the buffer unused in every table.
    const bigger = new Uint8Array(this.bytes.length + GROW_SLOTS * RECORD_BYTES);
    bigger.set(this.bytes);
    this.bytes = bigger;
    this.view = new DataView(bigger.buffer);
  }
}

function orUndefined(time: number): number | undefined {
  return Number.isNaN(time) ? undefined : time;
}

// Host strings are interned: every datagram's source address comes with its own copy of the
// host string, and nodes behind one IP (or one NAT) would each keep theirs. Bounded: the cache
// starts over when full, which only costs some sharing.
const MAX_INTERNED_HOSTS = 4096;
const interned = new Map<string, string>();

function internHost(host: string): string {
  const known = interned.get(host);
  if (known !== undefined) return known;
  if (interned.size >= MAX_INTERNED_HOSTS) interned.clear();
  interned.set(host, host);
  return host;
}
