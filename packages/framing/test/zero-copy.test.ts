/**
 * The allocation-free paths: `FrameDecoder.nextParts()` (a spanning frame as views),
 * `FrameDecoder.decodeEach()` (frames visited in place) and `codec.decodeRange()`.
 */
import fc from 'fast-check';
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  defineCodec,
  encodeFrame,
  FrameDecoder,
  FramingError,
  MessageError,
  type MessageErrorCode,
} from '../src/index';
import { arbHostileMessage, arbitraryFor, concatBytes } from '../src/testing';
import { Chat, Gossip } from './schemas';

const chat = defineCodec(Chat);
const gossip = defineCodec(Gossip);
const author = new Uint8Array(32).fill(7);

function codeOf(run: () => unknown): MessageErrorCode | undefined {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MessageError);
    return (error as MessageError).code;
  }
  return undefined;
}

describe('FrameDecoder.nextParts', () => {
  it('returns a frame that spans chunks as views of those chunks, without copying', () => {
    // A Noise-sized message: 65,535 bytes behind a 2-byte prefix, arriving in three reads.
    const payload = new Uint8Array(0xffff).map((_, i) => i * 7);
    const bytes = encodeFrame(payload, { prefix: 'uint16be' });
    const reads = [bytes.slice(0, 1000), bytes.slice(1000, 65536), bytes.slice(65536)];
    const decoder = new FrameDecoder({ prefix: 'uint16be' });
    decoder.push(reads[0]!);
    expect(decoder.nextParts()).toBeUndefined();
    decoder.push(reads[1]!);
    expect(decoder.nextParts()).toBeUndefined();
    decoder.push(reads[2]!);
    const parts = decoder.nextParts()!;
    expect(parts.map((p) => p.length)).toEqual([998, 64536, 1]);
    expect(parts.map((p) => p.buffer)).toEqual(reads.map((r) => r.buffer));
    expect(parts[1]).toBe(reads[1]); // a chunk wholly inside the frame is passed as it is
    expect(concatBytes(parts)).toEqual(payload);
    expect(decoder.nextParts()).toBeUndefined();
    expect(decoder.bufferedBytes).toBe(0);
    decoder.end();
  });

  it('returns a frame inside one chunk as a single view, and mixes with next()', () => {
    const chunk = concatBytes([
      encodeFrame(Uint8Array.of(1, 2)),
      encodeFrame(new Uint8Array(0)),
      encodeFrame(Uint8Array.of(3)),
    ]);
    const decoder = new FrameDecoder();
    decoder.push(chunk);
    const first = decoder.nextParts()!;
    expect(first).toHaveLength(1);
    expect(first[0]!.buffer).toBe(chunk.buffer);
    expect([...first[0]!]).toEqual([1, 2]);
    expect(decoder.nextParts()!.map((p) => p.length)).toEqual([0]);
    expect([...decoder.next()!]).toEqual([3]);
    expect(decoder.nextParts()).toBeUndefined();
  });

  it('fails like next(): FRAME_TOO_LARGE from the prefix, TRUNCATED after end()', () => {
    const big = new FrameDecoder({ maxFrameSize: 10 });
    big.push(Uint8Array.of(0, 0, 0, 11));
    expect(() => big.nextParts()).toThrow(FramingError);
    const cut = new FrameDecoder();
    cut.push(Uint8Array.of(0, 0, 0, 5, 1, 2));
    expect(cut.nextParts()).toBeUndefined();
    expect(() => cut.end()).toThrow(expect.objectContaining({ code: 'TRUNCATED' }));
    expect(() => cut.nextParts()).toThrow(expect.objectContaining({ code: 'TRUNCATED' }));
  });
});

