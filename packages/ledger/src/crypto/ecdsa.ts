/**
 * secp256k1 ECDSA through node:crypto.
 *
 * node:crypto hashes the message itself before signing or verifying (with algorithm `null` an
 * EC key defaults to SHA-256 too; we checked: `verify(null, digest, …)` of a digest signed by
 * `sign('sha256', message, …)` is false). It cannot verify a bare 32-byte digest. Bitcoin's
 * legacy sighash is hash256(preimage) = SHA256(SHA256(preimage)), so we hand node:crypto the
 * single SHA-256 of the preimage with algorithm 'sha256': it hashes once more and verifies
 * exactly the sighash. The sighash code returns that single hash next to the sighash.
 *
 * Public keys become KeyObjects through a SubjectPublicKeyInfo DER (RFC 5480) with the
 * secp256k1 OID; KeyObjects are cached because building one costs about as much as a verify.
 */
import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { cryptoRandom, type Random } from '@peerkit/transport';
import { LedgerError } from '../errors';
import { encodeDerLowS, isValidSignatureEncoding, parseDer, SECP256K1_N, toBigInt } from './der';
import { decodePoint, verifyDigest } from './secp256k1-point';

// SEQUENCE { SEQUENCE { id-ecPublicKey, secp256k1 }, BIT STRING { point } } (RFC 5480 §2).
const SPKI_PREFIX_COMPRESSED = Buffer.from('3036301006072a8648ce3d020106052b8104000a032200', 'hex');
const SPKI_PREFIX_UNCOMPRESSED = Buffer.from(
  '3056301006072a8648ce3d020106052b8104000a034200',
  'hex',
);

const KEY_CACHE_LIMIT = 8192;
const keyCache = new Map<string, KeyObject | null>();

/**
 * A public key as libsecp256k1 parses it: compressed (02/03), uncompressed (04) or hybrid
 * (06/07, accepted by consensus when STRICTENC is off; converted to 04 when its parity bit
 * matches y). Returns null for anything else or a point not on the curve.
 */
function publicKeyObject(pub: Uint8Array): KeyObject | null {
  const id = Buffer.from(pub).toString('hex');
  const cached = keyCache.get(id);
  if (cached !== undefined) return cached;
  let key: KeyObject | null = null;
  let point = pub;
  if (pub.length === 65 && (pub[0] === 0x06 || pub[0] === 0x07)) {
    const odd = ((pub[64] as number) & 1) === 1;
    point =
      odd === (pub[0] === 0x07) ? new Uint8Array([0x04, ...pub.subarray(1)]) : new Uint8Array(0);
  }
  const prefix =
    point.length === 33 && (point[0] === 0x02 || point[0] === 0x03)
      ? SPKI_PREFIX_COMPRESSED
      : point.length === 65 && point[0] === 0x04
        ? SPKI_PREFIX_UNCOMPRESSED
        : undefined;
  if (prefix !== undefined) {
    try {
      key = createPublicKey({ key: Buffer.concat([prefix, point]), format: 'der', type: 'spki' });
    } catch {
      key = null; // not a point on the curve
    }
  }
  if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
  keyCache.set(id, key);
  return key;
}

/** True when `pub` is a public key libsecp256k1 would parse (see publicKeyObject). */
export function isValidPublicKey(pub: Uint8Array): boolean {
  return publicKeyObject(pub) !== null;
}

/**
 * Verifies a strict-DER signature (no hash-type byte) over hash256(preimage), given
 * `preimageSha256` = SHA256(preimage). False for a bad key, a bad encoding or a wrong signature.
 */
export function verifySignature(
  publicKey: Uint8Array,
  derSignature: Uint8Array,
  preimageSha256: Uint8Array,
): boolean {
  const key = publicKeyObject(publicKey);
  if (key === null) return false;
  try {
    return verify('sha256', preimageSha256, { key, dsaEncoding: 'der' }, derSignature);
  } catch {
    return false;
  }
}

/**
 * Verifies a strict-DER signature over a bare 32-byte digest, in BigInt arithmetic (slow).
 * Only for the legacy sighash "1" quirk, which has no preimage for node:crypto to hash.
 */
export function verifyRawDigest(
  publicKey: Uint8Array,
  derSignature: Uint8Array,
  digest: Uint8Array,
): boolean {
  let pub = publicKey;
  if (pub.length === 65 && (pub[0] === 0x06 || pub[0] === 0x07))
    pub = new Uint8Array([0x04, ...pub.subarray(1)]);
  if (!isValidSignatureEncoding(new Uint8Array([...derSignature, 0x01]))) return false;
  const { r, s } = parseDer(derSignature);
  return verifyDigest(pub, r, s, digest);
}

/** A secp256k1 private key. */
export class PrivateKey {
  readonly bytes: Uint8Array;
  /** The 33-byte compressed public key. */
  readonly publicKey: Uint8Array;
  readonly #key: KeyObject;

  private constructor(bytes: Uint8Array) {
    const d = toBigInt(bytes);
    if (bytes.length !== 32 || d < 1n || d >= SECP256K1_N) {
      throw new LedgerError('WALLET', 'a private key is 32 bytes in [1, n)');
    }
    this.bytes = bytes.slice();
    const ecdh = createECDH('secp256k1');
    ecdh.setPrivateKey(this.bytes);
    this.publicKey = new Uint8Array(ecdh.getPublicKey(null, 'compressed'));
    const full = ecdh.getPublicKey(null, 'uncompressed');
    const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
    this.#key = createPrivateKey({
      key: {
        kty: 'EC',
        crv: 'secp256k1',
        d: b64(this.bytes),
        x: b64(full.subarray(1, 33)),
        y: b64(full.subarray(33)),
      },
      format: 'jwk',
    });
    if (decodePoint(this.publicKey) === undefined)
      throw new LedgerError('WALLET', 'bad public key');
  }

  static fromBytes(bytes: Uint8Array): PrivateKey {
    return new PrivateKey(bytes);
  }

  /** A new key from `random` (an injected Random is deterministic in netsim; default node:crypto). */
  static generate(random: Random = cryptoRandom): PrivateKey {
    for (let i = 0; i < 16; i++) {
      const candidate = random.bytes(32);
      const d = toBigInt(candidate);
      if (d >= 1n && d < SECP256K1_N) return new PrivateKey(candidate);
    }
    throw new LedgerError('WALLET', 'random source produced no valid key');
  }

  /**
   * Signs hash256(preimage) given `preimageSha256` = SHA256(preimage) (node:crypto hashes once
   * more). Returns a strict-DER, low-S signature without the hash-type byte. The nonce comes
   * from OpenSSL, so signatures differ run to run (node:crypto has no RFC 6979).
   */
  sign(preimageSha256: Uint8Array): Uint8Array {
    const der = new Uint8Array(
      sign('sha256', preimageSha256, { key: this.#key, dsaEncoding: 'der' }),
    );
    const { r, s } = parseDer(der);
    return encodeDerLowS(r, s);
  }
}
