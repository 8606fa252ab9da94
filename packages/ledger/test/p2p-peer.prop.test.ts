/**
 * Model-based test of the peer state machine (src/p2p/peer.ts): under any sequence of messages,
 * garbage and time, it is ready exactly when a valid version and then a verack arrived, answers
 * pings only when ready, never leaves `closed`, and its score never goes down.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../src/p2p/constants';
import { encodeMessage, MessageDecoder } from '../src/p2p/envelope';
import { decodePayload, encodePayload } from '../src/p2p/messages/codec';
import type { Message } from '../src/p2p/messages/types';
import { Peer } from '../src/p2p/peer';
import { REGTEST } from '../src/params';
import { counterRandom, ManualClock } from './helpers/manual-clock';

interface Model {
  elapsed: number;
  version: boolean;
  ready: boolean;
  closed: boolean;
  score: number;
}
interface Real {
  peer: Peer;
  clock: ManualClock;
  sent: Message[];
}

const addr = { services: 0n, host: '127.0.0.1', port: 1 };
const versionMsg = (v: number): Message => ({
  command: 'version',
  version: v,
  services: 9n,
  timestamp: 0n,
  receiver: addr,
  sender: addr,
  nonce: 77n,
  userAgent: '/m/',
  startHeight: 0,
  relay: true,
});

function deliver(r: Real, m: Message): void {
  r.peer.receive(encodeMessage(REGTEST.magic, m.command, encodePayload(m)));
}

/** `mayClose`: the input could legitimately end the connection (garbage, a score of 100). */
function settle(m: Model, r: Real, mayClose = false): void {
  if (r.peer.state === 'closed' && (mayClose || r.peer.score >= 100)) m.closed = true;
  expect(r.peer.state).toBe(m.closed ? 'closed' : m.ready ? 'ready' : 'handshake');
  expect(r.peer.score).toBeGreaterThanOrEqual(m.score);
  m.score = r.peer.score;
}

class Version implements fc.AsyncCommand<Model, Real> {
  constructor(readonly v: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    deliver(r, versionMsg(this.v));
    // A first version below MIN_PEER_PROTO_VERSION ends the connection.
    if (!m.closed && !m.version && this.v < 31800) m.closed = true;
    if (!m.closed && !m.version && !m.ready && this.v >= 31800) m.version = true;
    settle(m, r);
  }
  toString = () => `version(${this.v})`;
}
class Verack implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real) {
    deliver(r, { command: 'verack' });
    if (!m.closed && m.version) m.ready = true;
    settle(m, r);
  }
  toString = () => 'verack';
}
class Ping implements fc.AsyncCommand<Model, Real> {
  constructor(readonly nonce: bigint) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const before = r.sent.length;
    deliver(r, { command: 'ping', nonce: this.nonce });
    settle(m, r);
    const pong = r.sent.slice(before).find((x) => x.command === 'pong');
    if (m.ready && !m.closed) expect(pong).toEqual({ command: 'pong', nonce: this.nonce });
    else expect(pong).toBeUndefined();
  }
  toString = () => `ping(${this.nonce})`;
}
class Garbage implements fc.AsyncCommand<Model, Real> {
  constructor(readonly bytes: Uint8Array) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const before = r.sent.length;
    r.peer.receive(this.bytes);
    if (r.peer.state === 'closed') expect(r.sent.length).toBe(before);
    settle(m, r, true);
  }
  toString = () => `garbage(${this.bytes.length} bytes)`;
}
class Advance implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    r.clock.advance(this.ms);
    m.elapsed += this.ms;
    // No handshake within 60 s ends the connection.
    if (!m.ready && m.elapsed >= 60_000) m.closed = true;
    settle(m, r);
  }
  toString = () => `advance(${this.ms})`;
}

describe('Peer (model-based)', () => {
  it('follows the handshake model under any inputs', async () => {
    const commands = [
      fc.constantFrom(PROTOCOL_VERSION, 31800, 70001, 209, 31799).map((v) => new Version(v)),
      fc.constant(new Verack()),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((n) => new Ping(n)),
      fc.uint8Array({ maxLength: 40 }).map((b) => new Garbage(b)),
      fc.integer({ min: 1, max: 40_000 }).map((ms) => new Advance(ms)),
    ];
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 30 }), async (cmds) => {
        const clock = new ManualClock();
        const sent: Message[] = [];
        const dec = new MessageDecoder({ magic: REGTEST.magic });
        const peer = new Peer({
          magic: REGTEST.magic,
          clock,
          random: counterRandom(3),
          outbound: false,
          address: 'model',
          localVersion: () => versionMsg(PROTOCOL_VERSION) as never,
          send: (bytes) => {
            dec.push(bytes);
            for (let raw = dec.next(); raw; raw = dec.next())
              sent.push(decodePayload(raw.command, raw.payload) as Message);
          },
          handshakeTimeoutMs: 60_000,
          pingIntervalMs: 120_000,
          // Out of reach of the generated time: the ping timeout has its own unit test.
          pingTimeoutMs: 1_000_000_000,
        });
        const model: Model = { elapsed: 0, version: false, ready: false, closed: false, score: 0 };
        await fc.asyncModelRun(() => ({ model, real: { peer, clock, sent } }), cmds);
      }),
      { numRuns: 500 },
    );
  });
});
