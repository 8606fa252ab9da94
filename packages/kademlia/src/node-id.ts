/**
 * 160-bit node ids and info-hashes (BEP 5 "Overview"): the same space, compared by XOR distance.
 * Ids are plain 20-byte `Uint8Array`s; these helpers never allocate hex strings on hot paths.
 */
import { parseHex, type Random, toHex } from '@peerkit/transport';
import { DHTError } from './errors';

/** A node id, info-hash or BEP 44 target: exactly 20 bytes. */
export type NodeId = Uint8Array;

export const ID_LENGTH = 20;
export const ID_BITS = 160;

export function isNodeId(value: unknown): value is NodeId {
  return value instanceof Uint8Array && value.length === ID_LENGTH;
}

/** Throws `DHTError` `INVALID_ARGUMENT` unless `value` is a 20-byte id. */
export function assertNodeId(value: unknown, what = 'id'): asserts value is NodeId {
  if (!isNodeId(value)) throw new DHTError('INVALID_ARGUMENT', `${what} must be 20 bytes`);
}

export function idEquals(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The XOR distance `a ^ b` as a new 20-byte array (BEP 5: "distance metric is XOR"). */
export function xor(a: NodeId, b: NodeId): Uint8Array {
  const out = new Uint8Array(ID_LENGTH);
  for (let i = 0; i < ID_LENGTH; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}

/** Compares two byte strings as big-endian unsigned integers: -1, 0 or 1. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * Which of `a` and `b` is closer to `target`: negative when `a` is closer, positive when `b` is,
 * 0 when they are the same id. No allocation.
 */
export function compareDistance(target: NodeId, a: NodeId, b: NodeId): number {
  for (let i = 0; i < ID_LENGTH; i++) {
    const t = target[i] ?? 0;
    const da = (a[i] ?? 0) ^ t;
    const db = (b[i] ?? 0) ^ t;
    if (da !== db) return da < db ? -1 : 1;
  }
  return 0;
}

/**
 * The number of leading bits `a` and `b` share (0..160). Bucket `i` of a routing table holds
 * nodes whose common prefix with our id is exactly `i` bits long.
 */
export function commonPrefixLength(a: NodeId, b: NodeId): number {
  for (let i = 0; i < ID_LENGTH; i++) {
    const x = (a[i] ?? 0) ^ (b[i] ?? 0);
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return ID_BITS;
}

/** Reads bit `index` (0 = most significant bit of byte 0). */
export function getBit(id: NodeId, index: number): number {
  return ((id[index >> 3] ?? 0) >> (7 - (index & 7))) & 1;
}

/** A uniformly random id. */
export function randomId(random: Random): NodeId {
  return random.bytes(ID_LENGTH);
}

/**
 * A random id that shares exactly `prefixLength` leading bits with `self` (so it falls into
 * bucket `prefixLength`); used to refresh a bucket (BEP 5 "Routing Table"). With
 * `prefixLength` = 160 it returns a copy of `self`.
 */
export function randomIdInBucket(self: NodeId, prefixLength: number, random: Random): NodeId {
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > ID_BITS) {
    throw new DHTError('INVALID_ARGUMENT', `prefix length out of range: ${prefixLength}`);
  }
  const out = random.bytes(ID_LENGTH);
  if (prefixLength === ID_BITS) return Uint8Array.from(self);
  const fullBytes = prefixLength >> 3;
  for (let i = 0; i < fullBytes; i++) out[i] = self[i] ?? 0;
  // Within the partial byte: copy the prefix bits, flip the next one, keep the rest random.
  const bit = prefixLength & 7;
  const keepMask = (0xff << (8 - bit)) & 0xff;
  const flip = 0x80 >> bit;
  const s = self[fullBytes] ?? 0;
  const r = out[fullBytes] ?? 0;
  out[fullBytes] = (s & keepMask) | (~s & flip) | (r & ~(keepMask | flip) & 0xff);
  return out;
}

/** Lowercase hex of any bytes (for maps, logs and saved state): transport's `toHex`. */
export { toHex };

/** Parses hex (even length); throws `DHTError` `INVALID_ARGUMENT` on anything else. */
export function fromHex(hex: string): Uint8Array {
  const bytes = parseHex(hex);
  if (bytes === undefined) throw new DHTError('INVALID_ARGUMENT', 'not a hex string');
  return bytes;
}

/** A 20-byte id from 40 hex characters or 20 bytes. */
export function toNodeId(value: string | Uint8Array): NodeId {
  const id = typeof value === 'string' ? fromHex(value) : value;
  assertNodeId(id);
  return id;
}

/** Sorts `items` in place by XOR distance of `idOf(item)` to `target`, closest first. */
export function sortByDistance<T>(target: NodeId, items: T[], idOf: (item: T) => NodeId): T[] {
  return items.sort((a, b) => compareDistance(target, idOf(a), idOf(b)));
}
