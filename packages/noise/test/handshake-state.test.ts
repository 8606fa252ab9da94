/**
 * HandshakeState (spec 5.3) beyond the vectors: random keys/prologues/payloads agree for every
 * implemented pattern, arbitrary bytes at any stage give a NoiseError, and misuse is typed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  generateKeyPair,
  HANDSHAKE_PATTERNS,
  type HandshakePatternName,
  HandshakeState,
  isNoiseError,
  keyPairFromPrivateKey,
  NoiseError,
} from '../src/index';
import { arbKey32, patternBytes } from '../src/testing';

const names = Object.keys(HANDSHAKE_PATTERNS) as HandshakePatternName[];
const u8 = (b: Uint8Array) => new Uint8Array(b);
const EMPTY = new Uint8Array(0);

function sides(pattern: HandshakePatternName, prologue = EMPTY) {
  const si = generateKeyPair();
  const sr = generateKeyPair();
  const p = HANDSHAKE_PATTERNS[pattern];
  const init = new HandshakeState({
    pattern,
    initiator: true,
    prologue,
    s: si,
    rs: p.responderPreMessage.length > 0 ? sr.publicKey : undefined,
  });
  const resp = new HandshakeState({
    pattern,
    initiator: false,
    prologue,
    s: sr,
    rs: p.initiatorPreMessage.length > 0 ? si.publicKey : undefined,
  });
  return { init, resp, si, sr };
}

describe('HandshakeState', () => {
  it('every pattern completes with equal hashes, crossed keys and the payloads (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.uint8Array({ maxLength: 40 }),
        fc.array(fc.uint8Array({ maxLength: 100 }), { minLength: 3, maxLength: 3 }),
        (pattern, prologue, payloads) => {
          const { init, resp } = sides(pattern, prologue);
          let i = 0;
          while (!init.isFinished()) {
            const [w, r] = init.isMyTurn() ? [init, resp] : [resp, init];
            const payload = payloads[i++] ?? EMPTY;
            expect(u8(r.readMessage(w.writeMessage(payload)))).toEqual(payload);
          }
          expect(resp.isFinished()).toBe(true);
          expect(init.getHandshakeHash()).toEqual(resp.getHandshakeHash());
          const [c1i, c2i] = init.split();
          const [c1r, c2r] = resp.split();
          const m = Uint8Array.of(1, 2, 3);
          expect(u8(c1r.decryptWithAd(EMPTY, c1i.encryptWithAd(EMPTY, m)))).toEqual(m);
          expect(u8(c2i.decryptWithAd(EMPTY, c2r.encryptWithAd(EMPTY, m)))).toEqual(m);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('arbitrary bytes at any stage of XX, NN or IK give a payload or a NoiseError, never another exception', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<HandshakePatternName>('XX', 'NN', 'IK'),
        fc.nat(),
        fc.oneof(
          { weight: 9, arbitrary: fc.uint8Array({ maxLength: 300 }) },
          {
            weight: 1,
            arbitrary: fc
              .tuple(fc.integer({ min: 65530, max: 65540 }), fc.nat())
              .map(([n, seed]) => patternBytes(n, seed)),
          },
        ),
        (pattern, stageSeed, garbage) => {
          const { init, resp } = sides(pattern);
          const stage = stageSeed % HANDSHAKE_PATTERNS[pattern].messages.length;
          for (let i = 0; i < stage; i++) {
            const [w, r] = init.isMyTurn() ? [init, resp] : [resp, init];
            r.readMessage(w.writeMessage());
          }
          const reader = init.isMyTurn() ? resp : init;
          try {
            reader.readMessage(garbage);
          } catch (e) {
            expect(e).toBeInstanceOf(NoiseError);
            // A failed handshake stays failed.
            expect(() => reader.readMessage(garbage)).toThrow(NoiseError);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('a payload too large for 65,535 bytes throws MESSAGE_TOO_LARGE and leaves the state usable', () => {
    const { init, resp } = sides('XX');
    resp.readMessage(init.writeMessage());
    // msg 2: e (32) + s (48) + payload + tag (16) <= 65535
    expect(() => resp.writeMessage(new Uint8Array(65535 - 96 + 1))).toThrow(
      expect.objectContaining({ code: 'MESSAGE_TOO_LARGE' }),
    );
    const max = new Uint8Array(65535 - 96).fill(7);
    const message = resp.writeMessage(max);
    expect(message.length).toBe(65535);
    expect(u8(init.readMessage(message))).toEqual(max);
  });

  it('calls out of turn or after the end are INVALID_STATE', () => {
    const { init, resp } = sides('NN');
    expect(() => resp.writeMessage()).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
    expect(() => init.readMessage(new Uint8Array(32))).toThrow(
      expect.objectContaining({ code: 'INVALID_STATE' }),
    );
    expect(() => init.split()).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
    resp.readMessage(init.writeMessage());
    init.readMessage(resp.writeMessage());
    expect(() => init.writeMessage()).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
  });

  it('a pattern that needs a static key refuses to start without one', () => {
    expect(() => new HandshakeState({ pattern: 'XX', initiator: true })).toThrow(
      expect.objectContaining({ code: 'INVALID_STATE' }),
    );
    expect(
      () => new HandshakeState({ pattern: 'IK', initiator: true, s: generateKeyPair() }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
  });

  it('different prologues make the first encrypted payload fail (section 6)', () => {
    const init = new HandshakeState({ pattern: 'NN', initiator: true, prologue: Uint8Array.of(1) });
    const resp = new HandshakeState({
      pattern: 'NN',
      initiator: false,
      prologue: Uint8Array.of(2),
    });
    resp.readMessage(init.writeMessage());
    expect(() => init.readMessage(resp.writeMessage())).toThrow(
      expect.objectContaining({ code: 'DECRYPT_FAILED' }),
    );
  });

  it('a low-order remote ephemeral key gives INVALID_KEY (12.1 allows signalling it)', () => {
    const resp = new HandshakeState({ pattern: 'NN', initiator: false });
    resp.readMessage(new Uint8Array(32)); // u = 0: a point of small order
    expect(() => resp.writeMessage()).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }));
  });

  it('keyPairFromPrivateKey accepts any 32-byte scalar and agrees with DH (property)', () => {
    fc.assert(
      fc.property(arbKey32(), arbKey32(), (a, b) => {
        const ka = keyPairFromPrivateKey(a);
        const kb = keyPairFromPrivateKey(b);
        const i = new HandshakeState({ pattern: 'NN', initiator: true, generateKeyPair: () => ka });
        const r = new HandshakeState({
          pattern: 'NN',
          initiator: false,
          generateKeyPair: () => kb,
        });
        r.readMessage(i.writeMessage());
        i.readMessage(r.writeMessage());
        expect(i.getHandshakeHash()).toEqual(r.getHandshakeHash());
      }),
      { numRuns: 200 },
    );
  });

  it('isNoiseError narrows by code', () => {
    const e = new NoiseError('BAD_MESSAGE', 'x');
    expect(isNoiseError(e)).toBe(true);
    expect(isNoiseError(e, 'BAD_MESSAGE')).toBe(true);
    expect(isNoiseError(e, 'CLOSED')).toBe(false);
    expect(isNoiseError(new Error('x'))).toBe(false);
  });
});
