import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  encodeHandshake,
  encodeMessage,
  WireDecoder,
  WireError,
  type WireFrame,
  type WireMessage,
} from '../src/index';
import { arbChunking, arbHandshake, arbTorrentGeometry, arbWireMessage } from '../src/testing';

const RUNS = { numRuns: 1000 };

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Messages compared by value (byte fields as plain arrays). */
function normalise(message: WireFrame): unknown {
  return JSON.parse(
    JSON.stringify(message, (_key, value) =>
      value instanceof Uint8Array ? { bytes: Array.from(value) } : value,
    ),
  );
}

describe('peer wire codec properties', () => {
  it('every message round-trips through encodeMessage/decodeMessage', () => {
    fc.assert(
      fc.property(arbWireMessage(), (message) => {
        const bytes = encodeMessage(message);
        const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0);
        expect(length).toBe(bytes.length - 4);
        const decoded = decodeMessage(bytes.subarray(4));
        expect(normalise(decoded)).toEqual(normalise(message));
      }),
      RUNS,
    );
  });

  it('messages within a torrent round-trip through the validating decoder', () => {
    fc.assert(
      fc.property(
        arbTorrentGeometry().chain((torrent) =>
          fc.tuple(fc.constant(torrent), fc.array(arbWireMessage({ torrent }), { maxLength: 8 })),
        ),
        ([torrent, messages]) => {
          const decoder = new WireDecoder({ handshake: false, torrent });
          const decoded = decoder.decode(concat(messages.map(encodeMessage)));
          expect(decoded.map(normalise)).toEqual(messages.map(normalise));
        },
      ),
      RUNS,
    );
  });

  it('a handshake and messages decode identically however the stream is chunked', () => {
    fc.assert(
      fc.property(
        arbHandshake(),
        fc.array(arbWireMessage(), { maxLength: 6 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (handshake, messages, seed) => {
          const stream = concat([encodeHandshake(handshake), ...messages.map(encodeMessage)]);
          const chunks = fc.sample(arbChunking(stream), { numRuns: 1, seed })[0]!;
          const decoder = new WireDecoder();
          const frames: WireFrame[] = [];
          for (const chunk of chunks) frames.push(...decoder.decode(chunk));
          expect(frames.map(normalise)).toEqual(
            [{ type: 'handshake', ...handshake } as WireFrame, ...messages].map(normalise),
          );
          expect(decoder.buffered).toBe(0);
        },
      ),
      RUNS,
    );
  });

  it('arbitrary bytes give messages or a WireError, never another exception', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.boolean(),
        fc.option(arbTorrentGeometry(), { nil: undefined }),
        (bytes, handshake, torrent) => {
          const decoder = new WireDecoder({ handshake, torrent, maxMessageLength: 4096 });
          try {
            decoder.decode(bytes);
          } catch (error) {
            expect(error).toBeInstanceOf(WireError);
            // A failed decoder stays failed.
            expect(() => decoder.decode(new Uint8Array(1))).toThrow(WireError);
          }
        },
      ),
      RUNS,
    );
  });

  it('mutated valid streams give messages or a WireError', () => {
    fc.assert(
      fc.property(
        arbTorrentGeometry().chain((torrent) =>
          fc.tuple(
            fc.constant(torrent),
            fc.array(arbWireMessage({ torrent }), { minLength: 1, maxLength: 6 }),
          ),
        ),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 3 }),
        ([torrent, messages], edits) => {
          const stream = concat(messages.map(encodeMessage));
          for (const [at, value] of edits) stream[at % stream.length] = value;
          const decoder = new WireDecoder({ handshake: false, torrent, maxMessageLength: 1 << 16 });
          try {
            decoder.decode(stream);
          } catch (error) {
            expect(error).toBeInstanceOf(WireError);
          }
        },
      ),
      RUNS,
    );
  });

  it('arbitrary message bodies decode to a message that re-encodes to the same bytes, or fail typed', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 40 }),
          fc
            .tuple(fc.nat({ max: 24 }), fc.uint8Array({ maxLength: 40 }))
            .map(([id, rest]) => Uint8Array.of(id, ...rest)),
        ),
        fc.option(arbTorrentGeometry(), { nil: undefined }),
        (body, torrent) => {
          let message: WireMessage;
          try {
            message = decodeMessage(body, { torrent });
          } catch (error) {
            expect(error).toBeInstanceOf(WireError);
            return;
          }
          expect(Array.from(encodeMessage(message).subarray(4))).toEqual(Array.from(body));
        },
      ),
      RUNS,
    );
  });
});
