import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, FramingError, type PrefixKind } from '../src/index';
import {
  arbFramedStream,
  arbHostileChunks,
  arbPrefix,
  checkFramingCompliance,
  concatBytes,
  peerkitFraming,
  referenceFrame,
} from '../src/testing';

const NUM_RUNS = 1000;

/** Runs `run` with `new Uint8Array(n)` observed; returns the largest `n` asked for. */
function largestAllocation(run: () => void): number {
  const Original = globalThis.Uint8Array;
  let largest = 0;
  const Spy: Uint8ArrayConstructor = new Proxy(Original, {
    construct(target, args, newTarget): object {
      if (typeof args[0] === 'number') largest = Math.max(largest, args[0]);
      return Reflect.construct(target, args, newTarget === Spy ? target : newTarget);
    },
  });
  globalThis.Uint8Array = Spy;
  try {
    run();
  } finally {
    globalThis.Uint8Array = Original;
  }
  return largest;
}

describe('framing properties', () => {
  for (const prefix of ['uint32be', 'uint16be', 'varint'] as const) {
    it(`any frames cut into arbitrary chunks decode to the same frames (${prefix})`, () => {
      fc.assert(
        fc.property(arbFramedStream(prefix), ({ frames, chunks }) => {
          const decoder = new FrameDecoder({ prefix, maxFrameSize: 4096 });
          const out: Uint8Array[] = [];
          for (const chunk of chunks) out.push(...decoder.decode(chunk));
          decoder.end();
          expect(out).toEqual(frames);
          expect(decoder.bufferedBytes).toBe(0);
        }),
        { numRuns: NUM_RUNS },
      );
    });
  }

  it('the allocation spy sees the copy of a frame that spans chunks', () => {
    const bytes = referenceFrame('uint32be', new Uint8Array(777));
    const largest = largestAllocation(() => {
      const decoder = new FrameDecoder();
      decoder.push(bytes.subarray(0, 10));
      decoder.next();
      decoder.push(bytes.subarray(10));
      decoder.next();
    });
    expect(largest).toBe(777);
  });

  it('arbitrary bytes give frames or FramingError, never more memory than the limit', () => {
    fc.assert(
      fc.property(arbPrefix, arbHostileChunks(), fc.nat(300), (prefix, chunks, maxFrameSize) => {
        const decoder = new FrameDecoder({ prefix, maxFrameSize });
        let pushed = 0;
        const largest = largestAllocation(() => {
          try {
            for (const chunk of chunks) {
              decoder.push(chunk);
              pushed += chunk.length;
              for (let f = decoder.next(); f !== undefined; f = decoder.next()) {
                expect(f.length).toBeLessThanOrEqual(maxFrameSize);
              }
              expect(decoder.bufferedBytes).toBeLessThanOrEqual(pushed);
            }
            decoder.end();
          } catch (error) {
            if (!(error instanceof FramingError)) throw error;
            expect(['FRAME_TOO_LARGE', 'BAD_VARINT', 'TRUNCATED']).toContain(error.code);
          }
        });
        expect(largest).toBeLessThanOrEqual(maxFrameSize);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('passes the framing compliance helper (wire format, chunking, limits, truncation, varints)', () => {
    checkFramingCompliance(peerkitFraming, { numRuns: NUM_RUNS });
  });
});

// ---- model-based test: FrameDecoder against a whole-buffer reference parser ----

type Parsed = { frames: Uint8Array[]; error?: string };

/** Parses all bytes at once (a deliberately simple, independent reference). */
function referenceParse(bytes: Uint8Array, prefix: PrefixKind, max: number): Parsed {
  const frames: Uint8Array[] = [];
  let pos = 0;
  for (;;) {
    let length = 0;
    let p = pos;
    if (prefix === 'varint') {
      let i = 0;
      for (;;) {
        if (p >= bytes.length) return { frames };
        const b = bytes[p++]!;
        if (i === 4 && b > 0x0f) return { frames, error: 'BAD_VARINT' };
        length += (b & 0x7f) * 2 ** (7 * i);
        if (b < 0x80) {
          if (b === 0 && i > 0) return { frames, error: 'BAD_VARINT' };
          break;
        }
        i++;
      }
    } else {
      const size = prefix === 'uint32be' ? 4 : 2;
      if (p + size > bytes.length) return { frames };
      for (let i = 0; i < size; i++) length = length * 256 + bytes[p++]!;
    }
    if (length > max) return { frames, error: 'FRAME_TOO_LARGE' };
    if (p + length > bytes.length) return { frames };
    frames.push(bytes.slice(p, p + length));
    pos = p + length;
  }
}

interface Model {
  prefix: PrefixKind;
  max: number;
  pushed: Uint8Array[];
  taken: number;
  failed: boolean;
}

class PushCommand implements fc.Command<Model, FrameDecoder> {
  constructor(readonly chunk: Uint8Array) {}
  check = (m: Readonly<Model>) => !m.failed;
  run(m: Model, real: FrameDecoder): void {
    real.push(this.chunk);
    m.pushed.push(this.chunk);
  }
  toString = () => `push(${Buffer.from(this.chunk).toString('hex')})`;
}

class NextCommand implements fc.Command<Model, FrameDecoder> {
  check = () => true;
  run(m: Model, real: FrameDecoder): void {
    const expected = referenceParse(concatBytes(m.pushed), m.prefix, m.max);
    if (m.taken < expected.frames.length) {
      expect(real.next()).toEqual(expected.frames[m.taken]);
      m.taken++;
    } else if (expected.error !== undefined) {
      expect(() => real.next()).toThrow(expect.objectContaining({ code: expected.error }));
      m.failed = true;
    } else {
      expect(real.next()).toBeUndefined();
    }
  }
  toString = () => 'next()';
}

/** `nextParts()`: the same frames as the reference, as views whose concatenation is the frame. */
class NextPartsCommand implements fc.Command<Model, FrameDecoder> {
  check = () => true;
  run(m: Model, real: FrameDecoder): void {
    const expected = referenceParse(concatBytes(m.pushed), m.prefix, m.max);
    if (m.taken < expected.frames.length) {
      const parts = real.nextParts();
      expect(parts).toBeDefined();
      // Zero-copy: every part is a view of a pushed chunk.
      for (const part of parts!) {
        expect(m.pushed.some((chunk) => chunk.buffer === part.buffer)).toBe(true);
      }
      expect(concatBytes(parts!)).toEqual(expected.frames[m.taken]);
      m.taken++;
    } else if (expected.error !== undefined) {
      expect(() => real.nextParts()).toThrow(expect.objectContaining({ code: expected.error }));
      m.failed = true;
    } else {
      expect(real.nextParts()).toBeUndefined();
    }
  }
  toString = () => 'nextParts()';
}

/** `decodeEach(chunk, visit)`: pushes, then visits exactly the frames the reference has. */
class DecodeEachCommand implements fc.Command<Model, FrameDecoder> {
  constructor(readonly chunk: Uint8Array) {}
  check = (m: Readonly<Model>) => !m.failed;
  run(m: Model, real: FrameDecoder): void {
    m.pushed.push(this.chunk);
    const expected = referenceParse(concatBytes(m.pushed), m.prefix, m.max);
    const visited: Uint8Array[] = [];
    const visit = (bytes: Uint8Array, start: number, end: number) => {
      visited.push(bytes.slice(start, end));
    };
    if (expected.error !== undefined) {
      expect(() => real.decodeEach(this.chunk, visit)).toThrow(
        expect.objectContaining({ code: expected.error }),
      );
      m.failed = true;
    } else {
      expect(real.decodeEach(this.chunk, visit)).toBe(visited.length);
    }
    expect(visited).toEqual(expected.frames.slice(m.taken, m.taken + visited.length));
    m.taken += visited.length;
    if (!m.failed) expect(m.taken).toBe(expected.frames.length);
  }
  toString = () => `decodeEach(${Buffer.from(this.chunk).toString('hex')})`;
}

describe('FrameDecoder model-based test', () => {
  it('behaves like the whole-buffer reference for any push/next/nextParts/decodeEach interleaving', () => {
    const chunk = fc.oneof(
      fc.uint8Array({ maxLength: 8 }),
      fc
        .record({ prefix: arbPrefix, payload: fc.uint8Array({ maxLength: 40 }) })
        .map(({ prefix, payload }) => referenceFrame(prefix, payload)),
    );
    const commands = fc.commands(
      [
        chunk.map((c) => new PushCommand(c)),
        fc.constant(new NextCommand()),
        fc.constant(new NextPartsCommand()),
        chunk.map((c) => new DecodeEachCommand(c)),
      ],
      { maxCommands: 40 },
    );
    fc.assert(
      fc.property(arbPrefix, fc.nat(64), commands, (prefix, max, cmds) => {
        const real = new FrameDecoder({ prefix, maxFrameSize: max });
        const model: Model = { prefix, max, pushed: [], taken: 0, failed: false };
        fc.modelRun(() => ({ model, real }), cmds);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
