/**
 * Transactions (developer reference, transactions.rst "Raw Transaction Format") and the
 * segregated-witness serialization of BIP 144 ("Transaction serialization": marker 0x00,
 * flag 0x01, one witness stack per input before nLockTime).
 *
 * Decoding mirrors Bitcoin Core's UnserializeTransaction, so any bytes either decode to a
 * transaction whose re-encoding is exactly those bytes, or throw `LedgerError('DECODE')`:
 * - an empty input list followed by a non-zero byte is the BIP 144 marker and flag;
 * - a flag other than 0x01 is rejected ("unknown transaction optional data");
 * - a witness flag with every witness stack empty is rejected ("superfluous witness record").
 * One consequence (Core has it too): a transaction with no inputs but with outputs cannot be
 * written without ambiguity; it is never valid anyway.
 */

import { Reader } from '../encoding/reader';
import { Writer } from '../encoding/writer';
import { LedgerError } from '../errors';
import { hash256 } from '../hash';

export interface OutPoint {
  /** The txid of the transaction whose output is spent (internal byte order). */
  txid: Uint8Array;
  /** The index of that output. */
  index: number;
}

export interface TxIn {
  prevout: OutPoint;
  scriptSig: Uint8Array;
  sequence: number;
  /** The input's witness stack (BIP 141); empty for a legacy input. */
  witness: Uint8Array[];
}

export interface TxOut {
  /** Satoshis. */
  value: bigint;
  scriptPubKey: Uint8Array;
}

export interface Transaction {
  version: number;
  inputs: TxIn[];
  outputs: TxOut[];
  lockTime: number;
}

/** The smallest serialized input (32-byte txid, 4-byte index, empty script, 4-byte sequence). */
const MIN_TXIN_SIZE = 41;
/** The smallest serialized output (8-byte value, empty script). */
const MIN_TXOUT_SIZE = 9;

function readOutPoint(r: Reader): OutPoint {
  // Copy the txid: it outlives the buffer it came from (mempool, UTXO set).
  return { txid: r.hash().slice(), index: r.u32le() };
}

function readInputs(r: Reader): TxIn[] {
  const n = r.compactSize(Math.floor(r.remaining / MIN_TXIN_SIZE));
  const inputs: TxIn[] = [];
  for (let i = 0; i < n; i++) {
    const prevout = readOutPoint(r);
    const scriptSig = r.varBytes(r.remaining).slice();
    const sequence = r.u32le();
    inputs.push({ prevout, scriptSig, sequence, witness: [] });
  }
  return inputs;
}

function readOutputs(r: Reader): TxOut[] {
  const n = r.compactSize(Math.floor(r.remaining / MIN_TXOUT_SIZE));
  const outputs: TxOut[] = [];
  for (let i = 0; i < n; i++) {
    const value = r.i64le();
    const scriptPubKey = r.varBytes(r.remaining).slice();
    outputs.push({ value, scriptPubKey });
  }
  return outputs;
}

/** True when any input carries a non-empty witness stack (Core's CTransaction::HasWitness). */
export function hasWitness(tx: Transaction): boolean {
  return tx.inputs.some((input) => input.witness.length > 0);
}

/** Reads one transaction, legacy or BIP 144 serialization, from `r`. */
export function readTransaction(r: Reader): Transaction {
  const version = r.i32le();
  let inputs = readInputs(r);
  let outputs: TxOut[] = [];
  let flags = 0;
  if (inputs.length === 0) {
    // BIP 144: an empty input list is the marker; the next byte is the flag.
    flags = r.u8();
    if (flags !== 0) {
      inputs = readInputs(r);
      outputs = readOutputs(r);
    }
  } else {
    outputs = readOutputs(r);
  }
  if (flags & 1) {
    flags ^= 1;
    for (const input of inputs) {
      const count = r.compactSize(r.remaining);
      for (let i = 0; i < count; i++) input.witness.push(r.varBytes(r.remaining).slice());
    }
    if (!inputs.some((input) => input.witness.length > 0)) {
      throw new LedgerError('DECODE', 'superfluous witness record');
    }
  }
  if (flags !== 0) throw new LedgerError('DECODE', 'unknown transaction optional data');
  const lockTime = r.u32le();
  return { version, inputs, outputs, lockTime };
}

/**
 * Writes `tx`. With `witness` (the default) and a transaction that has witness data, the
 * BIP 144 form; otherwise the legacy form (the one txids hash).
 */
export function writeTransaction(
  w: Writer,
  tx: Transaction,
  options?: { witness?: boolean },
): void {
  const withWitness = (options?.witness ?? true) && hasWitness(tx);
  w.i32le(tx.version);
  if (withWitness) w.u8(0).u8(1);
  w.compactSize(tx.inputs.length);
  for (const input of tx.inputs) {
    w.bytes(input.prevout.txid).u32le(input.prevout.index);
    w.varBytes(input.scriptSig).u32le(input.sequence);
  }
  w.compactSize(tx.outputs.length);
  for (const output of tx.outputs) w.i64le(output.value).varBytes(output.scriptPubKey);
  if (withWitness) {
    for (const input of tx.inputs) {
      w.compactSize(input.witness.length);
      for (const item of input.witness) w.varBytes(item);
    }
  }
  w.u32le(tx.lockTime);
}

export function encodeTransaction(tx: Transaction, options?: { witness?: boolean }): Uint8Array {
  const w = new Writer(256);
  writeTransaction(w, tx, options);
  return w.finish();
}

/** Decodes exactly one transaction filling all of `bytes` (trailing bytes are an error). */
export function decodeTransaction(bytes: Uint8Array): Transaction {
  const r = new Reader(bytes);
  const tx = readTransaction(r);
  r.end();
  return tx;
}

/**
 * A scratch writer for the hashes and sizes below, which need the serialization only for a
 * moment: reusing one buffer avoids an allocation and a copy per call (hot when connecting
 * blocks). Nothing here can re-enter while it is in use.
 */
const scratch = new Writer(1024);

function serialized(tx: Transaction, witness: boolean): Uint8Array {
  writeTransaction(scratch.reset(), tx, { witness });
  return scratch.view();
}

/** The transaction id: hash256 of the legacy (non-witness) serialization. */
export function txid(tx: Transaction): Uint8Array {
  return hash256(serialized(tx, false));
}

/** The witness transaction id (BIP 141): hash256 of the BIP 144 serialization. */
export function wtxid(tx: Transaction): Uint8Array {
  return hasWitness(tx) ? hash256(serialized(tx, true)) : txid(tx);
}

/** A coinbase has exactly one input, spending the null outpoint (all-zero txid, index 0xffffffff). */
export function isCoinbase(tx: Transaction): boolean {
  if (tx.inputs.length !== 1) return false;
  const prevout = tx.inputs[0]?.prevout;
  return (
    prevout !== undefined && prevout.index === 0xffffffff && prevout.txid.every((b) => b === 0)
  );
}

/** Size in bytes of the legacy serialization (BIP 141 "base size"). */
export function baseSize(tx: Transaction): number {
  return serialized(tx, false).length;
}

/** Size in bytes of the full serialization (BIP 141 "total size"). */
export function totalSize(tx: Transaction): number {
  return serialized(tx, true).length;
}

/** BIP 141 weight: base size × 3 + total size. */
export function txWeight(tx: Transaction): number {
  const base = baseSize(tx);
  return hasWitness(tx) ? base * 3 + totalSize(tx) : base * 4;
}

/** BIP 141 virtual size: weight / 4, rounded up. */
export function txVsize(tx: Transaction): number {
  return Math.ceil(txWeight(tx) / 4);
}
