/**
 * Signature encoding rules: strict DER (BIP 66, Core's IsValidSignatureEncoding) and low S
 * (BIP 62 rule 5, Core's IsLowDERSignature / SCRIPT_VERIFY_LOW_S).
 */

/** secp256k1's group order n. */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = SECP256K1_N >> 1n;

/**
 * BIP 66 "DER encoding": `sig` is a DER signature followed by one hash-type byte.
 * Format: 0x30 [total-length] 0x02 [R-length] [R] 0x02 [S-length] [S] [sighash].
 */
export function isValidSignatureEncoding(sig: Uint8Array): boolean {
  // Minimum and maximum size constraints.
  if (sig.length < 9 || sig.length > 73) return false;
  // A signature is of type 0x30 (compound).
  if (sig[0] !== 0x30) return false;
  // Make sure the length covers the entire signature.
  if (sig[1] !== sig.length - 3) return false;
  // Extract the length of the R element.
  const lenR = sig[3] as number;
  // Make sure the length of the S element is still inside the signature.
  if (5 + lenR >= sig.length) return false;
  // Extract the length of the S element.
  const lenS = sig[5 + lenR] as number;
  // Verify that the length of the signature matches the sum of the length of the elements.
  if (lenR + lenS + 7 !== sig.length) return false;
  // Check whether the R element is an integer, not zero-length, not negative.
  if (sig[2] !== 0x02 || lenR === 0 || (sig[4] as number) & 0x80) return false;
  // Null bytes at the start of R are not allowed, unless R would otherwise be interpreted as negative.
  if (lenR > 1 && sig[4] === 0x00 && !((sig[5] as number) & 0x80)) return false;
  // Same for S.
  if (sig[lenR + 4] !== 0x02 || lenS === 0 || (sig[lenR + 6] as number) & 0x80) return false;
  if (lenS > 1 && sig[lenR + 6] === 0x00 && !((sig[lenR + 7] as number) & 0x80)) return false;
  return true;
}

/** R and S of a DER signature (without hash-type byte) that passed the strict check. */
export function parseDer(der: Uint8Array): { r: bigint; s: bigint } {
  const lenR = der[3] as number;
  const r = toBigInt(der.subarray(4, 4 + lenR));
  const lenS = der[5 + lenR] as number;
  const s = toBigInt(der.subarray(6 + lenR, 6 + lenR + lenS));
  return { r, s };
}

/** BIP 62 rule 5: S at most n/2 (`sig` with or without the hash-type byte, strictly DER). */
export function isLowS(sig: Uint8Array): boolean {
  const { s } = parseDer(sig);
  return s >= 1n && s <= HALF_N;
}

/** The DER encoding of (r, s), with S replaced by n − S when it is high (BIP 62). */
export function encodeDerLowS(r: bigint, s: bigint): Uint8Array {
  const low = s > HALF_N ? SECP256K1_N - s : s;
  const rb = derInteger(r);
  const sb = derInteger(low);
  return new Uint8Array([0x30, rb.length + sb.length, ...rb, ...sb]);
}

function derInteger(v: bigint): number[] {
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const bytes = Array.from(Buffer.from(hex, 'hex'));
  if ((bytes[0] as number) & 0x80) bytes.unshift(0);
  return [0x02, bytes.length, ...bytes];
}

export function toBigInt(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString('hex')}`);
}
