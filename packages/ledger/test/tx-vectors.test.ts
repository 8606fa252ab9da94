/**
 * tx_valid.json / tx_invalid.json (Core's transaction_tests.cpp), the part the script subset
 * claims: rows whose prevout scripts and scriptSigs use only the subset's opcodes, without
 * witness data and without P2SH or witness-program outputs, and that do not rely on lax DER (DERSIG not excluded). `BADTX` rows are the
 * context-free transaction checks, tested in consensus.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decodeTransaction,
  fromHex,
  hashFromHex,
  hasWitness,
  type Transaction,
  toHex,
} from '../src/index';
import { type ScriptFlags, verifyScript } from '../src/script/interpreter';
import { parseScript } from '../src/script/script';
import { parseScriptNotation } from './helpers/script-notation';

const VECTORS = new URL('../../../../shared/vectors/bitcoin/', import.meta.url);
const SUPPORTED = new Set([
  0x61, 0x69, 0x6a, 0x75, 0x76, 0x87, 0x88, 0xa6, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xb0, 0xb3,
  0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9,
]);

function subset(script: Uint8Array): boolean {
  const { ops, ok } = parseScript(script);
  return (
    ok && ops.every((op) => (op.opcode <= 0x60 && op.opcode !== 0x50) || SUPPORTED.has(op.opcode))
  );
}

interface Row {
  tx: Transaction;
  prevouts: Map<string, Uint8Array>;
  flags: string[];
}

function load(file: string): Row[] {
  const rows = JSON.parse(readFileSync(new URL(file, VECTORS), 'utf8')) as unknown[][];
  const out: Row[] = [];
  for (const row of rows) {
    if (row.length < 3 || !Array.isArray(row[0])) continue;
    const [prevs, hex, flags] = row as [[string, number, string, number?][], string, string];
    if (flags.includes('BADTX')) continue;
    const prevouts = new Map<string, Uint8Array>();
    for (const [id, index, asm] of prevs) {
      prevouts.set(
        `${toHex(hashFromHex(id))}:${index === -1 ? 0xffffffff : index}`,
        parseScriptNotation(asm),
      );
    }
    out.push({
      tx: decodeTransaction(fromHex(hex)),
      prevouts,
      flags: flags === '' || flags === 'NONE' ? [] : flags.split(','),
    });
  }
  return out;
}

function inSubset(row: Row): boolean {
  if (hasWitness(row.tx)) return false;
  for (const input of row.tx.inputs) {
    const spk = row.prevouts.get(`${toHex(input.prevout.txid)}:${input.prevout.index}`);
    if (spk === undefined || !subset(spk) || !subset(input.scriptSig)) return false;
    // P2SH (HASH160 <20> EQUAL) is outside the subset: its redeem script is never run here.
    if (spk.length === 23 && spk[0] === 0xa9 && spk[1] === 20 && spk[22] === 0x87) return false;
    // Witness programs (BIP 141: a version opcode and one 2-40 byte push) are outside it too.
    const v = spk[0] as number;
    if (
      spk.length >= 4 &&
      spk.length <= 42 &&
      (v === 0 || (v >= 0x51 && v <= 0x60)) &&
      spk[1] === spk.length - 2
    )
      return false;
  }
  return true;
}

function allInputsValid(row: Row, flags: ScriptFlags): boolean {
  return row.tx.inputs.every((input, i) => {
    const spk = row.prevouts.get(
      `${toHex(input.prevout.txid)}:${input.prevout.index}`,
    ) as Uint8Array;
    return verifyScript(input.scriptSig, spk, { tx: row.tx, inputIndex: i }, flags).ok;
  });
}

describe('tx_valid.json / tx_invalid.json, the claimed subset', () => {
  it('accepts every claimed valid transaction under all flags it does not exclude', () => {
    const rows = load('tx_valid.json').filter((r) => inSubset(r) && !r.flags.includes('DERSIG'));
    expect(rows.length).toBeGreaterThan(10);
    console.info(`tx_valid.json: ${rows.length} rows claimed`);
    for (const row of rows) {
      const flags: ScriptFlags = {
        strictDer: true,
        lowS: !row.flags.includes('LOW_S'),
        strictEnc: !row.flags.includes('STRICTENC'),
        nullFail: !row.flags.includes('NULLFAIL'),
        sigPushOnly: false,
      };
      expect(allInputsValid(row, flags), toHex(row.tx.inputs[0]!.scriptSig)).toBe(true);
    }
  });

  it('includes the SIGHASH_SINGLE "1" quirk case (verified through the BigInt fallback)', () => {
    const rows = load('tx_valid.json').filter((r) => inSubset(r) && !r.flags.includes('DERSIG'));
    const quirk = rows.find(
      (r) =>
        r.tx.inputs.length === 2 &&
        r.tx.outputs.length === 1 &&
        [...r.prevouts.values()].some((s) => s.length === 25),
    );
    expect(quirk).toBeDefined();
    const flags: ScriptFlags = {
      strictDer: true,
      lowS: false,
      strictEnc: false,
      nullFail: false,
      sigPushOnly: false,
    };
    expect(allInputsValid(quirk as Row, flags)).toBe(true);
    // Changing the transaction does not matter to that signature: it signs the constant 1.
    const changed = structuredClone(quirk as Row);
    changed.tx.lockTime ^= 1;
    const spk = [...changed.prevouts.values()].find((s) => s.length === 25) as Uint8Array;
    const index = changed.tx.inputs.findIndex(
      (i) => changed.prevouts.get(`${toHex(i.prevout.txid)}:${i.prevout.index}`) === spk,
    );
    expect(index).toBe(1);
    expect(
      verifyScript(changed.tx.inputs[1]!.scriptSig, spk, { tx: changed.tx, inputIndex: 1 }, flags)
        .ok,
    ).toBe(true);
  });

  it('rejects every claimed invalid transaction under its flags', () => {
    // Only rows whose failure comes from a rule the subset implements (not, e.g., the
    // CONST_SCRIPTCODE or MINIMALDATA policies).
    const implemented = new Set(['DERSIG', 'LOW_S', 'STRICTENC', 'NULLFAIL', 'P2SH', 'WITNESS']);
    const rows = load('tx_invalid.json').filter(
      (r) => inSubset(r) && r.flags.every((f) => implemented.has(f)),
    );
    expect(rows.length).toBeGreaterThan(5);
    console.info(`tx_invalid.json: ${rows.length} rows claimed`);
    for (const row of rows) {
      const flags: ScriptFlags = {
        strictDer: true,
        lowS: row.flags.includes('LOW_S'),
        strictEnc: row.flags.includes('STRICTENC'),
        nullFail: row.flags.includes('NULLFAIL'),
        sigPushOnly: false,
      };
      expect(allInputsValid(row, flags), `${row.flags} ${toHex(row.tx.inputs[0]!.scriptSig)}`).toBe(
        false,
      );
    }
  });
});
