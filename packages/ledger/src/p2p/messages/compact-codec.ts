/**
 * BIP 152 data structures on the wire ("New data structures"): HeaderAndShortIDs,
 * PrefilledTransaction (differentially encoded indexes), BlockTransactionsRequest and
 * BlockTransactions. Every count is bounded by the bytes actually present and every index by
 * 16 bits ("the index ... MUST fit in a uint16"), so decoding is total and allocation-bounded.
 */
import type { Reader } from '../../encoding/reader';
import type { Writer } from '../../encoding/writer';
import { LedgerError } from '../../errors';
import { readBlockHeader, writeBlockHeader } from '../../primitives/block';
import { readTransaction, writeTransaction } from '../../primitives/transaction';
import { MAX_COMPACT_INDEX, MIN_TX_SIZE } from '../constants';
import type { BlockTxn, BlockTxnRequest, CompactBlock, PrefilledTransaction } from './types';

/** Bytes in a short transaction id (BIP 152, "Short transaction IDs": 6 bytes). */
export const SHORT_ID_SIZE = 6;

export function readCompactBlock(r: Reader): CompactBlock {
  const header = readBlockHeader(r);
  const nonce = r.u64le();
  const nShort = r.compactSize(Math.floor(r.remaining / SHORT_ID_SIZE));
  const shortIds: number[] = new Array(nShort);
  for (let i = 0; i < nShort; i++) {
    const b = r.bytes(SHORT_ID_SIZE);
    // 48-bit little-endian: low 32 bits plus the high 16 bits times 2^32.
    shortIds[i] =
      ((b[0] as number) | ((b[1] as number) << 8) | ((b[2] as number) << 16)) +
      (b[3] as number) * 0x1000000 +
      ((b[4] as number) | ((b[5] as number) << 8)) * 0x100000000;
  }
  const nPre = r.compactSize(Math.floor(r.remaining / (1 + MIN_TX_SIZE)));
  const prefilled: PrefilledTransaction[] = [];
  let last = -1;
  for (let i = 0; i < nPre; i++) {
    const index = last + 1 + r.compactSize(MAX_COMPACT_INDEX);
    if (index > MAX_COMPACT_INDEX)
      throw new LedgerError('DECODE', 'cmpctblock: prefilled index above 65535');
    prefilled.push({ index, tx: readTransaction(r) });
    last = index;
  }
  if (nShort + nPre > MAX_COMPACT_INDEX + 1)
    throw new LedgerError('DECODE', 'cmpctblock: more than 65536 transactions');
  return { header, nonce, shortIds, prefilled };
}

export function writeCompactBlock(w: Writer, c: CompactBlock, witness: boolean): void {
  writeBlockHeader(w, c.header);
  w.u64le(c.nonce);
  w.compactSize(c.shortIds.length);
  for (const id of c.shortIds) {
    const low = id % 0x100000000;
    const high = Math.floor(id / 0x100000000);
    w.u32le(low >>> 0);
    w.u16le(high & 0xffff);
  }
  w.compactSize(c.prefilled.length);
  let last = -1;
  for (const p of c.prefilled) {
    if (p.index <= last)
      throw new LedgerError('PROTOCOL', 'cmpctblock: prefilled indexes must increase');
    w.compactSize(p.index - last - 1);
    writeTransaction(w, p.tx, { witness });
    last = p.index;
  }
}

export function readBlockTxnRequest(r: Reader): BlockTxnRequest {
  const blockHash = r.hash().slice();
  const n = r.compactSize(Math.min(r.remaining, MAX_COMPACT_INDEX + 1));
  const indexes: number[] = [];
  let last = -1;
  for (let i = 0; i < n; i++) {
    const index = last + 1 + r.compactSize(MAX_COMPACT_INDEX);
    if (index > MAX_COMPACT_INDEX)
      throw new LedgerError('DECODE', 'getblocktxn: index above 65535');
    indexes.push(index);
    last = index;
  }
  return { blockHash, indexes };
}

export function writeBlockTxnRequest(w: Writer, req: BlockTxnRequest): void {
  w.bytes(req.blockHash);
  w.compactSize(req.indexes.length);
  let last = -1;
  for (const index of req.indexes) {
    if (index <= last) throw new LedgerError('PROTOCOL', 'getblocktxn: indexes must increase');
    w.compactSize(index - last - 1);
    last = index;
  }
}

export function readBlockTxn(r: Reader): BlockTxn {
  const blockHash = r.hash().slice();
  const n = r.compactSize(Math.floor(r.remaining / MIN_TX_SIZE));
  const transactions = [];
  for (let i = 0; i < n; i++) transactions.push(readTransaction(r));
  return { blockHash, transactions };
}

export function writeBlockTxn(w: Writer, res: BlockTxn, witness: boolean): void {
  w.bytes(res.blockHash);
  w.compactSize(res.transactions.length);
  for (const tx of res.transactions) writeTransaction(w, tx, { witness });
}
