/**
 * MSE/PE key material (mse.txt "DH Parameters", "Functions"): the Diffie-Hellman exchange over
 * the 768-bit safe prime with generator 2, and the SHA-1 `HASH()` values derived from the
 * shared secret S and the stream key SKEY (the info-hash for BitTorrent).
 */
import { createDiffieHellman, createHash, type DiffieHellman } from 'node:crypto';
import { MseError } from './errors';
import { Rc4 } from './rc4';

/** P: the 768-bit safe prime (mse.txt). P, S, Ya and Yb are 96 bytes. */
export const MSE_PRIME = Buffer.from(
  'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563',
  'hex',
);
export const DH_KEY_LENGTH = 96;
/** Private key length: 160 bits, the spec's recommendation. */
export const PRIVATE_KEY_LENGTH = 20;
const GENERATOR = Buffer.from([2]);

/**
 * One DiffieHellman object for the process: creating one checks the prime (tens of ms), so
 * it is created once; each use sets the private key and computes in the same synchronous call.
 * Ya = G^Xa mod P is `computeSecret(G)`.
 */
let group: DiffieHellman | undefined;
function dh(privateKey: Uint8Array): DiffieHellman {
  group ??= createDiffieHellman(MSE_PRIME, GENERATOR);
  group.setPrivateKey(privateKey);
  return group;
}

/** Left-pads a big-endian number to 96 bytes (node drops leading zero bytes). */
function pad96(value: Uint8Array): Uint8Array {
  if (value.length === DH_KEY_LENGTH) return new Uint8Array(value);
  const out = new Uint8Array(DH_KEY_LENGTH);
  out.set(value.subarray(Math.max(0, value.length - DH_KEY_LENGTH)), DH_KEY_LENGTH - value.length);
  return out;
}

/** Y = G^X mod P, 96 bytes. */
export function dhPublicKey(privateKey: Uint8Array): Uint8Array {
  return pad96(dh(privateKey).computeSecret(GENERATOR));
}

/**
 * S = Y_remote^X mod P, 96 bytes. A remote key outside 2..P-2 (which would make S guessable)
 * is refused with `MseError` `INVALID_PUBLIC_KEY`.
 */
export function dhSecret(privateKey: Uint8Array, remotePublicKey: Uint8Array): Uint8Array {
  try {
    return pad96(dh(privateKey).computeSecret(remotePublicKey));
  } catch (error) {
    throw new MseError('INVALID_PUBLIC_KEY', 'remote Diffie-Hellman key is unusable', {
      cause: error,
    });
  }
}

const ascii = (s: string) => Buffer.from(s, 'latin1');

/** HASH(): SHA-1 of the concatenation. */
export function hash(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** HASH('req1', S): the synchronisation point B scans for. */
export const req1Hash = (s: Uint8Array) => hash(ascii('req1'), s);
/** HASH('req2', SKEY): what B looks its stream keys up by. */
export const req2Hash = (skey: Uint8Array) => hash(ascii('req2'), skey);
/** HASH('req3', S). */
export const req3Hash = (s: Uint8Array) => hash(ascii('req3'), s);

export function xor20(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(20);
  for (let i = 0; i < 20; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** The RC4-drop-1024 cipher A encrypts with (and B decrypts with): HASH('keyA', S, SKEY). */
export const cipherA = (s: Uint8Array, skey: Uint8Array) =>
  Rc4.forMse(hash(ascii('keyA'), s, skey));
/** The cipher B encrypts with (and A decrypts with): HASH('keyB', S, SKEY). */
export const cipherB = (s: Uint8Array, skey: Uint8Array) =>
  Rc4.forMse(hash(ascii('keyB'), s, skey));
