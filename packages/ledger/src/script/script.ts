/**
 * Script as bytes: splitting into operations exactly as Bitcoin Core's GetScriptOp does,
 * the standard output templates (P2PKH, P2PK), and FindAndDelete.
 */
import {
  OP_0,
  OP_1,
  OP_1NEGATE,
  OP_16,
  OP_CHECKSIG,
  OP_DUP,
  OP_EQUALVERIFY,
  OP_HASH160,
  OP_PUSHDATA1,
  OP_PUSHDATA2,
  OP_PUSHDATA4,
} from './opcodes';

/** One parsed operation. `end` is where the next one starts; `data` is set for pushes. */
export interface ScriptOp {
  opcode: number;
  data?: Uint8Array;
  start: number;
  end: number;
}

/**
 * Reads the operation at `pc` (Core's GetScriptOp). Returns `undefined` at the end of the
 * script or for a push whose length runs past the end; `stoppedAt` then tells where Core's
 * iterator stopped (past the opcode and its length bytes), which the legacy sighash needs.
 */
export function getOp(script: Uint8Array, pc: number): { op?: ScriptOp; stoppedAt: number } {
  if (pc >= script.length) return { stoppedAt: pc };
  const start = pc;
  const opcode = script[pc++] as number;
  if (opcode > OP_PUSHDATA4) return { op: { opcode, start, end: pc }, stoppedAt: pc };
  let size: number;
  if (opcode < OP_PUSHDATA1) {
    size = opcode;
  } else if (opcode === OP_PUSHDATA1) {
    if (script.length - pc < 1) return { stoppedAt: pc };
    size = script[pc] as number;
    pc += 1;
  } else if (opcode === OP_PUSHDATA2) {
    if (script.length - pc < 2) return { stoppedAt: pc };
    size = (script[pc] as number) | ((script[pc + 1] as number) << 8);
    pc += 2;
  } else {
    if (script.length - pc < 4) return { stoppedAt: pc };
    size =
      ((script[pc] as number) |
        ((script[pc + 1] as number) << 8) |
        ((script[pc + 2] as number) << 16) |
        ((script[pc + 3] as number) << 24)) >>>
      0;
    pc += 4;
  }
  if (script.length - pc < size) return { stoppedAt: pc };
  const data = script.subarray(pc, pc + size);
  pc += size;
  return { op: { opcode, data, start, end: pc }, stoppedAt: pc };
}

/** Every operation of `script`; `ok` is false when the script ends inside a push. */
export function parseScript(script: Uint8Array): { ops: ScriptOp[]; ok: boolean } {
  const ops: ScriptOp[] = [];
  let pc = 0;
  while (pc < script.length) {
    const { op } = getOp(script, pc);
    if (op === undefined) return { ops, ok: false };
    ops.push(op);
    pc = op.end;
  }
  return { ops, ok: true };
}

/** True when the script consists of push operations only (OP_0…OP_16, OP_1NEGATE, data pushes). */
export function isPushOnly(script: Uint8Array): boolean {
  const { ops, ok } = parseScript(script);
  return ok && ops.every((op) => op.opcode <= OP_16 && op.opcode !== 0x50);
}

/** The shortest push of `data` (Core's CScript << vector). */
export function pushData(data: Uint8Array): Uint8Array {
  const n = data.length;
  if (n < OP_PUSHDATA1) return new Uint8Array([n, ...data]);
  if (n <= 0xff) return new Uint8Array([OP_PUSHDATA1, n, ...data]);
  if (n <= 0xffff) return new Uint8Array([OP_PUSHDATA2, n & 0xff, n >> 8, ...data]);
  return new Uint8Array([
    OP_PUSHDATA4,
    n & 0xff,
    (n >> 8) & 0xff,
    (n >> 16) & 0xff,
    n >>> 24,
    ...data,
  ]);
}

/** The push of a small integer as Core's CScript << int64 writes it (BIP 34 heights use this). */
export function pushNumber(n: number): Uint8Array {
  if (n === 0) return new Uint8Array([OP_0]);
  if (n === -1) return new Uint8Array([OP_1NEGATE]);
  if (n >= 1 && n <= 16) return new Uint8Array([OP_1 + n - 1]);
  return pushData(encodeScriptNum(BigInt(n)));
}

