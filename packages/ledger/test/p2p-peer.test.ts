import { describe, expect, it } from 'vitest';
import { NODE_NETWORK, NODE_WITNESS, PROTOCOL_VERSION } from '../src/p2p/constants';
import { encodeMessage, MessageDecoder } from '../src/p2p/envelope';
import { decodePayload, encodePayload } from '../src/p2p/messages/codec';
import type { Message, VersionMessage } from '../src/p2p/messages/types';
import { Peer, type PeerOptions } from '../src/p2p/peer';
import { REGTEST } from '../src/params';
import { counterRandom, ManualClock } from './helpers/manual-clock';

function version(nonce: bigint, v = PROTOCOL_VERSION): VersionMessage {
  const addr = { services: 0n, host: '127.0.0.1', port: 0 };
  return {
    command: 'version',
    version: v,
    services: NODE_NETWORK | NODE_WITNESS,
    timestamp: 0n,
    receiver: addr,
    sender: addr,
    nonce,
    userAgent: '/test/',
    startHeight: 0,
    relay: true,
  };
}

/** A peer whose outgoing messages are decoded into `sent`. */
function lonePeer(outbound: boolean, extra: Partial<PeerOptions> = {}) {
  const clock = new ManualClock();
  const sent: Message[] = [];
  const dec = new MessageDecoder({ magic: REGTEST.magic });
  const peer = new Peer({
    magic: REGTEST.magic,
    clock,
    random: counterRandom(),
    outbound,
    address: 'test',
    localVersion: () => version(42n),
    send: (bytes) => {
      dec.push(bytes);
      for (let raw = dec.next(); raw; raw = dec.next())
        sent.push(decodePayload(raw.command, raw.payload) as Message);
    },
    ...extra,
  });
  const deliver = (m: Message) =>
    peer.receive(encodeMessage(REGTEST.magic, m.command, encodePayload(m)));
  return { peer, clock, sent, deliver };
}

describe('Peer handshake (developer reference, "Connecting To Peers")', () => {
  it('two peers complete the version/verack handshake and negotiate features', () => {
    const clock = new ManualClock();
    const queue: [Peer, Uint8Array][] = [];
    const make = (outbound: boolean, nonce: bigint, target: () => Peer) =>
      new Peer({
        magic: REGTEST.magic,
        clock,
        random: counterRandom(Number(nonce)),
        outbound,
        address: outbound ? 'b' : 'a',
        localVersion: () => version(nonce),
        send: (bytes) => queue.push([target(), bytes]),
      });
    let a: Peer | undefined;
    let b: Peer | undefined;
    b = make(false, 2n, () => a as Peer);
    a = make(true, 1n, () => b as Peer);
    for (let i = 0; i < 100 && queue.length > 0; i++) {
      const [to, bytes] = queue.shift() as [Peer, Uint8Array];
      to.receive(bytes);
    }
    expect(a.state).toBe('ready');
    expect(b.state).toBe('ready');
    expect(a.info?.sendHeaders).toBe(true);
    expect(b.info?.compactVersion).toBe(2n);
    expect(a.pingTimeMs).toBe(0);
  });

  it('answers version with verack and becomes ready on verack (inbound)', () => {
    const { peer, sent, deliver } = lonePeer(false);
    expect(sent).toEqual([]);
    deliver(version(7n));
    expect(sent.map((m) => m.command)).toEqual(['version', 'verack']);
    deliver({ command: 'verack' });
    expect(peer.state).toBe('ready');
    expect(sent.map((m) => m.command)).toContain('ping');
  });

  it('refuses peers below MIN_PEER_PROTO_VERSION and connections to itself', () => {
    const old = lonePeer(true);
    old.deliver(version(7n, 31799));
    expect(old.peer.state).toBe('closed');
    const self = lonePeer(false, { isLocalNonce: (n) => n === 42n });
    self.deliver(version(42n));
    expect(self.peer.state).toBe('closed');
    const other = lonePeer(false, { isLocalNonce: (n) => n === 42n });
    other.deliver(version(5n));
    expect(other.peer.state).toBe('handshake');
  });

  it('scores messages before version and bans at 100', () => {
    const { peer, deliver } = lonePeer(false);
    const banned: boolean[] = [];
    peer.on('misbehaved', (e) => banned.push(e.banned));
    for (let i = 0; i < 10; i++) deliver({ command: 'getaddr' });
    expect(peer.score).toBe(100);
    expect(banned.at(-1)).toBe(true);
    expect(peer.state).toBe('closed');
  });

  it('a bad checksum drops the message and scores 50: the second one is a ban', () => {
    const { peer, sent } = lonePeer(false);
    const bytes = encodeMessage(REGTEST.magic, 'version', encodePayload(version(7n)));
    bytes[23] = (bytes[23] as number) ^ 0xff;
    peer.receive(bytes);
    expect(peer.score).toBe(50);
    expect(sent).toEqual([]); // the version was not processed
    expect(peer.state).toBe('handshake');
    peer.receive(bytes);
    expect(peer.score).toBe(100);
    expect(peer.state).toBe('closed');
  });

  it('pong must echo the ping nonce (BIP 31); no pong closes after the timeout', () => {
    const { peer, clock, sent, deliver } = lonePeer(false, {
      pingIntervalMs: 1000,
      pingTimeoutMs: 5000,
    });
    deliver(version(7n));
    deliver({ command: 'verack' });
    const ping = sent.find((m) => m.command === 'ping');
    if (ping?.command !== 'ping') throw new Error('no ping');
    deliver({ command: 'pong', nonce: ping.nonce + 1n });
    expect(peer.pingTimeMs).toBeUndefined();
    clock.advance(200);
    deliver({ command: 'pong', nonce: ping.nonce });
    expect(peer.pingTimeMs).toBe(200);
    // Answers pings too.
    deliver({ command: 'ping', nonce: 99n });
    expect(sent.at(-1)).toEqual({ command: 'pong', nonce: 99n });
    clock.advance(1000); // next ping goes out
    clock.advance(6000); // and is never answered
    expect(peer.state).toBe('closed');
  });

  it('closes when the handshake does not complete in time', () => {
    const { peer, clock } = lonePeer(true, { handshakeTimeoutMs: 1000 });
    clock.advance(999);
    expect(peer.state).toBe('handshake');
    clock.advance(1);
    expect(peer.state).toBe('closed');
  });

  it('a throwing event handler neither crashes the peer nor stops other handlers', () => {
    const errors: unknown[] = [];
    const { peer, deliver } = lonePeer(false);
    peer.setHandlerErrorReporter((e) => errors.push(e));
    let other = 0;
    peer.on('ready', () => {
      throw new Error('boom');
    });
    peer.on('ready', () => {
      other++;
    });
    deliver(version(7n));
    deliver({ command: 'verack' });
    expect(peer.state).toBe('ready');
    expect(other).toBe(1);
    expect(errors.length).toBe(1);
  });
});
