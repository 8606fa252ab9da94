/**
 * The concrete crypto functions of `Noise_*_25519_ChaChaPoly_SHA256` (spec sections 4 and 12),
 * on node:crypto alone: X25519 (12.1), ChaCha20-Poly1305 (12.3), SHA-256 (12.5), and HMAC/HKDF
 * exactly as section 4.3 defines them.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { NoiseError } from './errors';

/** DHLEN for 25519. */
export const DHLEN = 32;
/** HASHLEN for SHA-256. */
export const HASHLEN = 32;
/** The AEAD authentication tag length. */
export const TAGLEN = 16;
/** Every Noise message is at most this long (section 3). */
export const MAX_MESSAGE_LENGTH = 65535;

/** An X25519 key pair as raw 32-byte strings (RFC 7748 section 5 encoding). */
export interface KeyPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: Uint8Array;
}

// DER headers that wrap a raw 32-byte key into PKCS#8 / SPKI, the forms node:crypto imports.
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

function x25519PrivateKeyObject(privateKey: Uint8Array): KeyObject {
  if (privateKey.length !== DHLEN) {
    throw new NoiseError('INVALID_KEY', `an X25519 private key is ${DHLEN} bytes`);
  }
  return createPrivateKey({
    key: Buffer.concat([X25519_PKCS8_PREFIX, privateKey]),
    format: 'der',
    type: 'pkcs8',
  });
}

function x25519PublicKeyObject(publicKey: Uint8Array): KeyObject {
  if (publicKey.length !== DHLEN) {
    throw new NoiseError('INVALID_KEY', `an X25519 public key is ${DHLEN} bytes`);
  }
  try {
    return createPublicKey({
      key: Buffer.concat([X25519_SPKI_PREFIX, publicKey]),
      format: 'der',
      type: 'spki',
    });
  } catch (cause) {
    throw new NoiseError('INVALID_KEY', 'malformed X25519 public key', { cause });
  }
}

/** Private KeyObjects cached per key pair, so a static key is imported once. */
const privateKeyObjects = new WeakMap<KeyPair, KeyObject>();

function privateKeyObjectOf(keyPair: KeyPair): KeyObject {
  let key = privateKeyObjects.get(keyPair);
  if (key === undefined) {
    key = x25519PrivateKeyObject(keyPair.privateKey);
    privateKeyObjects.set(keyPair, key);
  }
  return key;
}

/** GENERATE_KEYPAIR() (12.1). */
export function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const keyPair: KeyPair = {
    privateKey: new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(16)),
    publicKey: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12)),
  };
  privateKeyObjects.set(keyPair, privateKey);
  return keyPair;
}

/** The key pair of a given 32-byte X25519 private key (used to inject the vectors' keys). */
export function keyPairFromPrivateKey(privateKey: Uint8Array): KeyPair {
  const key = x25519PrivateKeyObject(privateKey);
  const keyPair: KeyPair = {
    privateKey: new Uint8Array(privateKey),
    publicKey: new Uint8Array(
      createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(12),
    ),
  };
  privateKeyObjects.set(keyPair, key);
  return keyPair;
}

/**
 * DH(key_pair, public_key) (12.1). node:crypto signals an error for inputs that give the
 * all-zero output, which 12.1 allows; it surfaces as `INVALID_KEY`.
 */
export function dh(keyPair: KeyPair, publicKey: Uint8Array): Uint8Array {
  const publicKeyObject = x25519PublicKeyObject(publicKey);
  try {
    return diffieHellman({ privateKey: privateKeyObjectOf(keyPair), publicKey: publicKeyObject });
  } catch (cause) {
    throw new NoiseError('INVALID_KEY', 'X25519 with this public key gives no usable secret', {
      cause,
    });
  }
}

/** HASH(data) (12.5); several parts are hashed as their concatenation. */
export function hash(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return h.digest();
}

/** HMAC-HASH(key, data) (4.3); several parts are the concatenation. */
export function hmacHash(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const m = createHmac('sha256', key);
  for (const part of parts) m.update(part);
  return m.digest();
}

const BYTE_1 = Uint8Array.of(0x01);
const BYTE_2 = Uint8Array.of(0x02);
const BYTE_3 = Uint8Array.of(0x03);