/** CScriptNum serialization: little-endian magnitude, sign in the top bit of the last byte. */
export function encodeScriptNum(value: bigint): Uint8Array {
  if (value === 0n) return new Uint8Array(0);
  const negative = value < 0n;
  let abs = negative ? -value : value;
  const out: number[] = [];
  while (abs > 0n) {
    out.push(Number(abs & 0xffn));
    abs >>= 8n;
  }
  const last = out[out.length - 1] as number;
  if (last & 0x80) out.push(negative ? 0x80 : 0);
  else if (negative) out[out.length - 1] = last | 0x80;
  return new Uint8Array(out);
}

/** The standard output templates this package verifies (developer reference, "Standard Transactions"). */
export type ScriptTemplate =
  | { type: 'p2pkh'; pubkeyHash: Uint8Array }
  | { type: 'p2pk'; pubkey: Uint8Array }
  | { type: 'other' };

/**
 * P2PKH: OP_DUP OP_HASH160 <20 bytes> OP_EQUALVERIFY OP_CHECKSIG.
 * P2PK: <33- or 65-byte public key> OP_CHECKSIG.
 */
export function classifyScript(spk: Uint8Array): ScriptTemplate {
  if (
    spk.length === 25 &&
    spk[0] === OP_DUP &&
    spk[1] === OP_HASH160 &&
    spk[2] === 20 &&
    spk[23] === OP_EQUALVERIFY &&
    spk[24] === OP_CHECKSIG
  ) {
    return { type: 'p2pkh', pubkeyHash: spk.subarray(3, 23) };
  }
  if ((spk.length === 35 && spk[0] === 33) || (spk.length === 67 && spk[0] === 65)) {
    if (spk[spk.length - 1] === OP_CHECKSIG)
      return { type: 'p2pk', pubkey: spk.subarray(1, spk.length - 1) };
  }
  return { type: 'other' };
}

/** P2PKH output script for a 20-byte public-key hash. */
export function p2pkhScript(pubkeyHash: Uint8Array): Uint8Array {
  return new Uint8Array([OP_DUP, OP_HASH160, 20, ...pubkeyHash, OP_EQUALVERIFY, OP_CHECKSIG]);
}

/** P2PK output script for a public key. */
export function p2pkScript(pubkey: Uint8Array): Uint8Array {
  return new Uint8Array([...pushData(pubkey), OP_CHECKSIG]);
}

/**
 * Core's FindAndDelete: removes every occurrence of `pattern` that starts at an operation
 * boundary of `script` (the legacy CHECKSIG removes the signature's push from the scriptCode).
 */
export function findAndDelete(script: Uint8Array, pattern: Uint8Array): Uint8Array {
  if (pattern.length === 0) return script;
  const out: number[] = [];
  let found = 0;
  let pc = 0;
  let copied = 0;
  for (;;) {
    for (let i = copied; i < pc; i++) out.push(script[i] as number);
    while (script.length - pc >= pattern.length && matchesAt(script, pattern, pc)) {
      pc += pattern.length;
      found++;
    }
    copied = pc;
    const { op } = getOp(script, pc);
    if (op === undefined) break;
    pc = op.end;
  }
  if (found === 0) return script;
  for (let i = copied; i < script.length; i++) out.push(script[i] as number);
  return new Uint8Array(out);
}

function matchesAt(script: Uint8Array, pattern: Uint8Array, at: number): boolean {
  for (let i = 0; i < pattern.length; i++) if (script[at + i] !== pattern[i]) return false;
  return true;
}

/**
 * Core's CScript::GetSigOpCount(false), the legacy count: each OP_CHECKSIG(VERIFY) is one,
 * each OP_CHECKMULTISIG(VERIFY) twenty; counting stops where the script stops parsing.
 */
export function legacySigOpCount(script: Uint8Array): number {
  let count = 0;
  for (let pc = 0; ; ) {
    const { op } = getOp(script, pc);
    if (op === undefined) return count;
    if (op.opcode === 0xac || op.opcode === 0xad) count += 1;
    else if (op.opcode === 0xae || op.opcode === 0xaf) count += 20;
    pc = op.end;
  }
}
