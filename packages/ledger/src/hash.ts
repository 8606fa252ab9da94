/**
 * The hash functions of Bitcoin (developer reference, "Hashes"): SHA-256, double SHA-256
 * (`hash256`, used for txids, block hashes, merkle nodes, sighash) and RIPEMD-160 of SHA-256
 * (`hash160`, used for P2PKH). All from node:crypto.
 *
 * Hashes are `Uint8Array`s in internal byte order: the order they have on the wire and in the
 * serialized structures. bitcoind (and block explorers) print them reversed; `hashToHex` and
 * `hashFromHex` convert to and from that display order.
 */
import { createHash } from 'node:crypto';
import { parseHex, toHex } from '@peerkit/transport';
import { LedgerError } from './errors';

export function sha256(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(b).digest());
}

/** SHA-256 applied twice: SHA256(SHA256(b)). */
export function hash256(b: Uint8Array): Uint8Array {
  const first = createHash('sha256').update(b).digest();
  return new Uint8Array(createHash('sha256').update(first).digest());
}

/** RIPEMD-160 of SHA-256: the 20-byte public-key hash of P2PKH. */
export function hash160(b: Uint8Array): Uint8Array {
  const first = createHash('sha256').update(b).digest();
  return new Uint8Array(createHash('ripemd160').update(first).digest());
}

/** Hex in display order (reversed), as bitcoind prints txids and block hashes. */
export function hashToHex(h: Uint8Array): string {
  return Buffer.from(h).reverse().toString('hex');
}

/** The inverse of `hashToHex`: 64 hex digits in display order to internal byte order. */
export function hashFromHex(s: string): Uint8Array {
  if (!/^[0-9a-fA-F]{64}$/.test(s))
    throw new LedgerError('DECODE', `not a 32-byte hash in hex: ${s.slice(0, 80)}`);
  return new Uint8Array(Buffer.from(s, 'hex').reverse());
}

/** True when two byte arrays hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Plain (non-reversed) hex of bytes, for keys of maps and for logs: transport's `toHex`. */
export { toHex };

/** Bytes from plain hex (even length, hex digits only). */
export function fromHex(s: string): Uint8Array {
  const bytes = parseHex(s);
  if (bytes === undefined) throw new LedgerError('DECODE', 'not hex');
  return bytes;
}
