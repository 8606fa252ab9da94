/**
 * The MSE/PE handshake state machine against a model of its outcome: both sides agree on the
 * method, IA arrives, the two RC4 streams pair up; how the bytes are split across reads never
 * changes the outcome; tampered handshakes fail with `MseError` (never another exception), and
 * truncated ones never produce an outcome (the I/O shell's deadline ends them,
 * test/mse-connect.test.ts).
 */
import { Prng } from '@peerkit/netsim';
import type { Random } from '@peerkit/transport';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MseError } from '../src/mse/errors';
import {
  CRYPTO_PLAINTEXT,
  CRYPTO_RC4,
  MseInitiator,
  type MseOutcome,
  MseResponder,
  mseKeyLookup,
  selectMethod,
} from '../src/mse/handshake';

function random(seed: number): Random {
  const prng = new Prng(seed);
  return {
    bytes: (n) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = prng.int(256);
      return out;
    },
    int: (max) => prng.int(max),
  };
}

/** Cuts `bytes` at the given sizes (cycled), at least one byte per chunk. */
function split(bytes: Uint8Array, sizes: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  let k = 0;
  while (at < bytes.length) {
    const n = sizes.length === 0 ? bytes.length : Math.max(1, sizes[k++ % sizes.length]!);
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

interface Run {
  a?: MseOutcome;
  b?: MseOutcome;
  error?: unknown;
}

interface Scenario {
  seed: number;
  skey: Uint8Array;
  otherSkeys: Uint8Array[];
  provide: number;
  allowB: number;
  ia: Uint8Array;
  splitsAB: number[];
  splitsBA: number[];
  /** Flip this byte (index into A→B or B→A stream) with this mask. */
  tamper?: { direction: 'ab' | 'ba'; at: number; mask: number };
  /** Deliver only this many bytes A→B. */
  truncateAB?: number;
}

/** Exchanges the handshake until both sides are done or nothing more moves. */
function run(s: Scenario): Run {
  const a = new MseInitiator({
    skey: s.skey,
    provide: s.provide,
    random: random(s.seed),
    initialPayload: s.ia,
  });
  const b = new MseResponder({
    lookupSkey: mseKeyLookup([...s.otherSkeys, s.skey]),
    select: selectMethod(s.allowB),
    random: random(s.seed + 1),
  });
  const result: Run = {};
  let sentAB = 0;
  let sentBA = 0;
  const deliver = (dir: 'ab' | 'ba', bytes: Uint8Array): Uint8Array => {
    const copy = new Uint8Array(bytes);
    const offset = dir === 'ab' ? sentAB : sentBA;
    const t = s.tamper;
    if (t && t.direction === dir && t.at >= offset && t.at < offset + copy.length)
      copy[t.at - offset]! ^= t.mask;
    if (dir === 'ab') sentAB += copy.length;
    else sentBA += copy.length;
    if (dir === 'ab' && s.truncateAB !== undefined) {
      const room = Math.max(0, s.truncateAB - offset);
      return copy.subarray(0, room);
    }
    return copy;
  };
  let toB: Uint8Array[] = split(deliver('ab', a.start()), s.splitsAB);
  let toA: Uint8Array[] = [];
  try {
    for (let round = 0; round < 10_000 && (toA.length > 0 || toB.length > 0); round++) {
      const nextB: Uint8Array[] = [];
      const nextA: Uint8Array[] = [];
      for (const chunk of toB) {
        if (chunk.length === 0 || result.b) continue;
        const step = b.receive(chunk);
        if (step.send) nextA.push(...split(deliver('ba', step.send), s.splitsBA));
        if (step.outcome) result.b = step.outcome;
      }
      for (const chunk of toA) {
        if (chunk.length === 0 || result.a) continue;
        const step = a.receive(chunk);
        if (step.send) nextB.push(...split(deliver('ab', step.send), s.splitsAB));
        if (step.outcome) result.a = step.outcome;
      }
      toA = nextA;
      toB = nextB;
    }
  } catch (error) {
    result.error = error;
  }
  return result;
}

const arbScenario = fc.record({
  seed: fc.nat({ max: 2 ** 31 - 2 }),
  skey: fc.uint8Array({ minLength: 20, maxLength: 20 }),
  otherSkeys: fc.array(fc.uint8Array({ minLength: 20, maxLength: 20 }), { maxLength: 3 }),
  provide: fc.constantFrom(CRYPTO_RC4, CRYPTO_PLAINTEXT | CRYPTO_RC4, CRYPTO_PLAINTEXT, 0xff),
  allowB: fc.constantFrom(CRYPTO_RC4, CRYPTO_PLAINTEXT | CRYPTO_RC4, CRYPTO_PLAINTEXT),
  ia: fc.uint8Array({ maxLength: 200 }),
  splitsAB: fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 6 }),
  splitsBA: fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 6 }),
});

