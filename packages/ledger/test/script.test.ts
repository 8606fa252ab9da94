/**
 * The script subset against Bitcoin Core's script_tests.json (evaluated as script_tests.cpp
 * does: a crediting transaction with scriptSig `0 0` and one output carrying the
 * scriptPubKey, spent by a transaction with the test's scriptSig).
 *
 * Claimed subset, stated exactly (README "Consensus subset"): every case without witness data
 * whose two scripts use only the subset's opcodes, whose flags include DERSIG, LOW_S or
 * STRICTENC or whose signature-like pushes (first byte 0x30) are all strict DER (node:crypto
 * has no lax DER parser; regtest blocks check DER strictly from height 1 anyway), and
 * whose flags ask for nothing the subset does not implement (P2SH with a P2SH output,
 * WITNESS with a witness program, CLEANSTACK, MINIMALDATA, DISCOURAGE_UPGRADABLE_NOPS,
 * CONST_SCRIPTCODE). For those, our verdict (OK or not) equals Core's. Every other case that
 * contains an opcode outside the subset must fail (never a silent success).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isValidSignatureEncoding } from '../src/crypto/der';
import type { Transaction } from '../src/index';
import { txid } from '../src/index';
import {
  CONSENSUS_FLAGS,
  type ScriptFlags,
  type ScriptResult,
  verifyScript,
} from '../src/script/interpreter';
import { parseScript } from '../src/script/script';
import { parseScriptNotation } from './helpers/script-notation';

const VECTORS = new URL('../../../../shared/vectors/bitcoin/', import.meta.url);
const SUPPORTED = new Set([
  0x61, 0x69, 0x6a, 0x75, 0x76, 0x87, 0x88, 0xa6, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xb0, 0xb3,
  0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9,
]);
const UNIMPLEMENTED_FLAGS = [
  'CLEANSTACK',
  'MINIMALDATA',
  'DISCOURAGE_UPGRADABLE_NOPS',
  'CONST_SCRIPTCODE',
];

function onlySubsetOpcodes(script: Uint8Array): boolean {
  const { ops, ok } = parseScript(script);
  return (
    ok &&
    ops.every((op) => (op.opcode <= 0x60 && op.opcode !== 0x50 ? true : SUPPORTED.has(op.opcode)))
  );
}

function flagsOf(names: string[]): ScriptFlags {
  return {
    strictDer: names.includes('DERSIG'),
    lowS: names.includes('LOW_S'),
    strictEnc: names.includes('STRICTENC'),
    nullFail: names.includes('NULLFAIL'),
    sigPushOnly: names.includes('SIGPUSHONLY'),
  };
}

/** transaction_utils.cpp BuildCreditingTransaction + BuildSpendingTransaction. */
function spend(scriptSig: Uint8Array, scriptPubKey: Uint8Array): Transaction {
  const credit: Transaction = {
    version: 1,
    inputs: [
      {
        prevout: { txid: new Uint8Array(32), index: 0xffffffff },
        scriptSig: new Uint8Array([0, 0]),
        sequence: 0xffffffff,
        witness: [],
      },
    ],
    outputs: [{ value: 0n, scriptPubKey }],
    lockTime: 0,
  };
  return {
    version: 1,
    inputs: [
      { prevout: { txid: txid(credit), index: 0 }, scriptSig, sequence: 0xffffffff, witness: [] },
    ],
    outputs: [{ value: 0n, scriptPubKey: new Uint8Array(0) }],
    lockTime: 0,
  };
}

interface Case {
  scriptSig: Uint8Array;
  scriptPubKey: Uint8Array;
  flags: string[];
  expected: string;
  line: string;
}

