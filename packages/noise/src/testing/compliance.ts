/**
 * The secure-channel compliance suite: the properties peerkit's own secure channel must meet,
 * for any implementation of the same wire protocol (Noise XX with identity payloads, 2-byte
 * length prefixes, an authenticated end marker). Call it inside a vitest file:
 *
 *   describeSecureChannelCompliance('my channel', { generateIdentity, secureOutbound, secureInbound });
 */
import { TransportError } from '@peerkit/transport';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NOISE_ERROR_CODES } from '../errors';
import { arbChunkSizes, arbFrameTamper, arbPayloadSequence } from './arbitraries';
import {
  bitFlipInterceptor,
  type FrameTamper,
  frameTamperInterceptor,
  splitInterceptor,
} from './interceptors';
import { ManualClock } from './manual-clock';
import { memoryStreamPair } from './memory-stream';
import {
  runSession,
  type SecureChannelImplementation,
  type SecuredStream,
  type SessionOutcome,
  type SideOutcome,
} from './session';

export interface ComplianceOptions {
  /** Runs per property (defaults in parentheses). */
  numRuns?: {
    delivery?: number; // (1000)
    bitFlip?: number; // (1000)
    tamper?: number; // (1000)
    garbage?: number; // (1000)
  };
  /** Error codes that count as "typed" (default: every NoiseErrorCode). */
  errorCodes?: readonly string[];
  /** fast-check seed, to replay a failure. */
  seed?: number;
}

