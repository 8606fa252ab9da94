import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeBlock,
  decodeTransaction,
  encodeBlock,
  encodeTransaction,
  hasWitness,
  LedgerError,
  Reader,
  txid,
  Writer,
} from '../src/index';
import { arbBlock, arbTransaction } from '../src/testing';

const NUM_RUNS = Number(process.env.NUM_RUNS ?? 300);

/** Decoding is total: a value whose re-encoding is the input, or LedgerError('DECODE'). */
function totalDecode<T>(
  bytes: Uint8Array,
  decode: (b: Uint8Array) => T,
  encode: (v: T) => Uint8Array,
): void {
  let value: T;
  try {
    value = decode(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(LedgerError);
    expect((e as LedgerError).code).toBe('DECODE');
    return;
  }
  expect(encode(value)).toEqual(bytes);
}

describe('transaction codec', () => {
  it('round-trips legacy and BIP 144 transactions', () => {
    fc.assert(
      fc.property(arbTransaction({ witness: true }), (tx) => {
        const bytes = encodeTransaction(tx);
        const back = decodeTransaction(bytes);
        expect(back).toEqual(tx);
        expect(encodeTransaction(back)).toEqual(bytes);
        // The txid ignores witness data (BIP 141).
        const stripped = { ...tx, inputs: tx.inputs.map((i) => ({ ...i, witness: [] })) };
        expect(txid(back)).toEqual(txid(stripped));
        if (hasWitness(tx)) expect(bytes[4]).toBe(0); // BIP 144 marker
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('decodes arbitrary bytes totally (canonical or DECODE)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        totalDecode(bytes, decodeTransaction, (tx) => encodeTransaction(tx));
      }),
      { numRuns: NUM_RUNS * 5 },
    );
  });

  it('decodes mutated valid encodings totally', () => {
    fc.assert(
      fc.property(
        arbTransaction({ witness: true }),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.nat(),
        (tx, at, byte, cut) => {
          const bytes = encodeTransaction(tx).slice();
          bytes[at % bytes.length] = byte;
          totalDecode(bytes, decodeTransaction, (t) => encodeTransaction(t));
          totalDecode(bytes.subarray(0, cut % (bytes.length + 1)), decodeTransaction, (t) =>
            encodeTransaction(t),
          );
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('block codec', () => {
  it('round-trips blocks', () => {
    fc.assert(
      fc.property(arbBlock({ witness: true }), (block) => {
        const bytes = encodeBlock(block);
        expect(decodeBlock(bytes)).toEqual(block);
      }),
      { numRuns: NUM_RUNS / 2 },
    );
  });

  it('decodes arbitrary and mutated bytes totally', () => {
    fc.assert(
      fc.property(
        arbBlock({ witness: true }),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (block, at, byte) => {
          const bytes = encodeBlock(block).slice();
          bytes[at % bytes.length] = byte;
          totalDecode(bytes, decodeBlock, (b) => encodeBlock(b));
        },
      ),
      { numRuns: NUM_RUNS },
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 80, maxLength: 400 }), (bytes) => {
        totalDecode(bytes, decodeBlock, (b) => encodeBlock(b));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('CompactSize', () => {
  it('round-trips and rejects non-canonical forms', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x02000000 }), (n) => {
        const bytes = new Writer().compactSize(n).finish();
        const r = new Reader(bytes);
        expect(r.compactSize()).toBe(n);
        r.end();
      }),
    );
    for (const hex of ['fdfc00', 'fe ffff0000', 'ff ffffffff00000000']) {
      const r = new Reader(Buffer.from(hex.replace(/ /g, ''), 'hex'));
      expect(() => r.compactSize(0xffffffff)).toThrow(LedgerError);
    }
    expect(() => new Reader(Buffer.from('fe01000002', 'hex')).compactSize()).toThrow(/above limit/);
  });

  it('refuses counts that the remaining bytes cannot hold before allocating', () => {
    // version, then a 0x02000000-input count with nothing after it
    const bytes = Buffer.from('01000000fe00000002', 'hex');
    expect(() => decodeTransaction(bytes)).toThrow(LedgerError);
  });
});
