/**
 * Proof of work (developer reference, block_chain.rst "Target nBits"; Bitcoin Core
 * arith_uint256::SetCompact, pow.cpp CheckProofOfWork, chain.cpp GetBlockProof).
 */

/** Decodes the compact "nBits" form: a base-256 exponent byte and a 23-bit mantissa with a sign bit. */
export function compactToTarget(bits: number): {
  target: bigint;
  negative: boolean;
  overflow: boolean;
} {
  const size = bits >>> 24;
  let word = bits & 0x007fffff;
  let target: bigint;
  if (size <= 3) {
    word >>>= 8 * (3 - size);
    target = BigInt(word);
  } else {
    target = BigInt(word) << BigInt(8 * (size - 3));
  }
  const negative = word !== 0 && (bits & 0x00800000) !== 0;
  const overflow =
    word !== 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
  return { target, negative, overflow };
}

/** Encodes a target in compact form (Core's GetCompact), for the miner and tests. */
export function targetToCompact(target: bigint): number {
  let size = 0;
  for (let t = target; t > 0n; t >>= 8n) size++;
  let compact: number;
  if (size <= 3) compact = Number(target << BigInt(8 * (3 - size)));
  else compact = Number(target >> BigInt(8 * (size - 3)));
  if (compact & 0x00800000) {
    compact >>>= 8;
    size++;
  }
  return (compact | (size << 24)) >>> 0;
}

/** A hash (internal byte order: little-endian) as the 256-bit number it is compared as. */
export function hashToBigInt(hash: Uint8Array): bigint {
  let n = 0n;
  for (let i = hash.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(hash[i] as number);
  return n;
}

/** CheckProofOfWork: nBits is a sane target not above powLimit, and the hash is at most the target. */
export function checkProofOfWork(hash: Uint8Array, bits: number, powLimit: bigint): boolean {
  const { target, negative, overflow } = compactToTarget(bits);
  if (negative || overflow || target === 0n || target > powLimit) return false;
  return hashToBigInt(hash) <= target;
}

/** GetBlockProof: the expected number of hashes for a block at this target, 2^256 / (target + 1). */
export function blockProof(bits: number): bigint {
  const { target, negative, overflow } = compactToTarget(bits);
  if (negative || overflow || target === 0n) return 0n;
  return (1n << 256n) / (target + 1n);
}
