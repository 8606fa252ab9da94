/**
 * BEP 44 items: immutable (stored under SHA-1 of the bencoded value) and mutable (stored under
 * SHA-1 of the ed25519 public key and optional salt, signed over `salt`, `seq` and `v`).
 * Signatures use node:crypto's Ed25519 with 32-byte seeds (RFC 8032).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import type { BencodeInput, BencodeValue } from '@peerkit/bencode';
import { decode, encode } from '@peerkit/bencode';
import { DHTError } from './errors';
import type { NodeId } from './node-id';

/** BEP 44: "it's not safe to assume storing more than 1000 bytes will succeed". */
export const MAX_VALUE_BYTES = 1000;
/** BEP 44: "The salt string MUST NOT be longer than 64 bytes." */
export const MAX_SALT_BYTES = 64;
/** BEP 44: seq SHOULD not exceed MAX_INT64; we keep it within JS safe integers. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** An item as it travels in `put` and `get` (v as raw bencoded bytes). */
export interface Item {
  /** The bencoded value, canonical. */
  v: Uint8Array;
  /** Mutable only: ed25519 public key (32 bytes). */
  k?: Uint8Array;
  sig?: Uint8Array;
  seq?: number;
  salt?: Uint8Array;
}

export interface KeyPair {
  /** 32-byte ed25519 public key (the `k` of BEP 44). */
  publicKey: Uint8Array;
  /** 32-byte RFC 8032 seed. Keep it secret. */
  secretKey: Uint8Array;
}

function sha1(...parts: Uint8Array[]): NodeId {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** Target of an immutable item: SHA-1 of its bencoded value. */
export function immutableTarget(v: Uint8Array): NodeId {
  return sha1(v);
}

/** Target of a mutable item: SHA-1 of the public key followed by the salt (if any). */
export function mutableTarget(k: Uint8Array, salt?: Uint8Array): NodeId {
  return salt && salt.length > 0 ? sha1(k, salt) : sha1(k);
}

export function itemTarget(item: Item): NodeId {
  return item.k ? mutableTarget(item.k, item.salt) : immutableTarget(item.v);
}

/**
 * The bytes a mutable item's signature covers (BEP 44 "Signature Verification"):
 * (`4:salt` len `:` salt) `3:seqi` seq `e1:v` then the bencoded value.
 */
export function signatureBuffer(seq: number, v: Uint8Array, salt?: Uint8Array): Uint8Array {
  const enc = new TextEncoder();
  const head = salt && salt.length > 0 ? enc.encode(`4:salt${salt.length}:`) : new Uint8Array(0);
  const saltBytes = salt && salt.length > 0 ? salt : new Uint8Array(0);
  const mid = enc.encode(`3:seqi${seq}e1:v`);
  const out = new Uint8Array(head.length + saltBytes.length + mid.length + v.length);
  out.set(head, 0);
  out.set(saltBytes, head.length);
  out.set(mid, head.length + saltBytes.length);
  out.set(v, head.length + saltBytes.length + mid.length);
  return out;
}

const SPKI_ED25519 = Uint8Array.from([
  0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
]);
const PKCS8_ED25519 = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

function publicKeyObject(k: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519, k]), format: 'der', type: 'spki' });
}

function privateKeyObject(seed: Uint8Array): KeyObject {
  return createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519, seed]),
    format: 'der',
    type: 'pkcs8',
  });
}

/** A fresh ed25519 key pair (node:crypto randomness: key material is never simulated). */
export function generateKeyPair(): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  return {
    publicKey: new Uint8Array(spki.subarray(spki.length - 32)),
    secretKey: new Uint8Array(pkcs8.subarray(pkcs8.length - 32)),
  };
}

/** The public key of a 32-byte seed. */
export function publicKeyFromSecret(secretKey: Uint8Array): Uint8Array {
  if (secretKey.length !== 32)
    throw new DHTError('INVALID_ARGUMENT', 'secret key must be a 32-byte seed');
  const spki = createPublicKey(privateKeyObject(secretKey)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(spki.length - 32));
}

