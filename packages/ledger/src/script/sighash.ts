/**
 * The legacy (pre-segwit) signature hash (developer reference, devguide/transactions.rst
 * "Signature Hash Types"; Bitcoin Core script/interpreter.cpp SignatureHash with
 * SigVersion::BASE and CTransactionSignatureSerializer).
 *
 * The signed message is a modified copy of the spending transaction:
 * - the input being signed carries the scriptCode with every OP_CODESEPARATOR removed, the
 *   other inputs carry an empty script;
 * - SIGHASH_NONE: no outputs, and the other inputs' sequence numbers are 0;
 * - SIGHASH_SINGLE: only the outputs up to the signed input's index, the earlier ones
 *   "blanked" (value -1, empty script), and the other inputs' sequences are 0;
 * - SIGHASH_ANYONECANPAY: only the signed input;
 * - the 4-byte hash type is appended, and the whole is hashed with double SHA-256.
 *
 * Two historical quirks are kept because consensus depends on them: an input index past the
 * inputs, or SIGHASH_SINGLE with no output at that index, yield the "hash" 1 (uint256 one)
 * instead of failing.
 */
import { createHash } from 'node:crypto';
import { Writer } from '../encoding/writer';
import type { Transaction } from '../primitives/transaction';
import { OP_CODESEPARATOR, SIGHASH_ANYONECANPAY, SIGHASH_NONE, SIGHASH_SINGLE } from './opcodes';
import { getOp } from './script';

/** The digest 1 (little-endian uint256 one) of the two out-of-range cases. */
export const SIGHASH_ONE: Uint8Array = (() => {
  const one = new Uint8Array(32);
  one[0] = 1;
  return one;
})();

/** What a signature commits to: the preimage's single SHA-256 and the sighash (its double). */
export interface SignatureDigest {
  /** SHA-256 of the serialized preimage, or undefined for the SIGHASH_ONE quirk (no preimage). */
  preimageSha256?: Uint8Array;
  /** hash256 of the preimage (or SIGHASH_ONE): the 32 bytes ECDSA signs. */
  sighash: Uint8Array;
}

/** Core's SerializeScriptCode: the script without its OP_CODESEPARATORs, byte-exact quirks included. */
function writeScriptCode(w: Writer, scriptCode: Uint8Array): void {
  let separators = 0;
  for (let pc = 0; ; ) {
    const { op } = getOp(scriptCode, pc);
    if (op === undefined) break;
    if (op.opcode === OP_CODESEPARATOR) separators++;
    pc = op.end;
  }
  w.compactSize(scriptCode.length - separators);
  let begin = 0;
  let pc = 0;
  for (;;) {
    const { op, stoppedAt } = getOp(scriptCode, pc);
    if (op === undefined) {
      pc = stoppedAt;
      break;
    }
    pc = op.end;
    if (op.opcode === OP_CODESEPARATOR) {
      w.bytes(scriptCode.subarray(begin, pc - 1));
      begin = pc;
    }
  }
  if (begin !== scriptCode.length) w.bytes(scriptCode.subarray(begin, pc));
}

/** The serialized preimage of the legacy signature hash, or undefined for the SIGHASH_ONE cases. */
export function legacySighashPreimage(
  tx: Transaction,
  inputIndex: number,
  scriptCode: Uint8Array,
  hashType: number,
): Uint8Array | undefined {
  if (inputIndex >= tx.inputs.length) return undefined;
  const base = hashType & 0x1f;
  const anyoneCanPay = (hashType & SIGHASH_ANYONECANPAY) !== 0;
  const single = base === SIGHASH_SINGLE;
  const none = base === SIGHASH_NONE;
  if (single && inputIndex >= tx.outputs.length) return undefined;

  const w = new Writer(256 + scriptCode.length);
  w.i32le(tx.version);
  const inputs = anyoneCanPay ? [inputIndex] : tx.inputs.map((_, i) => i);
  w.compactSize(inputs.length);
  for (const i of inputs) {
    const input = tx.inputs[i];
    if (input === undefined) continue;
    w.bytes(input.prevout.txid).u32le(input.prevout.index);
    if (i === inputIndex) writeScriptCode(w, scriptCode);
    else w.compactSize(0);
    w.u32le(i !== inputIndex && (single || none) ? 0 : input.sequence);
  }
  const outputCount = none ? 0 : single ? inputIndex + 1 : tx.outputs.length;
  w.compactSize(outputCount);
  for (let i = 0; i < outputCount; i++) {
    const output = tx.outputs[i];
    if (output === undefined) continue;
    if (single && i !== inputIndex) w.i64le(-1n).compactSize(0);
    else w.i64le(output.value).varBytes(output.scriptPubKey);
  }
  w.u32le(tx.lockTime);
  w.i32le(hashType);
  return w.finish();
}

/** The legacy signature hash and the single SHA-256 that node:crypto's verify needs (see crypto/ecdsa.ts). */
export function legacySighash(
  tx: Transaction,
  inputIndex: number,
  scriptCode: Uint8Array,
  hashType: number,
): SignatureDigest {
  const preimage = legacySighashPreimage(tx, inputIndex, scriptCode, hashType);
  if (preimage === undefined) return { sighash: SIGHASH_ONE };
  const first = createHash('sha256').update(preimage).digest();
  const sighash = createHash('sha256').update(first).digest();
  return { preimageSha256: new Uint8Array(first), sighash: new Uint8Array(sighash) };
}