const concat = (parts: readonly Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const bytes = (b: Uint8Array) => new Uint8Array(b);

function isPrefix(prefix: Uint8Array, of: Uint8Array): boolean {
  return prefix.length <= of.length && Buffer.compare(prefix, of.subarray(0, prefix.length)) === 0;
}

/** Frames each direction carries at least: a→b msg1, msg3, one per write, the end marker. */
function minFrames(direction: 'aToB' | 'bToA', writes: readonly Uint8Array[]): number {
  const data = writes.filter((w) => w.length > 0).length;
  return (direction === 'aToB' ? 3 : 2) + data;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Waits for `promise`, firing the clock past `timeoutMs` if it does not settle by itself. */
async function settle<T>(
  promise: Promise<T>,
  clock: ManualClock,
  timeoutMs: number,
): Promise<{ value?: T; error?: unknown; hung: boolean }> {
  let result: { value?: T; error?: unknown } | undefined;
  promise.then(
    (value) => {
      result = { value };
    },
    (error) => {
      result = { error };
    },
  );
  for (let i = 0; i < 20 && result === undefined; i++) await turn();
  if (result === undefined) clock.advance(timeoutMs + 1);
  for (let i = 0; i < 20 && result === undefined; i++) await turn();
  return result === undefined ? { hung: true } : { ...result, hung: false };
}

export function describeSecureChannelCompliance<I extends { readonly publicKey: Uint8Array }>(
  name: string,
  impl: SecureChannelImplementation<I>,
  options: ComplianceOptions = {},
): void {
  const codes = options.errorCodes ?? NOISE_ERROR_CODES;
  const runs = {
    delivery: options.numRuns?.delivery ?? 1000,
    bitFlip: options.numRuns?.bitFlip ?? 1000,
    tamper: options.numRuns?.tamper ?? 1000,
    garbage: options.numRuns?.garbage ?? 1000,
  };
  const params = (numRuns: number) => ({ numRuns, seed: options.seed });

  const isTyped = (e: unknown): boolean => {
    if (!(e instanceof Error)) return false;
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' && codes.includes(code);
  };

  /** The receiving side failed with a typed error and saw nothing but a prefix of the truth. */
  const failedCleanly = (receiver: SideOutcome, sent: Uint8Array): boolean => {
    if (!isPrefix(receiver.received, sent)) return false;
    const error = receiver.handshakeError ?? receiver.readError;
    return error !== undefined && isTyped(error);
  };

  describe(`${name}: secure channel compliance`, () => {
    it('authenticates both identities and carries data both ways', async () => {
      const ia = impl.generateIdentity();
      const ib = impl.generateIdentity();
      const r = await runSession(impl, {
        identities: [ia, ib],
        expectedRemoteIdentity: ib.publicKey,
        aWrites: [Uint8Array.of(1, 2, 3)],
        bWrites: [Uint8Array.of(4, 5)],
      });
      expect(r.hung).toBe(false);
      expect(r.a.remoteIdentity).toEqual(ib.publicKey);
      expect(r.b.remoteIdentity).toEqual(ia.publicKey);
      expect(r.a.readEnded && r.b.readEnded).toBe(true);
      expect(bytes(r.b.received)).toEqual(Uint8Array.of(1, 2, 3));
      expect(bytes(r.a.received)).toEqual(Uint8Array.of(4, 5));
    });

    it('a dialer that expects another identity fails with IDENTITY_MISMATCH', async () => {
      const r = await runSession(impl, {
        expectedRemoteIdentity: impl.generateIdentity().publicKey,
        aWrites: [Uint8Array.of(1)],
      });
      expect((r.a.handshakeError as { code?: string }).code).toBe('IDENTITY_MISMATCH');
      expect(r.b.handshakeError).toBeDefined();
      expect(r.b.received.length).toBe(0);
    });

    it('a silent peer makes the handshake fail with HANDSHAKE_TIMEOUT', async () => {
      const clock = new ManualClock();
      const [raw, other] = memoryStreamPair();
      const pending = impl.secureOutbound(other, {
        identity: impl.generateIdentity(),
        clock,
        timeoutMs: 1000,
      });
      const result = await settle(pending, clock, 1000);
      expect((result.error as { code?: string }).code).toBe('HANDSHAKE_TIMEOUT');
      // The transport stream was destroyed: the silent peer sees it go away.
      const seen = await raw.closed;
      expect(seen === undefined || seen instanceof TransportError).toBe(true);
    });

    it('any payload sequence, chunked arbitrarily, arrives intact', async () => {
      await fc.assert(
        fc.asyncProperty(
          arbPayloadSequence(),
          arbPayloadSequence({ maxLength: 4, maxLarge: 70_000 }),
          arbChunkSizes(),
          arbChunkSizes(),
          fc.integer({ min: 1, max: 200_000 }),
          async (aWrites, bWrites, aCuts, bCuts, highWaterMark) => {
            const r = await runSession(impl, {
              aWrites,
              bWrites,
              aToB: splitInterceptor(aCuts),
              bToA: splitInterceptor(bCuts),
              highWaterMark,
            });
            expect(r.hung).toBe(false);
            expect(r.a.handshakeError ?? r.a.readError).toBeUndefined();
            expect(r.b.handshakeError ?? r.b.readError).toBeUndefined();
            expect(r.a.readEnded && r.b.readEnded).toBe(true);
            expect(Buffer.compare(r.b.received, concat(aWrites))).toBe(0);
            expect(Buffer.compare(r.a.received, concat(bWrites))).toBe(0);
          },
        ),
        params(runs.delivery),
      );
    });

    it('flipping any bit of any message in flight makes the receiver fail with a typed error', async () => {
      await fc.assert(
        fc.asyncProperty(
          arbPayloadSequence({ maxLength: 5, maxLarge: 70_000 }),
          arbPayloadSequence({ maxLength: 5, maxLarge: 70_000 }),
          fc.constantFrom<'aToB' | 'bToA'>('aToB', 'bToA'),
          fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          async (aWrites, bWrites, direction, frameFraction, bitFraction) => {
            const writes = direction === 'aToB' ? aWrites : bWrites;
            const frame = Math.floor(frameFraction * minFrames(direction, writes));
            const flip = bitFlipInterceptor(frame, bitFraction);
            const r: SessionOutcome = await runSession(impl, {
              aWrites,
              bWrites,
              [direction]: flip,
            });
            expect(r.hung).toBe(false);
            const receiver = direction === 'aToB' ? r.b : r.a;
            expect(failedCleanly(receiver, concat(writes))).toBe(true);
          },
        ),
        params(runs.bitFlip),
      );
    });

    it('replayed or reordered messages are rejected', async () => {
      const scenario = fc
        .record({
          aWrites: arbPayloadSequence({ maxLength: 5, maxLarge: 70_000 }),
          bWrites: arbPayloadSequence({ maxLength: 5, maxLarge: 70_000 }),
          direction: fc.constantFrom<'aToB' | 'bToA'>('aToB', 'bToA'),
        })
        .chain((s) => {
          const writes = s.direction === 'aToB' ? s.aWrites : s.bWrites;
          const frames = minFrames(s.direction, writes);
          return arbFrameTamper(frames).map((tamper: FrameTamper) => ({ ...s, tamper }));
        });
      await fc.assert(
        fc.asyncProperty(scenario, async ({ aWrites, bWrites, direction, tamper }) => {
          const r = await runSession(impl, {
            aWrites,
            bWrites,
            [direction]: frameTamperInterceptor(tamper),
          });
          expect(r.hung).toBe(false);
          const receiver = direction === 'aToB' ? r.b : r.a;
          const writes = direction === 'aToB' ? aWrites : bWrites;
          expect(failedCleanly(receiver, concat(writes))).toBe(true);
        }),
        params(runs.tamper),
      );
    });

    const frame = (body: Uint8Array) => {
      const out = new Uint8Array(2 + body.length);
      out[0] = body.length >>> 8;
      out[1] = body.length & 0xff;
      out.set(body, 2);
      return out;
    };
    const arbGarbage = fc.oneof(
      fc.uint8Array({ maxLength: 400 }),
      fc
        .array(fc.uint8Array({ maxLength: 300 }), { maxLength: 4 })
        .map((m) => concat(m.map(frame))),
      fc
        .tuple(
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 3 }),
        )
        .map(([e, rest]) => concat([frame(e), ...rest.map(frame)])),
    );

    for (const role of ['responder', 'initiator'] as const) {
      it(`arbitrary bytes fed to a ${role} in its handshake give a typed error`, async () => {
        await fc.assert(
          fc.asyncProperty(arbGarbage, fc.boolean(), async (garbage, endAfter) => {
            const clock = new ManualClock();
            const [raw, other] = memoryStreamPair();
            const options = { identity: impl.generateIdentity(), clock, timeoutMs: 1000 };
            const pending: Promise<SecuredStream> =
              role === 'responder'
                ? impl.secureInbound(other, options)
                : impl.secureOutbound(other, options);
            raw.write(garbage).catch(() => {});
            if (endAfter) raw.end().catch(() => {});
            const result = await settle(pending, clock, 1000);
            expect(result.hung).toBe(false);
            expect(result.value).toBeUndefined();
            expect(isTyped(result.error)).toBe(true);
            raw.destroy();
          }),
          params(runs.garbage),
        );
      });
    }
  });
}
