import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { type Codec, defineCodec, MessageError } from '../src/index';
import { arbHostileMessage, arbitraryFor, checkCodecCompliance } from '../src/testing';
import { Chat, Gossip, Nested } from './schemas';

const NUM_RUNS = 1000;
const codecs: [string, Codec<unknown>][] = [
  ['Chat', defineCodec(Chat) as Codec<unknown>],
  ['Gossip', defineCodec(Gossip) as Codec<unknown>],
  ['Nested', defineCodec(Nested) as Codec<unknown>],
];

/** Decoding must give a valid message or a MessageError, nothing else. */
function decodeTotal(codec: Codec<unknown>, bytes: Uint8Array): void {
  let value: unknown;
  try {
    value = codec.decode(bytes);
  } catch (error) {
    if (!(error instanceof MessageError)) throw error;
    expect(typeof error.code).toBe('string');
    return;
  }
  expect(codec.is(value)).toBe(true);
}

describe('codec properties', () => {
  for (const [name, codec] of codecs) {
    it(`${name}: generated messages round-trip and hostile bytes give a message or MessageError`, () => {
      checkCodecCompliance(codec, { numRuns: NUM_RUNS });
    });

    it(`${name}: generated messages survive decode(encode(m)) unchanged`, () => {
      fc.assert(
        fc.property(arbitraryFor(codec.schema), (message) => {
          const decoded = codec.decode(codec.encode(message));
          expect(normalize(decoded)).toEqual(normalize(message));
        }),
        { numRuns: NUM_RUNS },
      );
    });

    it(`${name}: msgpack of arbitrary JS values (extensions included) never crashes decode`, () => {
      const packers = [
        new Packr(),
        new Packr({ useRecords: false }),
        new Packr({ moreTypes: true }),
      ];
      fc.assert(
        fc.property(
          fc.anything({ withMap: true, withSet: true, withDate: true, withTypedArray: true }),
          fc.nat(2),
          (value, which) => {
            let bytes: Uint8Array;
            try {
              bytes = packers[which]!.pack(value);
            } catch {
              return; // msgpackr cannot encode this value at all
            }
            decodeTotal(codec, bytes);
          },
        ),
        { numRuns: NUM_RUNS },
      );
    });

    it(`${name}: arbitrary bytes never crash decode`, () => {
      fc.assert(
        fc.property(arbHostileMessage(), (bytes) => decodeTotal(codec, bytes)),
        { numRuns: NUM_RUNS },
      );
    });
  }
});

/** Buffers become plain Uint8Arrays so that deep equality compares bytes only. */
function normalize(value: unknown): unknown {
  if (value instanceof Uint8Array) return Uint8Array.from(value);
  if (Array.isArray(value)) return value.map(normalize);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  }
  return value;
}
