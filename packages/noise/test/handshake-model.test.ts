/**
 * Model-based test (fc.commands) of a pair of HandshakeStates. The model knows whose turn it
 * is, which messages are authenticated (their payload is encrypted: a key exists by the end
 * of the message's tokens), which side has failed, and whether a corrupted unauthenticated
 * message made the two transcripts diverge. The real pair must agree with it at every step:
 * out-of-turn calls are INVALID_STATE without harm, corruption of an authenticated message
 * fails the reader, divergence is caught by the next authenticated message, and a clean run
 * ends with matching transport keys.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import {
  generateKeyPair,
  HANDSHAKE_PATTERNS,
  type HandshakePatternName,
  HandshakeState,
  isNoiseError,
} from '../src/index';

type Side = 'init' | 'resp';
interface Model {
  pattern: HandshakePatternName;
  next: number;
  failed: Record<Side, boolean>;
  diverged: boolean;
}
type Real = Record<Side, HandshakeState>;

const other = (s: Side): Side => (s === 'init' ? 'resp' : 'init');
const turnOf = (m: Model): Side => (m.next % 2 === 0 ? 'init' : 'resp');
const length = (m: Model) => HANDSHAKE_PATTERNS[m.pattern].messages.length;

/** Whether message `i` of the pattern ends with a key, i.e. its payload is authenticated. */
function authenticated(pattern: HandshakePatternName, i: number): boolean {
  return HANDSHAKE_PATTERNS[pattern].messages
    .slice(0, i + 1)
    .some((tokens) => tokens.some((t) => t.length === 2));
}

class Step implements fc.Command<Model, Real> {
  constructor(
    readonly payload: Uint8Array,
    readonly flip: number | undefined,
  ) {}
  check = (m: Readonly<Model>) => m.next < length(m) && !m.failed.init && !m.failed.resp;
  run(m: Model, r: Real): void {
    const sender = turnOf(m);
    const message = r[sender].writeMessage(this.payload);
    if (this.flip !== undefined) {
      const bit = this.flip % (message.length * 8);
      message[bit >>> 3] = (message[bit >>> 3] as number) ^ (1 << (bit & 7));
    }
    const tampered = this.flip !== undefined || m.diverged;
    const receiver = other(sender);
    if (tampered && authenticated(m.pattern, m.next)) {
      let error: unknown;
      try {
        r[receiver].readMessage(message);
      } catch (e) {
        error = e;
      }
      expect(isNoiseError(error)).toBe(true);
      m.failed[receiver] = true;
    } else {
      const payload = r[receiver].readMessage(message);
      if (this.flip === undefined) expect(Buffer.compare(payload, this.payload)).toBe(0);
      m.diverged ||= this.flip !== undefined;
    }
    m.next++;
    if (m.next === length(m) && !m.failed.init && !m.failed.resp) {
      expect(m.diverged).toBe(false); // the last message is always authenticated here
      const [c1i] = r.init.split();
      const [c1r] = r.resp.split();
      const c = c1i.encryptWithAd(new Uint8Array(0), Uint8Array.of(1, 2, 3));
      expect([...c1r.decryptWithAd(new Uint8Array(0), c)]).toEqual([1, 2, 3]);
      expect(Buffer.compare(r.init.getHandshakeHash(), r.resp.getHandshakeHash())).toBe(0);
    }
  }
  toString = () => `Step(${this.payload.length}, flip ${this.flip})`;
}

class OutOfTurn implements fc.Command<Model, Real> {
  constructor(readonly write: boolean) {}
  check = () => true;
  run(m: Model, r: Real): void {
    // Writing on the side that must read, or reading on the side that must write.
    const side = m.next < length(m) ? (this.write ? other(turnOf(m)) : turnOf(m)) : 'init';
    const call = () =>
      this.write ? r[side].writeMessage() : r[side].readMessage(new Uint8Array(200));
    expect(call).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
    // Nothing changed: the model stays as it was.
    expect(r[turnOf(m)].isMyTurn()).toBe(m.next < length(m) && !m.failed[turnOf(m)]);
  }
  toString = () => `OutOfTurn(${this.write ? 'write' : 'read'})`;
}

it('a HandshakeState pair behaves like its model (fc.commands)', () => {
  const commands = [
    fc
      .tuple(fc.uint8Array({ maxLength: 40 }), fc.option(fc.nat(), { freq: 4, nil: undefined }))
      .map(([p, flip]) => new Step(p, flip)),
    fc.boolean().map((w) => new OutOfTurn(w)),
  ];
  fc.assert(
    fc.property(
      fc.constantFrom<HandshakePatternName>('XX', 'NN', 'IK'),
      fc.commands(commands, { maxCommands: 8 }),
      (pattern, cmds) => {
        const si = generateKeyPair();
        const sr = generateKeyPair();
        const ik = pattern === 'IK';
        const real: Real = {
          init: new HandshakeState({
            pattern,
            initiator: true,
            s: si,
            rs: ik ? sr.publicKey : undefined,
          }),
          resp: new HandshakeState({ pattern, initiator: false, s: sr }),
        };
        const model: Model = {
          pattern,
          next: 0,
          failed: { init: false, resp: false },
          diverged: false,
        };
        fc.modelRun(() => ({ model, real }), cmds);
      },
    ),
    { numRuns: 500 },
  );
});
