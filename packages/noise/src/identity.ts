/**
 * Ed25519 identity keys. Each peer has one long-term identity; its Noise static key is
 * separate (and by default fresh per session) and is bound to the identity by a signature in
 * the handshake payload (see `payload.ts`), the idea of noise-libp2p's "Static Key
 * Authentication".
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  timingSafeEqual,
  verify,
} from 'node:crypto';
import { parseHex, toHex } from '@peerkit/transport';
import { NoiseError } from './errors';

/** Length of an Ed25519 public key and of its secret seed. */
export const IDENTITY_KEY_LENGTH = 32;
/** Length of an Ed25519 signature. */
export const SIGNATURE_LENGTH = 64;

/** A peer's long-term Ed25519 identity: the raw 32-byte public key and 32-byte secret seed. */
export interface Identity {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Signing KeyObjects cached per identity object, so a long-lived identity is imported once. */
const signingKeys = new WeakMap<Identity, KeyObject>();

function signingKeyOf(identity: Identity): KeyObject {
  let key = signingKeys.get(identity);
  if (key === undefined) {
    key = privateKeyObject(identity.secretKey);
    signingKeys.set(identity, key);
  }
  return key;
}

function privateKeyObject(secretKey: Uint8Array): KeyObject {
  if (secretKey.length !== IDENTITY_KEY_LENGTH) {
    throw new NoiseError('INVALID_KEY', `an Ed25519 secret key is ${IDENTITY_KEY_LENGTH} bytes`);
  }
  return createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, secretKey]),
    format: 'der',
    type: 'pkcs8',
  });
}

/** A fresh random identity (node:crypto randomness: identity keys are real secrets). */
export function generateIdentity(): Identity {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const identity: Identity = {
    secretKey: new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(16)),
    publicKey: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12)),
  };
  signingKeys.set(identity, privateKey);
  return identity;
}

/** The identity of a 32-byte Ed25519 secret seed (e.g. one loaded from disk). */
export function identityFromSecretKey(secretKey: Uint8Array): Identity {
  const key = privateKeyObject(secretKey);
  const identity: Identity = {
    secretKey: new Uint8Array(secretKey),
    publicKey: new Uint8Array(
      createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(12),
    ),
  };
  signingKeys.set(identity, key);
  return identity;
}

/** Serializes an identity (secret seed || public key, 64 bytes) for storage. Keep it secret. */
export function encodeIdentity(identity: Identity): Uint8Array {
  const out = new Uint8Array(2 * IDENTITY_KEY_LENGTH);
  out.set(identity.secretKey, 0);
  out.set(identity.publicKey, IDENTITY_KEY_LENGTH);
  return out;
}

/**
 * Reads what `encodeIdentity` wrote; throws `INVALID_KEY` unless the bytes are 64 long and the
 * public half belongs to the secret half.
 */
export function decodeIdentity(bytes: Uint8Array): Identity {
  if (bytes.length !== 2 * IDENTITY_KEY_LENGTH) {
    throw new NoiseError('INVALID_KEY', `an encoded identity is ${2 * IDENTITY_KEY_LENGTH} bytes`);
  }
  const identity = identityFromSecretKey(bytes.subarray(0, IDENTITY_KEY_LENGTH));
  if (!equalKeys(identity.publicKey, bytes.subarray(IDENTITY_KEY_LENGTH))) {
    throw new NoiseError('INVALID_KEY', 'the public key does not belong to the secret key');
  }
  return identity;
}

/** Lowercase hex of a public key, for logs and user interfaces. */
export function publicKeyToHex(publicKey: Uint8Array): string {
  return toHex(publicKey);
}

/** Parses 64 hex digits into a 32-byte public key; throws `INVALID_KEY` otherwise. */
export function publicKeyFromHex(text: string): Uint8Array {
  const key = text.length === 64 ? parseHex(text) : undefined;
  if (key === undefined) throw new NoiseError('INVALID_KEY', 'a public key is 64 hex digits');
  return key;
}

/** Constant-time equality of two keys (false when the lengths differ). */
export function equalKeys(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Ed25519 signature of `message` with the identity's secret key. */
export function signWithIdentity(identity: Identity, message: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, signingKeyOf(identity)));
}

/**
 * Verifies an Ed25519 signature. Returns false for a wrong signature and for a public key that
 * is not a valid Ed25519 point; never throws.
 */
export function verifyIdentitySignature(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKey.length !== IDENTITY_KEY_LENGTH || signature.length !== SIGNATURE_LENGTH) {
    return false;
  }
  try {
    const key = createPublicKey({
      key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]),
      format: 'der',
      type: 'spki',
    });
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}
