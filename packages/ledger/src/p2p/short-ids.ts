/**
 * BIP 152 "Short transaction IDs": the SipHash-2-4 keys come from
 * SHA256(block header || nonce as 8 little-endian bytes), k0 and k1 being its first two
 * little-endian 64-bit words; the short id is SipHash-2-4(k0, k1, txid) with the two most
 * significant bytes dropped (6 bytes). Version 1 hashes txids, version 2 wtxids.
 */
import { sha256 } from '../hash';
import { type BlockHeader, encodeBlockHeader } from '../primitives/block';
import { siphash24 } from './siphash';

export interface ShortIdKeys {
  k0: bigint;
  k1: bigint;
}

export function shortIdKeys(header: BlockHeader, nonce: bigint): ShortIdKeys {
  const pre = new Uint8Array(88);
  pre.set(encodeBlockHeader(header), 0);
  new DataView(pre.buffer).setBigUint64(80, nonce, true);
  const h = sha256(pre);
  const view = new DataView(h.buffer, h.byteOffset, 32);
  return { k0: view.getBigUint64(0, true), k1: view.getBigUint64(8, true) };
}

/** The 48-bit short id of a transaction hash (txid for version 1, wtxid for version 2). */
export function shortId(keys: ShortIdKeys, hash: Uint8Array): number {
  return Number(siphash24(keys.k0, keys.k1, hash) & 0xffffffffffffn);
}
