/**
 * Message signing (pubsub/README.md, "Message Signing"), with peerkit's own signed bytes:
 *
 *   signed = "peerkit-gossip/v1\n" || from (32 bytes) || seqno (uint64 big-endian)
 *            || topic length (uint32 big-endian) || topic (UTF-8) || data
 *
 * The signature is Ed25519 (RFC 8032, node:crypto) by the key whose public half is `from`.
 * Length-prefixing the topic makes the encoding injective: no two (from, seqno, topic, data)
 * tuples share signed bytes.
 */
import { Buffer } from 'node:buffer';
import {
  createPrivateKey,
  createPublicKey,
  sign as edSign,
  verify as edVerify,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { GossipError } from './errors';

const DOMAIN = Buffer.from('peerkit-gossip/v1\n', 'utf8');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** A node's signing identity: an Ed25519 key pair; `publicKey` is the node's peer id. */
export class Identity {
  readonly publicKey: Uint8Array;
  private readonly privateKey: KeyObject;

  private constructor(privateKey: KeyObject) {
    this.privateKey = privateKey;
    const der = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
    this.publicKey = new Uint8Array(der.subarray(SPKI_PREFIX.length));
  }

  /** A fresh random identity (node:crypto). */
  static generate(): Identity {
    return new Identity(generateKeyPairSync('ed25519').privateKey);
  }

  /** The identity of a 32-byte Ed25519 seed (e.g. drawn from a simulation's `network.random`). */
  static fromSeed(seed: Uint8Array): Identity {
    if (seed.length !== 32) throw new GossipError('INVALID_OPTION', 'an Ed25519 seed is 32 bytes');
    const der = Buffer.concat([PKCS8_PREFIX, seed]);
    return new Identity(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
  }

  sign(bytes: Uint8Array): Uint8Array {
    return new Uint8Array(edSign(null, bytes, this.privateKey));
  }
}

/** The exact bytes a message signature covers (module comment). */
export function signedBytes(
  from: Uint8Array,
  seqno: number,
  topic: string,
  data: Uint8Array,
): Uint8Array {
  const topicBytes = Buffer.from(topic, 'utf8');
  const out = Buffer.allocUnsafe(DOMAIN.length + 32 + 8 + 4 + topicBytes.length + data.length);
  let o = DOMAIN.copy(out, 0);
  out.set(from, o);
  o += 32;
  out.writeBigUInt64BE(BigInt(seqno), o);
  o += 8;
  out.writeUInt32BE(topicBytes.length, o);
  o += 4;
  o += topicBytes.copy(out, o);
  out.set(data, o);
  return out;
}

/**
 * Parsed public keys of recent authors, shared by every verifier of the process (a KeyObject
 * holds public data only); bounded: cleared when it reaches `MAX_KEYS`.
 */
const keyCache = new Map<string, KeyObject>();
const MAX_KEYS = 8192;

/** Verifies message signatures. */
export class SignatureVerifier {
  verify(from: Uint8Array, signed: Uint8Array, sig: Uint8Array): boolean {
    const k = Buffer.from(from.buffer, from.byteOffset, from.byteLength).toString('latin1');
    let key = keyCache.get(k);
    if (key === undefined) {
      try {
        key = createPublicKey({
          key: Buffer.concat([SPKI_PREFIX, from]),
          format: 'der',
          type: 'spki',
        });
      } catch {
        return false; // not a point on the curve: no valid signature can exist
      }
      if (keyCache.size >= MAX_KEYS) keyCache.clear();
      keyCache.set(k, key);
    }
    try {
      return edVerify(null, signed, key, sig);
    } catch {
      return false;
    }
  }
}