/** HKDF(chaining_key, input_key_material, 2) (4.3). */
export function hkdf2(chainingKey: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array] {
  const tempKey = hmacHash(chainingKey, ikm);
  const output1 = hmacHash(tempKey, BYTE_1);
  const output2 = hmacHash(tempKey, output1, BYTE_2);
  return [output1, output2];
}

/** HKDF(chaining_key, input_key_material, 3) (4.3). */
export function hkdf3(
  chainingKey: Uint8Array,
  ikm: Uint8Array,
): [Uint8Array, Uint8Array, Uint8Array] {
  const tempKey = hmacHash(chainingKey, ikm);
  const output1 = hmacHash(tempKey, BYTE_1);
  const output2 = hmacHash(tempKey, output1, BYTE_2);
  const output3 = hmacHash(tempKey, output2, BYTE_3);
  return [output1, output2, output3];
}

/** The 96-bit ChaChaPoly nonce: 32 bits of zeros, then `n` little-endian (12.3). */
export function writeNonce(nonce: Buffer, n: bigint): void {
  nonce.writeUInt32LE(0, 0);
  nonce.writeBigUInt64LE(n, 4);
}

const NO_AD = new Uint8Array(0);

/**
 * ENCRYPT(k, n, ad, plaintext) (4.2, 12.3) writing `ciphertext || tag` into `out` at
 * `offset`; returns the number of bytes written (plaintext length + 16).
 */
export function encryptInto(
  key: KeyObject,
  nonce: Buffer,
  ad: Uint8Array,
  plaintext: Uint8Array,
  out: Uint8Array,
  offset: number,
): number {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAGLEN });
  if (ad.length > 0) cipher.setAAD(ad, { plaintextLength: plaintext.length });
  const ciphertext = cipher.update(plaintext);
  cipher.final();
  out.set(ciphertext, offset);
  out.set(cipher.getAuthTag(), offset + ciphertext.length);
  return ciphertext.length + TAGLEN;
}

/**
 * DECRYPT(k, n, ad, ciphertext) (4.2, 12.3). Returns `undefined` when authentication fails;
 * the plaintext is only returned after the tag verified.
 */
export function decrypt(
  key: KeyObject,
  nonce: Buffer,
  ad: Uint8Array,
  ciphertext: Uint8Array,
): Uint8Array | undefined {
  if (ciphertext.length < TAGLEN) return undefined;
  const split = ciphertext.length - TAGLEN;
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAGLEN });
  decipher.setAuthTag(ciphertext.subarray(split));
  if (ad.length > 0) decipher.setAAD(ad, { plaintextLength: split });
  const plaintext = decipher.update(ciphertext.subarray(0, split));
  try {
    decipher.final();
  } catch {
    return undefined;
  }
  return plaintext;
}

/**
 * DECRYPT(k, n, ad, ciphertext) (4.2, 12.3) for a ciphertext given as consecutive pieces
 * (`ciphertext || tag` is their concatenation; the 16-byte tag may straddle two pieces). The
 * decipher is fed piece by piece, so nothing is joined; the plaintext comes back as pieces too
 * (same boundaries, minus the tag). Returns `undefined` when authentication fails: the pieces
 * are only returned after `final()` verified the tag, so unauthenticated plaintext never
 * leaves this function.
 */
export function decryptParts(
  key: KeyObject,
  nonce: Buffer,
  ad: Uint8Array,
  parts: readonly Uint8Array[],
): Uint8Array[] | undefined {
  let length = 0;
  for (const part of parts) length += part.length;
  if (length < TAGLEN) return undefined;
  const split = length - TAGLEN;
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAGLEN });
  if (ad.length > 0) decipher.setAAD(ad, { plaintextLength: split });
  const plaintext: Uint8Array[] = [];
  const tag = Buffer.allocUnsafe(TAGLEN);
  let offset = 0; // of the current part within the message
  for (const part of parts) {
    const end = offset + part.length;
    if (offset < split) {
      const body = end <= split ? part : part.subarray(0, split - offset);
      if (body.length > 0) plaintext.push(decipher.update(body));
    }
    if (end > split) {
      // This part holds (some of) the tag: copy those bytes, at most 16 in all.
      const from = Math.max(0, split - offset);
      tag.set(part.subarray(from), offset + from - split);
    }
    offset = end;
  }
  decipher.setAuthTag(tag);
  try {
    decipher.final();
  } catch {
    return undefined;
  }
  return plaintext;
}

export { NO_AD };
