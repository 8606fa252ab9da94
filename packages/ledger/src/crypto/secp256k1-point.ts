/**
 * A minimal secp256k1 ECDSA verification over a raw 32-byte digest, in BigInt arithmetic
 * (SEC 1 v2 §4.1.4). node:crypto cannot verify a digest it did not hash itself, so this is
 * used for the one case that has no preimage: the legacy sighash's "1" quirk (see
 * script/sighash.ts). It is slow (milliseconds) and used for nothing else.
 */
import { SECP256K1_N } from './der';

const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
const N = SECP256K1_N;
const G = {
  x: 0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798n,
  y: 0x483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8n,
};
type Point = { x: bigint; y: bigint } | null;

const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m;

function inverse(a: bigint, m: bigint): bigint {
  let [r0, r1] = [mod(a, m), m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0, m);
}

function add(a: Point, b: Point): Point {
  if (a === null) return b;
  if (b === null) return a;
  if (a.x === b.x && mod(a.y + b.y, P) === 0n) return null;
  const lambda =
    a.x === b.x && a.y === b.y
      ? mod(3n * a.x * a.x * inverse(2n * a.y, P), P)
      : mod((b.y - a.y) * inverse(b.x - a.x, P), P);
  const x = mod(lambda * lambda - a.x - b.x, P);
  return { x, y: mod(lambda * (a.x - x) - a.y, P) };
}

function multiply(k: bigint, point: Point): Point {
  let result: Point = null;
  let addend = point;
  while (k > 0n) {
    if (k & 1n) result = add(result, addend);
    addend = add(addend, addend);
    k >>= 1n;
  }
  return result;
}

/** Decodes a compressed (02/03) or uncompressed (04) public key; undefined if not on the curve. */
export function decodePoint(pub: Uint8Array): Point | undefined {
  const hex = (b: Uint8Array): bigint => BigInt(`0x${Buffer.from(b).toString('hex')}`);
  if (pub.length === 65 && pub[0] === 0x04) {
    const x = hex(pub.subarray(1, 33));
    const y = hex(pub.subarray(33));
    return mod(y * y - x * x * x - 7n, P) === 0n && x < P && y < P ? { x, y } : undefined;
  }
  if (pub.length === 33 && (pub[0] === 0x02 || pub[0] === 0x03)) {
    const x = hex(pub.subarray(1));
    if (x >= P) return undefined;
    const y2 = mod(x * x * x + 7n, P);
    let y = modPow(y2, (P + 1n) / 4n, P);
    if (mod(y * y, P) !== y2) return undefined;
    if ((y & 1n) !== BigInt((pub[0] as number) & 1)) y = P - y;
    return { x, y };
  }
  return undefined;
}

function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let result = 1n;
  let b = mod(base, m);
  while (exp > 0n) {
    if (exp & 1n) result = (result * b) % m;
    b = (b * b) % m;
    exp >>= 1n;
  }
  return result;
}

/** ECDSA verification of (r, s) over the 32-byte big-endian digest `z` for public key `pub`. */
export function verifyDigest(pub: Uint8Array, r: bigint, s: bigint, digest: Uint8Array): boolean {
  const q = decodePoint(pub);
  if (q === undefined || q === null) return false;
  if (r < 1n || r >= N || s < 1n || s >= N) return false;
  const z = BigInt(`0x${Buffer.from(digest).toString('hex')}`);
  const w = inverse(s, N);
  const point = add(multiply(mod(z * w, N), G), multiply(mod(r * w, N), q));
  return point !== null && mod(point.x, N) === r;
}
