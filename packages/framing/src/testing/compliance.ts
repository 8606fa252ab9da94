/**
 * Compliance helpers: the properties @peerkit/framing's own tests check, packaged so that any
 * implementation (a user's decoder, another language's bindings behind an adapter) can be held
 * to the same wire format and the same totality rules. They run `fc.assert` and throw on the
 * first counterexample, so they work under any test runner.
 */
import fc from 'fast-check';
import type { Codec } from '../codec/codec';
import { encodeFrame } from '../encode';
import { FrameDecoder } from '../frame-decoder';
import type { FrameOptions, PrefixKind } from '../prefix';
import {
  arbCuts,
  arbFramedStream,
  arbHostileChunks,
  arbHostileMessage,
  arbitraryFor,
  arbPayload,
  concatBytes,
  cutBytes,
  referenceFrame,
} from './arbitraries';

/** What the framing properties need from an implementation. */
export interface FramingUnderTest {
  /** Encodes one frame (prefix + payload). */
  encodeFrame(payload: Uint8Array, options: Required<FrameOptions>): Uint8Array;
  /**
   * Decodes a whole stream delivered as `chunks` and then ended. Throws an error whose `code`
   * is `FRAME_TOO_LARGE`, `BAD_VARINT` or `TRUNCATED` when the bytes cannot be framed.
   */
  decodeStream(chunks: readonly Uint8Array[], options: Required<FrameOptions>): Uint8Array[];
}

/** @peerkit/framing itself, behind the {@link FramingUnderTest} interface. */
export const peerkitFraming: FramingUnderTest = {
  encodeFrame: (payload, options) => encodeFrame(payload, options),
  decodeStream(chunks, options) {
    const decoder = new FrameDecoder(options);
    const frames: Uint8Array[] = [];
    for (const chunk of chunks) {
      decoder.push(chunk);
      for (let f = decoder.next(); f !== undefined; f = decoder.next()) frames.push(f);
    }
    decoder.end();
    return frames;
  },
};

export interface ComplianceOptions {
  /** Runs per property; default 1000. */
  numRuns?: number;
  /** Prefixes to check; default all three. */
  prefixes?: readonly PrefixKind[];
  seed?: number;
}

const FRAMING_CODES = new Set(['FRAME_TOO_LARGE', 'BAD_VARINT', 'TRUNCATED']);

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function expectCode(run: () => unknown, code: string, what: string): void {
  try {
    run();
  } catch (error) {
    if (errorCode(error) === code) return;
    throw new Error(`${what}: expected an error with code ${code}, got ${String(error)}`);
  }
  throw new Error(`${what}: expected an error with code ${code}, got none`);
}

function capacity(prefix: PrefixKind): number {
  return prefix === 'uint16be' ? 0xffff : 0xffffffff;
}

/**
 * Checks a framing implementation: wire format, round trip under arbitrary chunking,
 * limits and errors, totality on hostile input.
 */
