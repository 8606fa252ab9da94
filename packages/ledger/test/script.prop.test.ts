/**
 * Totality of what handles untrusted bytes beyond the codecs: the interpreter and the sighash
 * on arbitrary scripts, base58check / address / WIF parsing on arbitrary strings, and the chain
 * on arbitrary (decodable) blocks — each returns a verdict or throws LedgerError, nothing else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addressToScript,
  base58checkDecode,
  Chain,
  CONSENSUS_FLAGS,
  decodeWif,
  LedgerError,
  legacySighash,
  STANDARD_FLAGS,
  verifyScript,
} from '../src/index';
import { arbBlock, arbTransaction } from '../src/testing';

const NUM_RUNS = Number(process.env.NUM_RUNS ?? 500);

function onlyLedgerErrors(run: () => unknown): void {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(LedgerError);
  }
}

/** Scripts built from opcodes the subset knows, with real-looking pushes mixed in. */
const arbScriptBytes = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc
    .array(
      fc.oneof(
        fc.constantFrom(
          0x00,
          0x4f,
          0x51,
          0x61,
          0x69,
          0x6a,
          0x75,
          0x76,
          0x87,
          0x88,
          0xa6,
          0xa8,
          0xa9,
          0xaa,
          0xab,
          0xac,
          0xad,
        ),
        fc.uint8Array({ minLength: 1, maxLength: 75 }).map((d) => [d.length, ...d]),
      ),
      { maxLength: 20 },
    )
    .map((parts) => new Uint8Array(parts.flat())),
);

describe('interpreter and sighash are total', () => {
  it('verifyScript returns a verdict for any scripts', () => {
    fc.assert(
      fc.property(
        arbTransaction(),
        arbScriptBytes,
        arbScriptBytes,
        fc.boolean(),
        (tx, sig, spk, standard) => {
          const result = verifyScript(
            sig,
            spk,
            { tx, inputIndex: 0 },
            standard ? STANDARD_FLAGS : CONSENSUS_FLAGS,
          );
          expect(typeof result.ok).toBe('boolean');
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('legacySighash hashes any script, index and hash type', () => {
    fc.assert(
      fc.property(
        arbTransaction(),
        fc.uint8Array({ maxLength: 100 }),
        fc.nat(5),
        fc.integer(),
        (tx, script, index, type) => {
          expect(legacySighash(tx, index, script, type).sighash).toHaveLength(32);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('text parsers are total', () => {
  it('base58check, addresses and WIF throw only LedgerError', () => {
    const base58 = fc.string({
      unit: fc.constantFrom(...'123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0OIl '),
      maxLength: 60,
    });
    fc.assert(
      fc.property(fc.oneof(base58, fc.string({ maxLength: 200 })), (s) => {
        onlyLedgerErrors(() => base58checkDecode(s));
        onlyLedgerErrors(() => addressToScript(s));
        onlyLedgerErrors(() => decodeWif(s));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('the chain is total on arbitrary blocks', () => {
  it('acceptBlock gives a result or a LedgerError', async () => {
    const chain = await Chain.open({ now: () => 2_000_000_000 });
    await fc.assert(
      fc.asyncProperty(arbBlock(), async (block) => {
        try {
          await chain.acceptBlock(block);
        } catch (e) {
          expect(e).toBeInstanceOf(LedgerError);
        }
      }),
      { numRuns: NUM_RUNS / 5 },
    );
  });
});