describe('FrameDecoder.decodeEach', () => {
  it('visits frames inside a chunk in place and a spanning frame as one copy', () => {
    const stream = concatBytes([
      encodeFrame(Uint8Array.of(1, 2, 3)),
      encodeFrame(Uint8Array.of(4, 5)),
      encodeFrame(Uint8Array.of(6)),
    ]);
    const first = stream.slice(0, 12); // frame 1, then frame 2 cut after its prefix + 1 byte
    const second = stream.slice(12);
    const decoder = new FrameDecoder();
    const seen: [Uint8Array, number, number][] = [];
    const visit = (bytes: Uint8Array, start: number, end: number) => {
      seen.push([bytes, start, end]);
    };
    expect(decoder.decodeEach(first, visit)).toBe(1);
    expect(seen[0]).toEqual([first, 4, 7]);
    expect(seen[0]![0]).toBe(first); // the chunk itself: no view was made
    expect(decoder.decodeEach(second, visit)).toBe(2);
    const [slab, start, end] = seen[1]!; // the copy of the spanning frame, in the slab
    expect([...slab.subarray(start, end)]).toEqual([4, 5]);
    expect([start, end]).toEqual([0, 2]);
    expect(seen[2]![0]).toBe(second);
    expect(seen[2]!.slice(1)).toEqual([5, 6]);
    decoder.end();
  });

  it('copies small spanning frames one after the other into a slab, never over each other', () => {
    const decoder = new FrameDecoder({ maxFrameSize: 100 }); // slab of 800 bytes, frames <= 100
    const kept: Uint8Array[] = [];
    const buffers = new Set<ArrayBufferLike>();
    for (let i = 0; i < 30; i++) {
      const frame = encodeFrame(new Uint8Array(50 + i).fill(i), { maxFrameSize: 100 });
      decoder.decodeEach(frame.slice(0, 10), () => {
        throw new Error('not complete yet');
      });
      decoder.decodeEach(frame.slice(10), (bytes, start, end) => {
        expect(bytes.length).toBe(800);
        buffers.add(bytes.buffer);
        kept.push(bytes.subarray(start, end));
      });
    }
    // Every frame is intact after all the later ones were copied.
    kept.forEach((frame, i) => {
      expect(frame).toEqual(new Uint8Array(50 + i).fill(i));
    });
    expect(buffers.size).toBeGreaterThan(1);
    expect(buffers.size).toBeLessThan(30);
    // A frame above 1/8 of the slab (2 KiB by default) gets a buffer of its own.
    const wide = new FrameDecoder(); // slab of 16 KiB, frames <= 2 KiB
    for (const [size, own] of [
      [2048, false],
      [2049, true],
    ] as const) {
      const frame = encodeFrame(new Uint8Array(size).fill(9));
      wide.decodeEach(frame.slice(0, 50), () => undefined);
      const visited = wide.decodeEach(frame.slice(50), (bytes, start, end) => {
        expect(end - start).toBe(size);
        expect(bytes.length).toBe(own ? size : 16 * 1024);
      });
      expect(visited).toBe(1);
    }
  });

  it('lets an error thrown by the visitor through and keeps the following frames', () => {
    const chunk = concatBytes([encodeFrame(Uint8Array.of(1)), encodeFrame(Uint8Array.of(2))]);
    const decoder = new FrameDecoder();
    expect(() =>
      decoder.decodeEach(chunk, () => {
        throw new Error('visitor failed');
      }),
    ).toThrow('visitor failed');
    expect([...decoder.next()!]).toEqual([2]);
    expect(decoder.next()).toBeUndefined();
  });

  it('with codec.decodeRange decodes a message stream cut anywhere', () => {
    fc.assert(
      fc.property(
        fc.array(arbitraryFor(Chat), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (messages, cuts) => {
          const stream = concatBytes(messages.map((m) => encodeFrame(chat.encode(m as never))));
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort(
            (a, b) => a - b,
          );
          const decoder = new FrameDecoder({ maxFrameSize: 64 * 1024 });
          const out: unknown[] = [];
          let from = 0;
          for (const to of [...points, stream.length]) {
            decoder.decodeEach(stream.slice(from, to), (bytes, start, end) => {
              out.push(chat.decodeRange(bytes, start, end));
            });
            from = to;
          }
          decoder.end();
          expect(out).toEqual(messages.map((m) => chat.decode(chat.encode(m as never))));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('codec.decodeRange', () => {
  it('decodes bytes[start, end) exactly like decode(bytes.subarray(start, end))', () => {
    const message = { room: 'lobby', author, sentAt: 5, body: 'hi' };
    const encoded = chat.encode(message);
    const padded = concatBytes([Uint8Array.of(0xc1, 0xc1), encoded, Uint8Array.of(0xc1)]);
    const decoded = chat.decodeRange(padded, 2, 2 + encoded.length);
    expect(decoded).toEqual(message);
    expect(decoded.author.buffer).toBe(padded.buffer); // a view, as with decode
    // Bytes outside the range are not read: the padding around it would be MALFORMED.
    expect(codeOf(() => chat.decodeRange(padded, 2, 2 + encoded.length + 1))).toBe('MALFORMED');
    expect(codeOf(() => chat.decodeRange(padded, 2, 2 + encoded.length - 1))).toBe('MALFORMED');
    expect(codeOf(() => chat.decodeRange(padded, 3, 3))).toBe('MALFORMED');
  });

  it('gives the same verdict as decode on hostile bytes', () => {
    fc.assert(
      fc.property(arbHostileMessage(), fc.nat(8), (bytes, offset) => {
        const padded = new Uint8Array(offset + bytes.length + 3).fill(0xd4);
        padded.set(bytes, offset);
        const verdict = (run: () => unknown) => {
          try {
            return { value: run() };
          } catch (error) {
            if (!(error instanceof MessageError)) throw error;
            return { code: error.code, path: error.path };
          }
        };
        const range = verdict(() => gossip.decodeRange(padded, offset, offset + bytes.length));
        expect(range).toEqual(verdict(() => gossip.decode(bytes)));
      }),
      { numRuns: 1000 },
    );
  });

  it('checks the size limit on the range and throws RangeError for a range outside the bytes', () => {
    const small = defineCodec(Chat, { maxMessageSize: 8 });
    expect(codeOf(() => small.decodeRange(new Uint8Array(100), 0, 9))).toBe('TOO_LARGE');
    expect(() => chat.decodeRange(new Uint8Array(4), 2, 5)).toThrow(RangeError);
    expect(() => chat.decodeRange(new Uint8Array(4), 3, 2)).toThrow(RangeError);
    expect(() => chat.decodeRange(new Uint8Array(4), -1, 2)).toThrow(RangeError);
    expect(() => chat.decodeRange(new Uint8Array(4), 0.5, 2)).toThrow(RangeError);
  });
});

describe('unknown keys at the root (counted from the map header)', () => {
  const base = { room: 'r', author, sentAt: 1, body: 'b' };
  /** msgpack map with the given entries, in order, keys possibly repeated. */
  function mapOf(entries: [string, unknown][]): Uint8Array {
    const parts: Uint8Array[] = [Uint8Array.of(0x80 | entries.length)];
    for (const [key, value] of entries) parts.push(pack(key), pack(value));
    return concatBytes(parts);
  }

  it('accepts a repeated declared key (the last one wins) and rejects an extra key', () => {
    const entries = Object.entries(base);
    const repeated = mapOf([...entries, ['room', 'again']]);
    expect(chat.decode(repeated)).toEqual({ ...base, room: 'again' });
    expect(chat.decodeRange(repeated, 0, repeated.length)).toEqual({ ...base, room: 'again' });
    const extra = mapOf([...entries, ['extra', 1]]);
    expect(codeOf(() => chat.decode(extra))).toBe('UNKNOWN_FIELD');
    // Same number of entries as declared fields, but one repeated and one unknown.
    const swapped = mapOf([...entries.slice(0, 3), ['room', 'x'], ['extra', 1]]);
    expect(codeOf(() => chat.decode(swapped))).toBe('MISSING_FIELD');
    const unionExtra = mapOf([
      ['type', 'prune'],
      ['topic', 'a'],
      ['x', 1],
    ]);
    expect(codeOf(() => gossip.decode(unionExtra))).toBe('UNKNOWN_FIELD');
  });

  it('still counts keys for values that did not come from decode', () => {
    expect(chat.is({ ...base, extra: 1 })).toBe(false);
    expect(chat.is({ ...base, extra: undefined })).toBe(true); // undefined counts as absent
    expect(chat.is({ ...base, mood: undefined })).toBe(true);
  });
});
