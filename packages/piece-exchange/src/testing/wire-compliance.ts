/**
 * A peer wire compliance suite (exported from `@peerkit/piece-exchange/testing`): the properties
 * this package's own codec is tested with, runnable against any implementation.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WireMessage } from '../wire/messages';
import { arbChunking, arbWireMessage } from './wire-arbitraries';

export interface WireCodec {
  /** One message → its bytes, length prefix included (BEP 3). */
  encode(message: WireMessage): Uint8Array;
  /**
   * Decodes a stream (after the handshake) fed as `chunks` and returns every complete message.
   * Must throw an instance of `errorClass` for invalid input and nothing else.
   */
  decode(chunks: readonly Uint8Array[]): WireMessage[];
  errorClass: abstract new (...args: never[]) => Error;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Messages compared by value: byte fields as hex. */
export function normaliseMessage(message: WireMessage): unknown {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(message)) {
    out[key] = value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value;
  }
  return out;
}

/** Registers (with vitest) the peer wire codec properties, `numRuns` runs each (default 1000). */
export function describeWireCompliance(
  name: string,
  codec: WireCodec,
  options: { numRuns?: number } = {},
): void {
  const numRuns = options.numRuns ?? 1000;
  describe(`${name}: peer wire compliance`, () => {
    it('every message round-trips, however the stream is chunked', () => {
      fc.assert(
        fc.property(
          fc.array(arbWireMessage(), { minLength: 1, maxLength: 6 }).chain((messages) => {
            const stream = concat(messages.map((m) => codec.encode(m)));
            return fc.tuple(fc.constant(messages), arbChunking(stream));
          }),
          ([messages, chunks]) => {
            expect(codec.decode(chunks).map(normaliseMessage)).toEqual(
              messages.map(normaliseMessage),
            );
          },
        ),
        { numRuns },
      );
    });

    it('arbitrary bytes give messages or the codec error', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
          try {
            codec.decode([bytes]);
          } catch (error) {
            expect(error).toBeInstanceOf(codec.errorClass);
          }
        }),
        { numRuns },
      );
    });

    it('a decoded message re-encodes to the bytes it came from', () => {
      fc.assert(
        fc.property(
          fc.tuple(fc.nat({ max: 24 }), fc.uint8Array({ maxLength: 40 })),
          ([id, payload]) => {
            const body = Uint8Array.of(id, ...payload);
            const frame = concat([Uint8Array.of(0, 0, 0, body.length), body]);
            let messages: WireMessage[];
            try {
              messages = codec.decode([frame]);
            } catch (error) {
              expect(error).toBeInstanceOf(codec.errorClass);
              return;
            }
            expect(messages).toHaveLength(1);
            expect(Buffer.from(codec.encode(messages[0]!)).equals(frame)).toBe(true);
          },
        ),
        { numRuns },
      );
    });
  });
}
