/**
 * A script interpreter for the subset peerkit's ledger verifies (README "Consensus subset"):
 * every push form, OP_NOP and the upgradable NOPs, OP_VERIFY, OP_RETURN, OP_DROP, OP_DUP,
 * OP_EQUAL(VERIFY), OP_RIPEMD160, OP_SHA256, OP_HASH160, OP_HASH256, OP_CODESEPARATOR and
 * OP_CHECKSIG(VERIFY) with the legacy sighash. That is enough for the standard templates
 * P2PKH and P2PK and their usual spends; any other opcode makes the script fail with
 * UNSUPPORTED_OPCODE (it is never silently treated as success).
 *
 * The rules follow Bitcoin Core's EvalScript / VerifyScript (script/interpreter.cpp): script
 * size ≤ 10,000, pushes ≤ 520 bytes, ≤ 201 non-push operations, ≤ 1,000 stack items; a
 * script is true when the final stack is non-empty and its top is not zero (CastToBool).
 */
import { createHash } from 'node:crypto';
import { isLowS, isValidSignatureEncoding } from '../crypto/der';
import { isValidPublicKey, verifyRawDigest, verifySignature } from '../crypto/ecdsa';
import { hash160, hash256, sha256 } from '../hash';
import type { Transaction } from '../primitives/transaction';
import {
  OP_1NEGATE,
  OP_16,
  OP_CHECKSIG,
  OP_CHECKSIGVERIFY,
  OP_CODESEPARATOR,
  OP_DROP,
  OP_DUP,
  OP_EQUAL,
  OP_EQUALVERIFY,
  OP_HASH160,
  OP_HASH256,
  OP_NOP,
  OP_PUSHDATA4,
  OP_RETURN,
  OP_RIPEMD160,
  OP_SHA256,
  OP_VERIFY,
  SIGHASH_ALL,
  SIGHASH_ANYONECANPAY,
  SIGHASH_SINGLE,
} from './opcodes';
import { findAndDelete, getOp, isPushOnly, pushData } from './script';
import { legacySighash } from './sighash';

export const MAX_SCRIPT_SIZE = 10_000;
export const MAX_SCRIPT_ELEMENT_SIZE = 520;
export const MAX_OPS_PER_SCRIPT = 201;
export const MAX_STACK_SIZE = 1000;

/** Verification flags (Core's SCRIPT_VERIFY_*) that the subset honours. */
export interface ScriptFlags {
  /** BIP 66 strict DER (always on for blocks on regtest: BIP66Height 1, genesis spends nothing). */
  strictDer: boolean;
  /** BIP 62 rule 5: S ≤ n/2 (policy: the mempool sets it, blocks do not). */
  lowS: boolean;
  /** STRICTENC: public keys compressed/uncompressed only, defined hash types (policy). */
  strictEnc: boolean;
  /** NULLFAIL (BIP 146): a failing CHECKSIG must have an empty signature (policy). */
  nullFail: boolean;
  /** SIGPUSHONLY: scriptSig must be push-only (policy). */
  sigPushOnly: boolean;
}

/** The flags blocks are checked with (consensus on regtest for the subset). */
export const CONSENSUS_FLAGS: ScriptFlags = {
  strictDer: true,
  lowS: false,
  strictEnc: false,
  nullFail: false,
  sigPushOnly: false,
};
/** The flags the mempool checks with (Core's standard flags, as far as the subset has them). */
export const STANDARD_FLAGS: ScriptFlags = {
  strictDer: true,
  lowS: true,
  strictEnc: true,
  nullFail: true,
  sigPushOnly: true,
};

/** Core's ScriptError names for the failures the subset can produce, plus UNSUPPORTED_OPCODE. */
export type ScriptErrorCode =
  | 'EVAL_FALSE'
  | 'OP_RETURN'
  | 'SCRIPT_SIZE'
  | 'PUSH_SIZE'
  | 'OP_COUNT'
  | 'STACK_SIZE'
  | 'BAD_OPCODE'
  | 'INVALID_STACK_OPERATION'
  | 'VERIFY'
  | 'EQUALVERIFY'
  | 'CHECKSIGVERIFY'
  | 'SIG_DER'
  | 'SIG_HIGH_S'
  | 'SIG_HASHTYPE'
  | 'PUBKEYTYPE'
  | 'NULLFAIL'
  | 'SIG_PUSHONLY'
  | 'UNSUPPORTED_OPCODE';

