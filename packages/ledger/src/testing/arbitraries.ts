/**
 * fast-check arbitraries for ledger values: transactions (legacy and BIP 144 witness forms),
 * headers and blocks. Used by this package's property tests and exported for yours.
 */
import fc from 'fast-check';
import type { Block, BlockHeader } from '../primitives/block';
import type { OutPoint, Transaction, TxIn, TxOut } from '../primitives/transaction';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });

export function arbHash(): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ minLength: 32, maxLength: 32 });
}

export function arbScript(maxLength = 120): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ maxLength });
}

export function arbOutPoint(): fc.Arbitrary<OutPoint> {
  return fc.record({ txid: arbHash(), index: u32 });
}

export function arbTxIn(options: { witness?: boolean } = {}): fc.Arbitrary<TxIn> {
  return fc.record({
    prevout: arbOutPoint(),
    scriptSig: arbScript(),
    sequence: u32,
    witness: options.witness
      ? fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 4 })
      : fc.constant([]),
  });
}

export function arbTxOut(): fc.Arbitrary<TxOut> {
  return fc.record({
    value: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
    scriptPubKey: arbScript(),
  });
}

/**
 * A transaction with at least one input (a transaction with no inputs has no unambiguous
 * serialization, see primitives/transaction.ts). With `witness`, inputs may carry witness stacks.
 */
export function arbTransaction(
  options: { witness?: boolean; maxInputs?: number; maxOutputs?: number } = {},
): fc.Arbitrary<Transaction> {
  return fc.record({
    version: i32,
    inputs: fc.array(arbTxIn(options), { minLength: 1, maxLength: options.maxInputs ?? 4 }),
    outputs: fc.array(arbTxOut(), { maxLength: options.maxOutputs ?? 4 }),
    lockTime: u32,
  });
}

export function arbBlockHeader(): fc.Arbitrary<BlockHeader> {
  return fc.record({
    version: i32,
    prevBlock: arbHash(),
    merkleRoot: arbHash(),
    time: u32,
    bits: u32,
    nonce: u32,
  });
}

export function arbBlock(
  options: { witness?: boolean; maxTransactions?: number } = {},
): fc.Arbitrary<Block> {
  return fc.record({
    header: arbBlockHeader(),
    transactions: fc.array(
      arbTransaction({ witness: options.witness, maxInputs: 3, maxOutputs: 3 }),
      {
        maxLength: options.maxTransactions ?? 5,
      },
    ),
  });
}
