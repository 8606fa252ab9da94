/**
 * Blocks and block headers (developer reference, block_chain.rst "Block Headers" and
 * "Serialized Blocks") and the merkle root (Bitcoin Core consensus/merkle.cpp).
 */

import { Reader } from '../encoding/reader';
import { compactSizeLength, Writer } from '../encoding/writer';
import { bytesEqual, hash256 } from '../hash';
import { readTransaction, type Transaction, txWeight, writeTransaction } from './transaction';

export interface BlockHeader {
  version: number;
  /** hash of the previous block's header (internal byte order). */
  prevBlock: Uint8Array;
  merkleRoot: Uint8Array;
  /** Unix time in seconds. */
  time: number;
  /** The compact ("nBits") encoding of the proof-of-work target. */
  bits: number;
  nonce: number;
}

export interface Block {
  header: BlockHeader;
  transactions: Transaction[];
}

/** A serialized header is always 80 bytes. */
export const BLOCK_HEADER_SIZE = 80;
/** The smallest serialized transaction (version, no input, no output, lock time: 10 bytes). */
const MIN_TX_SIZE = 10;

export function readBlockHeader(r: Reader): BlockHeader {
  return {
    version: r.i32le(),
    prevBlock: r.hash().slice(),
    merkleRoot: r.hash().slice(),
    time: r.u32le(),
    bits: r.u32le(),
    nonce: r.u32le(),
  };
}

export function writeBlockHeader(w: Writer, h: BlockHeader): void {
  w.i32le(h.version)
    .bytes(h.prevBlock)
    .bytes(h.merkleRoot)
    .u32le(h.time)
    .u32le(h.bits)
    .u32le(h.nonce);
}

/** The 80-byte serialization. */
export function encodeBlockHeader(h: BlockHeader): Uint8Array {
  const w = new Writer(BLOCK_HEADER_SIZE);
  writeBlockHeader(w, h);
  return w.finish();
}

/** The block hash: hash256 of the 80-byte header (internal byte order). */
export function blockHash(h: BlockHeader): Uint8Array {
  return hash256(encodeBlockHeader(h));
}

export function decodeBlockHeader(bytes: Uint8Array): BlockHeader {
  const r = new Reader(bytes);
  const h = readBlockHeader(r);
  r.end();
  return h;
}

/** Reads a header, a CompactSize transaction count and the transactions. */
export function readBlock(r: Reader): Block {
  const header = readBlockHeader(r);
  const n = r.compactSize(Math.floor(r.remaining / MIN_TX_SIZE));
  const transactions: Transaction[] = [];
  for (let i = 0; i < n; i++) transactions.push(readTransaction(r));
  return { header, transactions };
}

export function writeBlock(w: Writer, b: Block, options?: { witness?: boolean }): void {
  writeBlockHeader(w, b.header);
  w.compactSize(b.transactions.length);
  for (const tx of b.transactions) writeTransaction(w, tx, options);
}

/** The serialized block; `witness: false` strips witness data (the pre-segwit form). */
export function encodeBlock(b: Block, options?: { witness?: boolean }): Uint8Array {
  const w = new Writer(1024);
  writeBlock(w, b, options);
  return w.finish();
}

/** Decodes exactly one block filling all of `bytes`. */
export function decodeBlock(bytes: Uint8Array): Block {
  const r = new Reader(bytes);
  const b = readBlock(r);
  r.end();
  return b;
}

/**
 * The merkle root of a list of hashes (Core's ComputeMerkleRoot): pair hashes level by level,
 * duplicating the last one of an odd level. `mutated` reports CVE-2012-2459: two identical
 * hashes paired at some level, which lets a different transaction list (with a duplicated
 * subtree) have the same root; a block whose root is `mutated` is invalid.
 * The root of an empty list is 32 zero bytes.
 */
export function merkleRoot(hashes: Uint8Array[]): { root: Uint8Array; mutated: boolean } {
  if (hashes.length === 0) return { root: new Uint8Array(32), mutated: false };
  let level = hashes;
  let mutated = false;
  const pair = new Uint8Array(64);
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i] as Uint8Array;
      const right = level[i + 1];
      if (right !== undefined && bytesEqual(left, right)) mutated = true;
      pair.set(left, 0);
      pair.set(right ?? left, 32);
      next.push(hash256(pair));
    }
    level = next;
  }
  return { root: level[0] as Uint8Array, mutated };
}

/** Size of the serialized block, including witness data. */
export function blockSize(b: Block): number {
  return encodeBlock(b, { witness: true }).length;
}

/** BIP 141 block weight: stripped size × 3 + total size (header and count weigh 4 per byte). */
export function blockWeight(b: Block): number {
  let weight = 4 * (BLOCK_HEADER_SIZE + compactSizeLength(b.transactions.length));
  for (const tx of b.transactions) weight += txWeight(tx);
  return weight;
}