/** The model: what the outcome must be for a clean exchange. */
function expected(s: Scenario): 'rc4' | 'plaintext' | 'NO_COMMON_METHOD' | 'INVALID_CRYPTO_SELECT' {
  const common = s.provide & s.allowB;
  if (common & CRYPTO_RC4) return 'rc4';
  if (common & CRYPTO_PLAINTEXT) return 'plaintext';
  return 'NO_COMMON_METHOD';
}

/** The payload streams after the handshake pair up: A's encrypt with B's decrypt and back. */
function checkCiphers(a: MseOutcome, b: MseOutcome): void {
  if (a.method === 'plaintext') {
    expect(a.encrypt).toBeUndefined();
    expect(b.decrypt).toBeUndefined();
    return;
  }
  const message = Buffer.from('\x13BitTorrent protocol and some payload');
  expect(Buffer.from(b.decrypt!.processCopy(a.encrypt!.processCopy(message)))).toEqual(message);
  expect(Buffer.from(a.decrypt!.processCopy(b.encrypt!.processCopy(message)))).toEqual(message);
}

describe('MSE/PE handshake state machine', () => {
  it('reaches the modelled outcome: same method both sides, IA delivered, ciphers paired', () => {
    fc.assert(
      fc.property(arbScenario, (s) => {
        const r = run(s);
        const want = expected(s);
        if (want === 'NO_COMMON_METHOD') {
          expect(r.error).toBeInstanceOf(MseError);
          expect((r.error as MseError).code).toBe('NO_COMMON_METHOD');
          return;
        }
        expect(r.error).toBeUndefined();
        expect(r.a?.method).toBe(want);
        expect(r.b?.method).toBe(want);
        expect(Buffer.from(r.b!.payload)).toEqual(Buffer.from(s.ia));
        expect(r.a!.payload.length).toBe(0);
        expect(Buffer.from(r.b!.skey)).toEqual(Buffer.from(s.skey));
        checkCiphers(r.a!, r.b!);
      }),
      { numRuns: 150 },
    );
  });

  it('any split of the bytes across reads gives the same outcome as one read', () => {
    fc.assert(
      fc.property(arbScenario, (s) => {
        const whole = run({ ...s, splitsAB: [], splitsBA: [] });
        const pieces = run(s);
        expect(pieces.a?.method).toBe(whole.a?.method);
        expect(pieces.b?.method).toBe(whole.b?.method);
        expect(pieces.b?.payload).toEqual(whole.b?.payload);
        expect((pieces.error as MseError | undefined)?.code).toBe(
          (whole.error as MseError | undefined)?.code,
        );
      }),
      { numRuns: 100 },
    );
  });

  it('a tampered byte gives MseError or an outcome within both policies, never another exception', () => {
    // MSE has no integrity protection (mse.txt: obfuscation, not authentication): a flipped
    // bit in crypto_provide, crypto_select or IA can change the outcome. What must hold: no
    // other exception, and neither side ever ends with a method its own policy refuses (a
    // `require` peer never ends in plaintext).
    const bit = (m: string) => (m === 'rc4' ? CRYPTO_RC4 : CRYPTO_PLAINTEXT);
    fc.assert(
      fc.property(
        arbScenario,
        fc.constantFrom<'ab' | 'ba'>('ab', 'ba'),
        fc.nat({ max: 1400 }),
        fc.integer({ min: 1, max: 255 }),
        (s, direction, at, mask) => {
          const r = run({ ...s, tamper: { direction, at, mask } });
          if (r.error !== undefined) {
            expect(r.error).toBeInstanceOf(MseError);
            return;
          }
          if (r.b) expect(bit(r.b.method) & s.allowB).not.toBe(0);
          if (r.a) expect(bit(r.a.method) & s.provide).not.toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the key material and the fields of step 3 are checked: a flipped bit there fails', () => {
    const s: Scenario = {
      seed: 7,
      skey: new Uint8Array(20).fill(9),
      otherSkeys: [],
      provide: CRYPTO_RC4 | CRYPTO_PLAINTEXT,
      allowB: CRYPTO_RC4,
      ia: new Uint8Array(68),
      splitsAB: [],
      splitsBA: [],
    };
    // Where step 3 starts: after Ya and PadA.
    const clean = run(s);
    expect(clean.a?.method).toBe('rc4');
    const a = new MseInitiator({ skey: s.skey, provide: s.provide, random: random(s.seed) });
    const step1 = a.start().length;
    const cases: [number, string | undefined][] = [
      // HASH('req1', S) broken: B never finds its sync point and waits (the deadline ends it).
      [step1, undefined],
      [step1 + 19, undefined],
      [step1 + 20, 'UNKNOWN_SKEY'],
      [step1 + 39, 'UNKNOWN_SKEY'],
      [step1 + 40, 'INVALID_VC'],
      [step1 + 47, 'INVALID_VC'],
      [step1 + 52, 'INVALID_PAD_LENGTH'], // high byte of len(PadC)
    ];
    for (const [at, code] of cases) {
      const r = run({ ...s, tamper: { direction: 'ab', at, mask: 0x80 } });
      expect(r.a, `byte ${at}`).toBeUndefined();
      expect(r.b, `byte ${at}`).toBeUndefined();
      expect((r.error as MseError | undefined)?.code, `byte ${at}`).toBe(code);
    }
    // Ya itself: a different S on B's side, so no sync point either.
    const ya = run({ ...s, tamper: { direction: 'ab', at: 5, mask: 0x80 } });
    expect(ya.a).toBeUndefined();
    expect(ya.b).toBeUndefined();
  });

  it('an unknown SKEY is refused with UNKNOWN_SKEY', () => {
    const a = new MseInitiator({
      skey: new Uint8Array(20).fill(1),
      provide: CRYPTO_RC4,
      random: random(1),
    });
    const b = new MseResponder({
      lookupSkey: mseKeyLookup([new Uint8Array(20).fill(2)]),
      select: selectMethod(CRYPTO_RC4),
      random: random(2),
    });
    const step2 = b.receive(a.start());
    const step3 = a.receive(step2.send!);
    expect(() => b.receive(step3.send!)).toThrow(expect.objectContaining({ code: 'UNKNOWN_SKEY' }));
  });

  it('garbage never throws anything but MseError, and no sync within the limit fails', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 1500 }), fc.nat(), (bytes, seed) => {
        const b = new MseResponder({
          lookupSkey: mseKeyLookup([new Uint8Array(20)]),
          select: selectMethod(CRYPTO_RC4),
          random: random(seed % 1000),
        });
        try {
          const step = b.receive(bytes);
          expect(step.outcome).toBeUndefined();
          // 96 + 512 + 20 bytes without HASH('req1', S) is a failure, not a wait.
          expect(bytes.length).toBeLessThan(96 + 532);
        } catch (error) {
          expect(error).toBeInstanceOf(MseError);
        }
        const a = new MseInitiator({
          skey: new Uint8Array(20),
          provide: CRYPTO_RC4,
          random: random(seed % 1000),
        });
        a.start();
        try {
          const step = a.receive(bytes);
          expect(step.outcome).toBeUndefined();
          expect(bytes.length).toBeLessThan(96 + 520);
        } catch (error) {
          expect(error).toBeInstanceOf(MseError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a truncated handshake produces no outcome and no exception (the shell times it out)', () => {
    fc.assert(
      fc.property(arbScenario, fc.nat({ max: 900 }), (s, cut) => {
        const full = run(s);
        const r = run({ ...s, truncateAB: cut });
        if (r.b === undefined) {
          expect(r.a).toBeUndefined();
          if (r.error !== undefined) expect(r.error).toBeInstanceOf(MseError);
        } else {
          expect(r.b.method).toBe(full.b?.method);
        }
      }),
      { numRuns: 100 },
    );
  });
});
