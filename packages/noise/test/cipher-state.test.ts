/**
 * CipherState (spec 5.1): nonce rules, 2^64-1 reserved, failed decryption keeps `n`,
 * Rekey() as section 4.2 defines it, and a model-based test of a sender/receiver pair.
 */
import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CipherState, isNoiseError, MAX_NONCE } from '../src/index';

const EMPTY = new Uint8Array(0);
const u8 = (b: Uint8Array) => new Uint8Array(b);
const key = new Uint8Array(32).map((_, i) => i + 1);

function pair(): [CipherState, CipherState] {
  const a = new CipherState();
  const b = new CipherState();
  a.initializeKey(key);
  b.initializeKey(key);
  return [a, b];
}

/** ENCRYPT(k, n, ad, p) straight from RFC 7539 with the 12.3 nonce, as the reference. */
function reference(k: Uint8Array, n: bigint, ad: Uint8Array, p: Uint8Array): Uint8Array {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64LE(n, 4);
  const c = createCipheriv('chacha20-poly1305', k, nonce, { authTagLength: 16 });
  c.setAAD(ad, { plaintextLength: p.length });
  return Buffer.concat([c.update(p), c.final(), c.getAuthTag()]);
}

describe('CipherState', () => {
  it('without a key, EncryptWithAd and DecryptWithAd return their input', () => {
    const c = new CipherState();
    expect(c.hasKey()).toBe(false);
    expect(c.encryptWithAd(EMPTY, Uint8Array.of(1, 2))).toEqual(Uint8Array.of(1, 2));
    expect(c.decryptWithAd(EMPTY, Uint8Array.of(3))).toEqual(Uint8Array.of(3));
  });

  it('encrypts with n++ and the 32-bit-zero + little-endian nonce (12.3)', () => {
    const [a] = pair();
    const ad = Uint8Array.of(9, 9);
    a.setNonce(0x0102030405n);
    const c = a.encryptWithAd(ad, Uint8Array.of(7, 7, 7));
    expect(Buffer.from(c)).toEqual(reference(key, 0x0102030405n, ad, Uint8Array.of(7, 7, 7)));
    expect(a.nonce).toBe(0x0102030406n);
  });

  it('refuses nonce 2^64-1: the last usable nonce is 2^64-2 (5.1)', () => {
    const [a, b] = pair();
    a.setNonce(MAX_NONCE - 1n);
    b.setNonce(MAX_NONCE - 1n);
    const c = a.encryptWithAd(EMPTY, Uint8Array.of(1));
    expect(u8(b.decryptWithAd(EMPTY, c))).toEqual(Uint8Array.of(1));
    expect(a.nonce).toBe(MAX_NONCE);
    for (const call of [
      () => a.encryptWithAd(EMPTY, Uint8Array.of(1)),
      () => b.decryptWithAd(EMPTY, c),
      () => a.encryptWithAdInto(EMPTY, EMPTY, new Uint8Array(16), 0),
    ]) {
      expect(call).toThrow(expect.objectContaining({ code: 'NONCE_EXHAUSTED' }));
    }
    expect(() => a.setNonce(MAX_NONCE + 1n)).toThrow(
      expect.objectContaining({ code: 'INVALID_STATE' }),
    );
  });

  it('a failed decryption signals DECRYPT_FAILED and leaves n unchanged (5.1)', () => {
    const [a, b] = pair();
    const c = a.encryptWithAd(EMPTY, Uint8Array.of(1, 2, 3));
    const bad = c.slice();
    bad[0] = (bad[0] as number) ^ 1;
    expect(() => b.decryptWithAd(EMPTY, bad)).toThrow(
      expect.objectContaining({ code: 'DECRYPT_FAILED' }),
    );
    expect(b.nonce).toBe(0n);
    expect(() => b.decryptWithAd(Uint8Array.of(1), c)).toThrow(
      expect.objectContaining({ code: 'DECRYPT_FAILED' }),
    );
    expect(() => b.decryptWithAd(EMPTY, c.subarray(0, 15))).toThrow(
      expect.objectContaining({ code: 'DECRYPT_FAILED' }),
    );
    expect(u8(b.decryptWithAd(EMPTY, c))).toEqual(Uint8Array.of(1, 2, 3));
    expect(b.nonce).toBe(1n);
  });

  it('Rekey() sets k to the first 32 bytes of ENCRYPT(k, 2^64-1, zerolen, zeros) and keeps n', () => {
    const [a] = pair();
    a.setNonce(5n);
    a.rekey();
    expect(a.nonce).toBe(5n);
    const next = reference(key, MAX_NONCE, EMPTY, new Uint8Array(32)).subarray(0, 32);
    const c = a.encryptWithAd(EMPTY, Uint8Array.of(42));
    expect(Buffer.from(c)).toEqual(reference(next, 5n, EMPTY, Uint8Array.of(42)));
  });

  it('rejects keys that are not 32 bytes', () => {
    expect(() => new CipherState().initializeKey(new Uint8Array(31))).toThrow(
      expect.objectContaining({ code: 'INVALID_KEY' }),
    );
  });

  // Model: a sender/receiver pair on one key; the model tracks both nonces and the messages in
  // flight. In-order delivery decrypts; anything else (replay, reorder, corruption) is refused.
  type Model = {
    sent: bigint;
    received: bigint;
    inFlight: { n: bigint; c: Uint8Array; p: Uint8Array }[];
  };
  type Real = { a: CipherState; b: CipherState };

  class Send implements fc.Command<Model, Real> {
    constructor(readonly plaintext: Uint8Array) {}
    check = () => true;
    run(m: Model, r: Real) {
      const c = r.a.encryptWithAd(EMPTY, this.plaintext);
      expect(c.length).toBe(this.plaintext.length + 16);
      m.inFlight.push({ n: m.sent, c, p: this.plaintext });
      m.sent++;
      expect(r.a.nonce).toBe(m.sent);
    }
    toString = () => `Send(${this.plaintext.length})`;
  }

  class Deliver implements fc.Command<Model, Real> {
    constructor(
      readonly pick: number,
      readonly flip: number | undefined,
    ) {}
    check = (m: Readonly<Model>) => m.inFlight.length > 0;
    run(m: Model, r: Real) {
      const i = this.pick % m.inFlight.length;
      const msg = m.inFlight[i]!;
      const c = msg.c.slice();
      if (this.flip !== undefined) c[this.flip % c.length]! ^= 1 << (this.flip % 8);
      const ok = this.flip === undefined && msg.n === m.received;
      if (ok) {
        expect(Buffer.from(r.b.decryptWithAd(EMPTY, c))).toEqual(Buffer.from(msg.p));
        m.received++;
        m.inFlight.splice(0, i + 1); // earlier ones can never decrypt any more
      } else {
        let error: unknown;
        try {
          r.b.decryptWithAd(EMPTY, c);
        } catch (e) {
          error = e;
        }
        expect(isNoiseError(error, 'DECRYPT_FAILED')).toBe(true);
      }
      expect(r.b.nonce).toBe(m.received);
    }
    toString = () => `Deliver(${this.pick}, ${this.flip})`;
  }

  class Replay implements fc.Command<Model, Real> {
    constructor(readonly plaintext: Uint8Array) {}
    check = (m: Readonly<Model>) => m.received > 0n;
    run(m: Model, r: Real) {
      // A ciphertext under an already used receive nonce never decrypts again.
      const old = new CipherState();
      old.initializeKey(key);
      old.setNonce(m.received - 1n);
      const c = old.encryptWithAd(EMPTY, this.plaintext);
      expect(() => r.b.decryptWithAd(EMPTY, c)).toThrow(
        expect.objectContaining({ code: 'DECRYPT_FAILED' }),
      );
      expect(r.b.nonce).toBe(m.received);
    }
    toString = () => 'Replay';
  }

  it('a sender/receiver pair behaves like its model (fc.commands)', () => {
    const commands = [
      fc.uint8Array({ maxLength: 40 }).map((p) => new Send(p)),
      fc
        .tuple(fc.nat(), fc.option(fc.nat(), { freq: 3 }))
        .map(([pick, flip]) => new Deliver(pick, flip ?? undefined)),
      fc.uint8Array({ maxLength: 8 }).map((p) => new Replay(p)),
    ];
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 30 }), (cmds) => {
        const [a, b] = pair();
        fc.modelRun(
          () => ({ model: { sent: 0n, received: 0n, inFlight: [] }, real: { a, b } }),
          cmds,
        );
      }),
      { numRuns: 1000 },
    );
  });
});