/** Signs a mutable item's buffer with a 32-byte seed. */
export function signMutable(
  secretKey: Uint8Array,
  seq: number,
  v: Uint8Array,
  salt?: Uint8Array,
): Uint8Array {
  if (secretKey.length !== 32)
    throw new DHTError('INVALID_ARGUMENT', 'secret key must be a 32-byte seed');
  return new Uint8Array(sign(null, signatureBuffer(seq, v, salt), privateKeyObject(secretKey)));
}

/** Verifies a mutable item's signature; false (never a throw) for malformed keys or signatures. */
export function verifyMutable(
  k: Uint8Array,
  sig: Uint8Array,
  seq: number,
  v: Uint8Array,
  salt?: Uint8Array,
): boolean {
  if (k.length !== 32 || sig.length !== 64) return false;
  try {
    return verify(null, signatureBuffer(seq, v, salt), publicKeyObject(k), sig);
  } catch {
    // Not a valid curve point: not a valid signature either.
    return false;
  }
}

/** Bencodes a value for `put`, checking the BEP 44 size limit. */
export function encodeValue(value: BencodeInput): Uint8Array {
  const v = encode(value);
  if (v.length > MAX_VALUE_BYTES) {
    throw new DHTError(
      'INVALID_ITEM',
      `value is ${v.length} bytes; BEP 44 allows ${MAX_VALUE_BYTES}`,
    );
  }
  return v;
}

/** Decodes a stored/received value (canonical bencode). */
export function decodeValue(v: Uint8Array): BencodeValue {
  return decode(v);
}

/** Builds a signed mutable item. */
export function createMutableItem(options: {
  keyPair: KeyPair;
  value: BencodeInput;
  seq: number;
  salt?: Uint8Array;
}): Item & { k: Uint8Array; sig: Uint8Array; seq: number } {
  const v = encodeValue(options.value);
  checkSeqAndSalt(options.seq, options.salt);
  const sig = signMutable(options.keyPair.secretKey, options.seq, v, options.salt);
  const item: Item & { k: Uint8Array; sig: Uint8Array; seq: number } = {
    v,
    k: options.keyPair.publicKey,
    sig,
    seq: options.seq,
  };
  if (options.salt && options.salt.length > 0) item.salt = options.salt;
  return item;
}

function checkSeqAndSalt(seq: number, salt?: Uint8Array) {
  if (!Number.isSafeInteger(seq) || seq < 0)
    throw new DHTError('INVALID_ITEM', 'seq must be a non-negative safe integer');
  if (salt && salt.length > MAX_SALT_BYTES)
    throw new DHTError('INVALID_ITEM', 'salt longer than 64 bytes');
}

/** The reason an item is not acceptable, as a BEP 44 error code, or undefined when it is fine. */
export function checkItem(item: Item): { code: number; message: string } | undefined {
  if (item.v.length > MAX_VALUE_BYTES) return { code: 205, message: 'message (v field) too big' };
  try {
    decode(item.v); // strict: BEP 44 "MUST reject ... invalid bencoding (e.g. unsorted keys)"
  } catch {
    return { code: 203, message: 'v is not valid bencoding' };
  }
  if (item.k === undefined) {
    if (item.sig || item.seq !== undefined || item.salt) {
      return { code: 203, message: 'immutable put with mutable fields' };
    }
    return undefined;
  }
  if (item.salt && item.salt.length > MAX_SALT_BYTES) return { code: 207, message: 'salt too big' };
  if (item.seq === undefined || item.sig === undefined)
    return { code: 203, message: 'mutable put without seq or sig' };
  if (item.seq < 0) return { code: 203, message: 'negative seq' };
  if (!verifyMutable(item.k, item.sig, item.seq, item.v, item.salt)) {
    return { code: 206, message: 'invalid signature' };
  }
  return undefined;
}
