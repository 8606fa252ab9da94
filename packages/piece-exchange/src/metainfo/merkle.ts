/**
 * BEP 52 merkle trees: SHA-256 over 16 KiB blocks, padded to a power of two with zero hashes.
 */
import { createHash, hash } from 'node:crypto';
import { BLOCK_LENGTH } from '../wire/messages';

/** BEP 52: "the leaf hashes are SHA-256 of 16KiB blocks". */
export const MERKLE_BLOCK_LENGTH = BLOCK_LENGTH;
export const HASH_LENGTH_V2 = 32;

export function sha256(...parts: Uint8Array[]): Uint8Array {
  // One-shot hashing (crypto.hash) costs a tenth of a Hash object for the 64 bytes of a node.
  if (parts.length === 1) return hash('sha256', parts[0]!, 'buffer');
  if (parts.length === 2) return hash('sha256', Buffer.concat(parts), 'buffer');
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return h.digest();
}

/** Smallest power of two ≥ n (1 for n ≤ 1). */
export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Roots of all-zero subtrees by height, computed once (index 0: the zero leaf hash). */
const zeroRoots: Uint8Array[] = [new Uint8Array(HASH_LENGTH_V2)];

/** The root of a perfect tree of `2^height` all-zero leaf hashes. */
export function zeroSubtreeRoot(height: number): Uint8Array {
  for (let h = zeroRoots.length; h <= height; h++)
    zeroRoots.push(sha256(zeroRoots[h - 1]!, zeroRoots[h - 1]!));
  return zeroRoots[height]!;
}

/**
 * Merkle root over `hashes` (concatenated 32-byte nodes of one layer), padded to `leafCount`
 * (a power of two ≥ the number of hashes) with `padHash`.
 */
export function merkleRoot(hashes: Uint8Array, leafCount: number, padHash: Uint8Array): Uint8Array {
  let layer: Uint8Array[] = [];
  for (let i = 0; i < hashes.length; i += HASH_LENGTH_V2)
    layer.push(hashes.subarray(i, i + HASH_LENGTH_V2));
  let pad = padHash;
  let width = leafCount;
  while (width > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < width; i += 2) {
      const left = layer[i] ?? pad;
      const right = layer[i + 1] ?? pad;
      if (layer[i] === undefined) break;
      next.push(sha256(left, right));
    }
    pad = sha256(pad, pad);
    layer = next;
    width /= 2;
  }
  return layer[0] ?? pad;
}

/**
 * The `pieces root` a file's piece layer implies: the layer's hashes are the roots of
 * piece-sized subtrees (pieceLength / 16 KiB leaves each), padded with the root of an all-zero
 * piece subtree up to a power of two.
 */
export function rootFromPieceLayer(layer: Uint8Array, pieceLength: number): Uint8Array {
  const pieces = layer.length / HASH_LENGTH_V2;
  const height = Math.log2(pieceLength / MERKLE_BLOCK_LENGTH);
  return merkleRoot(layer, nextPowerOfTwo(pieces), zeroSubtreeRoot(height));
}
