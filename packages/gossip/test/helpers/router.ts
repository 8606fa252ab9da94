import type { Random } from '@peerkit/transport';
import {
  type GossipMessage,
  type GossipOptions,
  Identity,
  type PeerKey,
  type PeerRecord,
  peerIdOf,
  peerKey,
  Router,
  type Rpc,
  resolveOptions,
  signedBytes,
} from '../../src/index';

export function seededRandom(seed: number): Random {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return {
    int: (max) => next() % max,
    bytes: (n) => Uint8Array.from({ length: n }, () => next() & 0xff),
  };
}

/** A Router driven by hand: a fake clock, captured sends, deliveries and PX requests. */
export function harness(options: GossipOptions = {}) {
  const sent: [PeerKey, Rpc][] = [];
  const delivered: GossipMessage[] = [];
  const px: PeerRecord[] = [];
  const errors: unknown[] = [];
  const clock = { now: 0 };
  const router = new Router(
    resolveOptions(options),
    {
      now: () => clock.now,
      random: seededRandom(42),
      send: (peer, rpc) => sent.push([peer, rpc]),
      deliver: (m) => delivered.push(m),
      connectPx: (records) => px.push(...records),
      pxRecord: (peer) => ({ id: peerIdOf(peer), host: '10.0.0.1', port: 4001 }),
      onError: (error) => errors.push(error),
    },
    Identity.fromSeed(new Uint8Array(32).fill(200)),
  );
  const sentTo = (peer: PeerKey) => sent.filter(([p]) => p === peer).map(([, r]) => r);
  return { router, sent, delivered, px, clock, sentTo, errors };
}

let next = 1;
/** A fake remote peer with its own identity. */
export function fakePeer() {
  const identity = Identity.fromSeed(new Uint8Array(32).fill(next++));
  let seqno = 0;
  return {
    identity,
    key: peerKey(identity.publicKey),
    message(topic: string, data: Uint8Array): GossipMessage {
      const from = identity.publicKey;
      const s = ++seqno;
      return { from, seqno: s, topic, data, sig: identity.sign(signedBytes(from, s, topic, data)) };
    },
  };
}

export const sub = (topic: string): Rpc => ({ type: 'rpc', subs: [{ topic, subscribe: true }] });
