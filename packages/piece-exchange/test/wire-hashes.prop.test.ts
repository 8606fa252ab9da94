/**
 * BEP 52 hash request / hashes / hash reject codec: total decoding (any bytes give a message or
 * a `WireError` `INVALID_HASH_MESSAGE`, fuzzed), round trips, and the streaming decoder passing
 * ids 21-23 on for the session.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WireError } from '../src/errors';
import { WireDecoder } from '../src/wire/decoder';
import {
  decodeHashMessage,
  encodeHashMessage,
  type HashMessage,
  unclesInAnswer,
} from '../src/wire/hashes';

const arbFields = fc
  .record({
    piecesRoot: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    baseLayer: fc.integer({ min: 0, max: 40 }),
    log2Length: fc.integer({ min: 1, max: 9 }),
    chunk: fc.integer({ min: 0, max: 1 << 20 }),
    proofLayers: fc.integer({ min: 0, max: 40 }),
  })
  .map(({ log2Length, chunk, ...rest }) => ({
    ...rest,
    length: 2 ** log2Length,
    index: chunk * 2 ** log2Length,
  }));

const arbHashMessage: fc.Arbitrary<HashMessage> = fc.oneof(
  arbFields.map((f) => ({ type: 'hashRequest' as const, ...f })),
  arbFields.map((f) => ({ type: 'hashReject' as const, ...f })),
  arbFields.chain((f) =>
    fc
      .nat(unclesInAnswer(f.length, f.proofLayers))
      .chain((uncles) =>
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), {
          minLength: f.length + uncles,
          maxLength: f.length + uncles,
        }),
      )
      .map((nodes) => ({
        type: 'hashes' as const,
        ...f,
        hashes: nodes.slice(0, f.length),
        uncles: nodes.slice(f.length),
      })),
  ),
);

const plain = (m: HashMessage) =>
  JSON.parse(JSON.stringify(m, (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v)));

describe('BEP 52 hash messages', () => {
  it('round-trip through encodeHashMessage / decodeHashMessage', () => {
    fc.assert(
      fc.property(arbHashMessage, (message) => {
        const bytes = encodeHashMessage(message);
        expect(new DataView(bytes.buffer).getUint32(0)).toBe(bytes.length - 4);
        const decoded = decodeHashMessage(bytes[4]!, bytes.subarray(5));
        expect(plain(decoded)).toEqual(plain(message));
      }),
      { numRuns: 300 },
    );
  });

  it('decoding is total: any payload gives a message or INVALID_HASH_MESSAGE', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          arbHashMessage.chain((m) =>
            fc.tuple(fc.nat(400), fc.nat(255)).map(([at, value]) => {
              const bytes = encodeHashMessage(m).subarray(5);
              const copy = Uint8Array.from(bytes);
              if (copy.length > 0) copy[at % copy.length] = value;
              return at % 3 === 0 ? copy.subarray(0, at % (copy.length + 1)) : copy;
            }),
          ),
        ),
        (id, payload) => {
          try {
            const message = decodeHashMessage(id, payload);
            expect([21, 22, 23]).toContain(id);
            expect(message.length).toBeGreaterThanOrEqual(2);
            expect(message.index % message.length).toBe(0);
          } catch (error) {
            expect(error).toBeInstanceOf(WireError);
            expect((error as WireError).code).toBe('INVALID_HASH_MESSAGE');
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses what BEP 52 forbids: bad lengths, unaligned index, wrong hash count', () => {
    const root = new Uint8Array(32);
    const base = { piecesRoot: root, baseLayer: 0, index: 0, length: 2, proofLayers: 0 };
    const codeOf = (f: () => unknown) => {
      try {
        f();
        return undefined;
      } catch (error) {
        return (error as WireError).code;
      }
    };
    /** A 48-byte request payload with the given fields, unchecked. */
    const request = (fields: typeof base) => {
      const out = new Uint8Array(48);
      out.set(fields.piecesRoot, 0);
      const view = new DataView(out.buffer);
      view.setUint32(32, fields.baseLayer);
      view.setUint32(36, fields.index);
      view.setUint32(40, fields.length);
      view.setUint32(44, fields.proofLayers);
      return out;
    };
    expect(codeOf(() => decodeHashMessage(21, request({ ...base, length: 3 })))).toBe(
      'INVALID_HASH_MESSAGE',
    );
    expect(codeOf(() => decodeHashMessage(21, request({ ...base, length: 1 })))).toBe(
      'INVALID_HASH_MESSAGE',
    );
    expect(codeOf(() => decodeHashMessage(21, request({ ...base, length: 1024 })))).toBe(
      'INVALID_HASH_MESSAGE',
    );
    expect(codeOf(() => decodeHashMessage(21, request({ ...base, index: 3 })))).toBe(
      'INVALID_HASH_MESSAGE',
    );
    expect(codeOf(() => decodeHashMessage(22, request(base)))).toBe('INVALID_HASH_MESSAGE');
    expect(decodeHashMessage(21, request(base)).type).toBe('hashRequest');
    expect(decodeHashMessage(23, request(base)).type).toBe('hashReject');
  });

  it('the streaming decoder hands ids 21-23 to the session as `unknown` frames', () => {
    const message: HashMessage = {
      type: 'hashes',
      piecesRoot: new Uint8Array(32).fill(7),
      baseLayer: 2,
      index: 4,
      length: 4,
      proofLayers: 3,
      hashes: Array.from({ length: 4 }, (_, i) => new Uint8Array(32).fill(i)),
      uncles: [new Uint8Array(32).fill(9)],
    };
    const decoder = new WireDecoder({ handshake: false });
    const frames = decoder.decode(encodeHashMessage(message));
    expect(frames).toHaveLength(1);
    const frame = frames[0]!;
    if (frame.type !== 'unknown') throw new Error(`got ${frame.type}`);
    expect(plain(decodeHashMessage(frame.id, frame.payload))).toEqual(plain(message));
  });
});
