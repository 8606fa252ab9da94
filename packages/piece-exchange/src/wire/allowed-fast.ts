/**
 * BEP 6 "Allowed Fast Set Generation": the canonical set of `k` piece indices a peer at `ip` may
 * request while choked. Both ends compute the same set, and the first k of a (k+1)-set equal the
 * k-set.
 */
import { createHash } from 'node:crypto';
import { ipv4ToBytes } from './compact';

/** BEP 6: "We currently set k to 10". */
export const DEFAULT_ALLOWED_FAST_COUNT = 10;

/**
 * The allowed fast set for the peer at `ip` (dotted IPv4 string or 4 bytes). BEP 6 has "no
 * provisions for IPv6": for an address that is not IPv4 the set is empty. `k` is capped at the
 * piece count so the loop always ends.
 */
export function allowedFastSet(
  infoHash: Uint8Array,
  ip: string | Uint8Array,
  pieceCount: number,
  k: number = DEFAULT_ALLOWED_FAST_COUNT,
): number[] {
  const address = typeof ip === 'string' ? ipv4ToBytes(ip) : ip.length === 4 ? ip : undefined;
  if (address === undefined || pieceCount <= 0 || k <= 0) return [];
  const target = Math.min(k, pieceCount);
  // (1) x = 0xFFFFFF00 & ip, (2) x.append(infohash)
  let x: Uint8Array = new Uint8Array(4 + infoHash.length);
  x.set(address.subarray(0, 3), 0);
  x.set(infoHash, 4);
  const set: number[] = [];
  const seen = new Set<number>();
  while (set.length < target) {
    x = createHash('sha1').update(x).digest(); // (3)
    for (let i = 0; i < 5 && set.length < target; i++) {
      const j = i * 4; // (5)
      const y = ((x[j]! << 24) | (x[j + 1]! << 16) | (x[j + 2]! << 8) | x[j + 3]!) >>> 0; // (6)
      const index = y % pieceCount; // (7)
      if (!seen.has(index)) {
        seen.add(index); // (8), (9)
        set.push(index);
      }
    }
  }
  return set;
}