function loadCases(): Case[] {
  const rows = JSON.parse(
    readFileSync(new URL('script_tests.json', VECTORS), 'utf8'),
  ) as unknown[][];
  const cases: Case[] = [];
  for (const row of rows) {
    if (row.length < 4 || Array.isArray(row[0])) continue; // comments and witness cases
    const [sig, spk, flags, expected] = row as [string, string, string, string];
    cases.push({
      scriptSig: parseScriptNotation(sig),
      scriptPubKey: parseScriptNotation(spk),
      flags: flags === '' || flags === 'NONE' ? [] : flags.split(','),
      expected,
      line: JSON.stringify(row),
    });
  }
  return cases;
}

function isP2sh(spk: Uint8Array): boolean {
  return spk.length === 23 && spk[0] === 0xa9 && spk[1] === 20 && spk[22] === 0x87;
}
function isWitnessProgram(spk: Uint8Array): boolean {
  return (
    spk.length >= 4 &&
    spk.length <= 42 &&
    (spk[0] === 0 || (spk[0]! >= 0x51 && spk[0]! <= 0x60)) &&
    spk[1] === spk.length - 2
  );
}

function allSignaturePushesStrict(scriptSig: Uint8Array): boolean {
  return parseScript(scriptSig).ops.every(
    (op) => op.data === undefined || op.data[0] !== 0x30 || isValidSignatureEncoding(op.data),
  );
}

function claimed(c: Case): boolean {
  if (!onlySubsetOpcodes(c.scriptSig) || !onlySubsetOpcodes(c.scriptPubKey)) return false;
  // Without DERSIG/LOW_S/STRICTENC Core parses signatures laxly; node:crypto cannot, so such
  // a case is claimed only when every signature-like push of its scriptSig is strict DER.
  const strict = c.flags.some((f) => f === 'DERSIG' || f === 'LOW_S' || f === 'STRICTENC');
  if (!strict && !allSignaturePushesStrict(c.scriptSig)) return false;
  if (c.flags.some((f) => UNIMPLEMENTED_FLAGS.includes(f))) return false;
  if (c.flags.includes('P2SH') && isP2sh(c.scriptPubKey)) return false;
  if (c.flags.includes('WITNESS') && isWitnessProgram(c.scriptPubKey)) return false;
  return true;
}

function run(c: Case, flags: ScriptFlags): ScriptResult {
  const tx = spend(c.scriptSig, c.scriptPubKey);
  return verifyScript(c.scriptSig, c.scriptPubKey, { tx, inputIndex: 0 }, flags);
}

describe('script_tests.json, the claimed subset', () => {
  const cases = loadCases();
  const subset = cases.filter(claimed);

  it('agrees with Core on every claimed case', () => {
    const disagreements: string[] = [];
    for (const c of subset) {
      const result = run(c, flagsOf(c.flags));
      const verdict = result.ok ? 'OK' : result.error;
      if ((verdict === 'OK') !== (c.expected === 'OK'))
        disagreements.push(`${verdict} vs ${c.line}`);
    }
    expect(disagreements).toEqual([]);
    console.info(
      `script_tests.json: ${subset.length} of ${cases.length} non-witness cases claimed`,
    );
    // The subset is substantial, with both outcomes and signature cases in it.
    expect(subset.length).toBeGreaterThan(100);
    expect(subset.filter((c) => c.expected === 'OK').length).toBeGreaterThan(30);
    expect(subset.filter((c) => c.scriptPubKey.includes(0xac)).length).toBeGreaterThan(20);
  });

  it('never accepts a script that uses an opcode outside the subset', () => {
    const outside = cases.filter(
      (c) => !onlySubsetOpcodes(c.scriptSig) || !onlySubsetOpcodes(c.scriptPubKey),
    );
    expect(outside.length).toBeGreaterThan(500);
    for (const c of outside) {
      const result = run(c, CONSENSUS_FLAGS);
      expect(result.ok, c.line).toBe(false);
    }
    const ifCase = outside.find((c) => c.line.includes('"IF 1 ENDIF"') && c.expected === 'OK');
    expect(ifCase && run(ifCase, CONSENSUS_FLAGS)).toEqual({
      ok: false,
      error: 'UNSUPPORTED_OPCODE',
    });
  });
});