export function checkFramingCompliance(
  impl: FramingUnderTest = peerkitFraming,
  options: ComplianceOptions = {},
): void {
  const params = { numRuns: options.numRuns ?? 1000, seed: options.seed };
  const prefixes = fc.constantFrom(...(options.prefixes ?? ['uint32be', 'uint16be', 'varint']));

  // 1. The prefix encodings of the README, byte for byte.
  fc.assert(
    fc.property(prefixes, arbPayload(), (prefix, payload) => {
      const frame = impl.encodeFrame(payload, { prefix, maxFrameSize: capacity(prefix) });
      return sameBytes(frame, referenceFrame(prefix, payload));
    }),
    params,
  );

  // 2. Any sequence of frames, cut into arbitrary chunks, decodes to the same sequence.
  fc.assert(
    fc.property(
      prefixes.chain((p) => arbFramedStream(p)),
      ({ prefix, frames, chunks }) => {
        const out = impl.decodeStream(chunks, { prefix, maxFrameSize: 4096 });
        return out.length === frames.length && out.every((f, i) => sameBytes(f, frames[i]!));
      },
    ),
    params,
  );

  // 3. Arbitrary bytes give frames (none above the limit) or one of the framing errors.
  fc.assert(
    fc.property(prefixes, arbHostileChunks(), fc.nat(300), (prefix, chunks, maxFrameSize) => {
      try {
        const frames = impl.decodeStream(chunks, { prefix, maxFrameSize });
        return frames.every((f) => f.length <= maxFrameSize);
      } catch (error) {
        if (FRAMING_CODES.has(errorCode(error) ?? '')) return true;
        throw error;
      }
    }),
    params,
  );

  // 4. An announced length above the limit fails at once, without waiting for the body.
  fc.assert(
    fc.property(prefixes, fc.nat(1000), arbCuts, (prefix, maxFrameSize, cuts) => {
      const header = referenceFrame(prefix, new Uint8Array(maxFrameSize + 1)).subarray(
        0,
        prefix === 'uint32be' ? 4 : prefix === 'uint16be' ? 2 : maxFrameSize + 1 < 128 ? 1 : 2,
      );
      expectCode(
        () => impl.decodeStream(cutBytes(header, cuts), { prefix, maxFrameSize }),
        'FRAME_TOO_LARGE',
        'oversized prefix',
      );
    }),
    params,
  );

  // 5. A stream that ends inside a prefix or a body is TRUNCATED.
  fc.assert(
    fc.property(
      prefixes,
      fc.array(arbPayload(64), { maxLength: 4 }),
      arbPayload(64).filter((p) => p.length > 0),
      fc.nat(),
      arbCuts,
      (prefix, whole, last, cut, cuts) => {
        const lastFrame = referenceFrame(prefix, last);
        const bytes = concatBytes([
          ...whole.map((f) => referenceFrame(prefix, f)),
          lastFrame.subarray(0, 1 + (cut % (lastFrame.length - 1))),
        ]);
        expectCode(
          () => impl.decodeStream(cutBytes(bytes, cuts), { prefix, maxFrameSize: 4096 }),
          'TRUNCATED',
          'truncated stream',
        );
      },
    ),
    params,
  );

  // 6. Varint rules: minimal encodings only, at most 5 bytes, at most 2^32-1.
  if ((options.prefixes ?? ['varint']).includes('varint')) {
    const varint = { prefix: 'varint' as const, maxFrameSize: 0xffffffff };
    const bad: Uint8Array[] = [
      Uint8Array.of(0x80, 0x00), // 0 in two bytes
      Uint8Array.of(0x81, 0x80, 0x00), // 1 in three bytes
      Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x10), // 2^32
      Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01), // six bytes
    ];
    for (const prefix of bad) {
      expectCode(() => impl.decodeStream([prefix], varint), 'BAD_VARINT', 'bad varint');
    }
    // Every minimal varint up to 2^32-1 is read as its exact value: with the limit at the value
    // the frame is accepted (and, with no body, TRUNCATED); one below, it is FRAME_TOO_LARGE.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0xffffffff }), (length) => {
        const header = varintOf(length);
        expectCode(
          () => impl.decodeStream([header], { prefix: 'varint', maxFrameSize: length }),
          'TRUNCATED',
          `varint ${length} at its limit`,
        );
        expectCode(
          () => impl.decodeStream([header], { prefix: 'varint', maxFrameSize: length - 1 }),
          'FRAME_TOO_LARGE',
          `varint ${length} above its limit`,
        );
      }),
      params,
    );
  }
}

/** Unsigned LEB128 of `n` (independent of the implementation under test). */
export function varintOf(n: number): Uint8Array {
  const bytes: number[] = [];
  let rest = n;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Uint8Array.from(bytes);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return sameBytes(a, b);
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null) {
    const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
    const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
    return (
      ka.length === kb.length &&
      ka.every((k) =>
        deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
      )
    );
  }
  return Object.is(a, b);
}

/**
 * Checks a message codec: generated valid messages round-trip; hostile bytes decode to a
 * valid message or throw an error named `MessageError` with a `code`, nothing else.
 */
export function checkCodecCompliance<T>(codec: Codec<T>, options: ComplianceOptions = {}): void {
  const params = { numRuns: options.numRuns ?? 1000, seed: options.seed };
  const messages = arbitraryFor(codec.schema);
  fc.assert(
    fc.property(messages, (message) => {
      const bytes = codec.encode(message as T);
      return deepEqual(codec.decode(bytes), message);
    }),
    params,
  );
  const valid = messages.map((m) => codec.encode(m as T));
  fc.assert(
    fc.property(arbHostileMessage(valid), (bytes) => {
      let decoded: T;
      try {
        decoded = codec.decode(bytes);
      } catch (error) {
        if (error instanceof Error && error.name === 'MessageError' && errorCode(error))
          return true;
        throw error;
      }
      // Whatever decodes is a complete, valid message that survives another round trip.
      return codec.is(decoded) && deepEqual(codec.decode(codec.encode(decoded)), decoded);
    }),
    params,
  );
}
