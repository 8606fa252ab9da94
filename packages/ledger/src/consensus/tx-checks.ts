/**
 * Context-free transaction rules (Core consensus/tx_check.cpp CheckTransaction) and finality
 * (Core IsFinalTx; developer reference devguide/transactions.rst "Locktime and Sequence Number").
 */
import { LedgerError } from '../errors';
import { toHex } from '../hash';
import type { ChainParams } from '../params';
import { baseSize, isCoinbase, type Transaction } from '../primitives/transaction';

function invalid(reason: string): never {
  throw new LedgerError('INVALID_TX', reason);
}

/** Throws LedgerError('INVALID_TX', <Core's reject reason>) for a transaction no block may hold. */
export function checkTransaction(tx: Transaction, params: ChainParams): void {
  if (tx.inputs.length === 0) invalid('bad-txns-vin-empty');
  if (tx.outputs.length === 0) invalid('bad-txns-vout-empty');
  // The stripped size alone must fit a block (MAX_BLOCK_WEIGHT / WITNESS_SCALE_FACTOR).
  if (baseSize(tx) * 4 > params.maxBlockWeight) invalid('bad-txns-oversize');
  let total = 0n;
  for (const output of tx.outputs) {
    if (output.value < 0n) invalid('bad-txns-vout-negative');
    if (output.value > params.maxMoney) invalid('bad-txns-vout-toolarge');
    total += output.value;
    if (total > params.maxMoney) invalid('bad-txns-txouttotal-toolarge');
  }
  const seen = new Set<string>();
  for (const input of tx.inputs) {
    const key = `${toHex(input.prevout.txid)}:${input.prevout.index}`;
    if (seen.has(key)) invalid('bad-txns-inputs-duplicate');
    seen.add(key);
  }
  if (isCoinbase(tx)) {
    const length = tx.inputs[0]?.scriptSig.length ?? 0;
    if (length < 2 || length > 100) invalid('bad-cb-length');
  } else {
    for (const input of tx.inputs) {
      if (input.prevout.index === 0xffffffff && input.prevout.txid.every((b) => b === 0))
        invalid('bad-txns-prevout-null');
    }
  }
}

/** Lock times below this are block heights, at or above it Unix times (LOCKTIME_THRESHOLD). */
export const LOCKTIME_THRESHOLD = 500_000_000;

/**
 * IsFinalTx: a lock time of 0, or one already passed (a height below `height`, or a time
 * below `time`, the median time past of the previous block), or every input's sequence final.
 */
export function isFinalTx(tx: Transaction, height: number, time: number): boolean {
  if (tx.lockTime === 0) return true;
  if (tx.lockTime < (tx.lockTime < LOCKTIME_THRESHOLD ? height : time)) return true;
  return tx.inputs.every((input) => input.sequence === 0xffffffff);
}