export type ScriptResult = { ok: true } | { ok: false; error: ScriptErrorCode };

/** What CHECKSIG needs: the spending transaction and the input's index. */
export interface SignatureContext {
  tx: Transaction;
  inputIndex: number;
}

class ScriptFailure extends Error {
  constructor(readonly error: ScriptErrorCode) {
    super(error);
  }
}

/** Core's CastToBool: false for empty, all zeros, or zeros with a final 0x80 (negative zero). */
export function castToBool(v: Uint8Array): boolean {
  for (let i = 0; i < v.length; i++) {
    if (v[i] !== 0) return !(i === v.length - 1 && v[i] === 0x80);
  }
  return false;
}

const TRUE = new Uint8Array([1]);
const FALSE = new Uint8Array(0);
/** OP_NOP1, OP_NOP4 … OP_NOP10: do nothing (SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_NOPS is policy, not applied). */
const UPGRADABLE_NOPS = new Set([0xb0, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9]);

function pop(stack: Uint8Array[]): Uint8Array {
  const v = stack.pop();
  if (v === undefined) throw new ScriptFailure('INVALID_STACK_OPERATION');
  return v;
}

function top(stack: Uint8Array[]): Uint8Array {
  const v = stack[stack.length - 1];
  if (v === undefined) throw new ScriptFailure('INVALID_STACK_OPERATION');
  return v;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Core's IsDefinedHashtypeSignature: hash type (without ANYONECANPAY) is ALL, NONE or SINGLE. */
function isDefinedHashType(sig: Uint8Array): boolean {
  const t = (sig[sig.length - 1] as number) & ~SIGHASH_ANYONECANPAY;
  return t >= SIGHASH_ALL && t <= SIGHASH_SINGLE;
}

/** Core's IsCompressedOrUncompressedPubKey (STRICTENC). */
function isStrictPublicKey(pub: Uint8Array): boolean {
  if (pub.length === 33) return pub[0] === 0x02 || pub[0] === 0x03;
  if (pub.length === 65) return pub[0] === 0x04;
  return false;
}

/** The legacy CHECKSIG (Core's EvalChecksigPreTapscript + GenericTransactionSignatureChecker). */
function checkSig(
  sig: Uint8Array,
  pub: Uint8Array,
  scriptCode: Uint8Array,
  ctx: SignatureContext,
  flags: ScriptFlags,
): boolean {
  // The signature cannot sign itself: remove its push from the scriptCode (FindAndDelete).
  const code = findAndDelete(scriptCode, pushData(sig));
  // CheckSignatureEncoding: the empty signature is allowed (it simply fails).
  if (sig.length > 0) {
    if ((flags.strictDer || flags.lowS || flags.strictEnc) && !isValidSignatureEncoding(sig))
      throw new ScriptFailure('SIG_DER');
    if (flags.lowS && !isLowS(sig.subarray(0, sig.length - 1)))
      throw new ScriptFailure('SIG_HIGH_S');
    if (flags.strictEnc && !isDefinedHashType(sig)) throw new ScriptFailure('SIG_HASHTYPE');
  }
  if (flags.strictEnc && !isStrictPublicKey(pub)) throw new ScriptFailure('PUBKEYTYPE');
  let ok = false;
  // Non-strict DER cannot be parsed by node:crypto; the subset always runs with BIP 66 (README).
  if (sig.length > 0 && isValidSignatureEncoding(sig) && isValidPublicKey(pub)) {
    const hashType = sig[sig.length - 1] as number;
    const der = sig.subarray(0, sig.length - 1);
    const digest = legacySighash(ctx.tx, ctx.inputIndex, code, hashType);
    ok =
      digest.preimageSha256 !== undefined
        ? verifySignature(pub, der, digest.preimageSha256)
        : verifyRawDigest(pub, der, digest.sighash);
  }
  if (!ok && flags.nullFail && sig.length > 0) throw new ScriptFailure('NULLFAIL');
  return ok;
}

/** Runs one script on `stack` (Core's EvalScript for SigVersion::BASE, restricted to the subset). */
export function evalScript(
  script: Uint8Array,
  stack: Uint8Array[],
  ctx: SignatureContext,
  flags: ScriptFlags,
): ScriptResult {
  try {
    if (script.length > MAX_SCRIPT_SIZE) throw new ScriptFailure('SCRIPT_SIZE');
    let pc = 0;
    let codeHashStart = 0;
    let opCount = 0;
    while (pc < script.length) {
      const { op } = getOp(script, pc);
      if (op === undefined) throw new ScriptFailure('BAD_OPCODE');
      pc = op.end;
      const opcode = op.opcode;
      if (op.data !== undefined && op.data.length > MAX_SCRIPT_ELEMENT_SIZE)
        throw new ScriptFailure('PUSH_SIZE');
      if (opcode > OP_16 && ++opCount > MAX_OPS_PER_SCRIPT) throw new ScriptFailure('OP_COUNT');
      if (opcode <= OP_PUSHDATA4) {
        stack.push(op.data ?? FALSE);
      } else if (opcode === OP_1NEGATE) {
        stack.push(new Uint8Array([0x81]));
      } else if (opcode >= 0x51 && opcode <= OP_16) {
        stack.push(new Uint8Array([opcode - 0x50]));
      } else if (opcode === OP_NOP || UPGRADABLE_NOPS.has(opcode)) {
        // nothing
      } else if (opcode === OP_VERIFY) {
        if (!castToBool(pop(stack))) throw new ScriptFailure('VERIFY');
      } else if (opcode === OP_RETURN) {
        throw new ScriptFailure('OP_RETURN');
      } else if (opcode === OP_DROP) {
        pop(stack);
      } else if (opcode === OP_DUP) {
        stack.push(top(stack));
      } else if (opcode === OP_EQUAL || opcode === OP_EQUALVERIFY) {
        const b = pop(stack);
        const a = pop(stack);
        const equal = bytesEqual(a, b);
        if (opcode === OP_EQUALVERIFY) {
          if (!equal) throw new ScriptFailure('EQUALVERIFY');
        } else {
          stack.push(equal ? TRUE : FALSE);
        }
      } else if (opcode === OP_RIPEMD160) {
        stack.push(new Uint8Array(createHash('ripemd160').update(pop(stack)).digest()));
      } else if (opcode === OP_SHA256) {
        stack.push(sha256(pop(stack)));
      } else if (opcode === OP_HASH160) {
        stack.push(hash160(pop(stack)));
      } else if (opcode === OP_HASH256) {
        stack.push(hash256(pop(stack)));
      } else if (opcode === OP_CODESEPARATOR) {
        // Signatures after this point sign only the script that follows it.
        codeHashStart = pc;
      } else if (opcode === OP_CHECKSIG || opcode === OP_CHECKSIGVERIFY) {
        const pub = pop(stack);
        const sig = pop(stack);
        const ok = checkSig(sig, pub, script.subarray(codeHashStart), ctx, flags);
        if (opcode === OP_CHECKSIGVERIFY) {
          if (!ok) throw new ScriptFailure('CHECKSIGVERIFY');
        } else {
          stack.push(ok ? TRUE : FALSE);
        }
      } else {
        throw new ScriptFailure('UNSUPPORTED_OPCODE');
      }
      if (stack.length > MAX_STACK_SIZE) throw new ScriptFailure('STACK_SIZE');
    }
    return { ok: true };
  } catch (e) {
    if (e instanceof ScriptFailure) return { ok: false, error: e.error };
    throw e;
  }
}

/** Core's VerifyScript without P2SH and witness: scriptSig, then scriptPubKey on its stack. */
export function verifyScript(
  scriptSig: Uint8Array,
  scriptPubKey: Uint8Array,
  ctx: SignatureContext,
  flags: ScriptFlags,
): ScriptResult {
  if (flags.sigPushOnly && !isPushOnly(scriptSig)) return { ok: false, error: 'SIG_PUSHONLY' };
  const stack: Uint8Array[] = [];
  const first = evalScript(scriptSig, stack, ctx, flags);
  if (!first.ok) return first;
  const second = evalScript(scriptPubKey, stack, ctx, flags);
  if (!second.ok) return second;
  const result = stack[stack.length - 1];
  if (result === undefined || !castToBool(result)) return { ok: false, error: 'EVAL_FALSE' };
  return { ok: true };
}
