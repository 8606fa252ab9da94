import { describe, expect, test } from 'vitest';
import {
  contentMessageId,
  defaultMessageId,
  GossipError,
  type GossipOptions,
  msgKey,
} from '../src/index';
import { fakePeer, harness, sub } from './helpers/router';

const T = 'topic';
const data = new Uint8Array([1, 2, 3]);

function connected(n: number, options: GossipOptions = {}) {
  const h = harness(options);
  const peers = Array.from({ length: n }, () => fakePeer());
  for (const p of peers) {
    h.router.addPeer(p.key, true, `10.0.${peers.indexOf(p)}.1`);
    h.router.handleRpc(p.key, sub(T));
  }
  return { ...h, peers };
}

describe('publish', () => {
  test('typed errors: NO_PEERS_SUBSCRIBED, MESSAGE_TOO_LARGE, INVALID_TOPIC, DUPLICATE', () => {
    const h = harness();
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(GossipError);
        return (e as GossipError).code;
      }
      return 'none';
    };
    expect(code(() => h.router.publish(T, data))).toBe('NO_PEERS_SUBSCRIBED');
    expect(code(() => h.router.publish(T, new Uint8Array(1024 * 1024 + 1)))).toBe(
      'MESSAGE_TOO_LARGE',
    );
    expect(code(() => h.router.publish('', data))).toBe('INVALID_TOPIC');
    const anon = harness({ signaturePolicy: 'strict-no-sign', allowPublishToZeroPeers: true });
    expect(anon.router.publish(T, data).recipients).toBe(0);
    expect(code(() => anon.router.publish(T, data))).toBe('DUPLICATE');
  });

  test('flood publish sends to every subscriber; without it, to D fanout peers', () => {
    const flood = connected(10);
    expect(flood.router.publish(T, data).recipients).toBe(10);
    const fan = connected(10, { floodPublish: false });
    expect(fan.router.publish(T, data).recipients).toBe(6);
    // The same fanout serves the next publish; it expires fanoutTtlMs after the last one.
    const first = new Set(fan.sent.filter(([, r]) => r.msgs).map(([p]) => p));
    fan.sent.length = 0;
    fan.router.publish(T, new Uint8Array([9]));
    expect(new Set(fan.sent.filter(([, r]) => r.msgs).map(([p]) => p))).toEqual(first);
  });

  test('signed messages carry from, seqno and a signature; the default id is from || seqno', () => {
    const h = connected(1);
    h.router.publish(T, data);
    const m = h.sentTo(h.peers[0]!.key).find((r) => r.msgs)?.msgs?.[0];
    expect(m?.from?.length).toBe(32);
    expect(m?.sig?.length).toBe(64);
    expect(defaultMessageId(m!).length).toBe(40);
  });
});

describe('incoming messages', () => {
  test('delivered once, forwarded to the mesh but never back to the source or the author', () => {
    const h = connected(8);
    h.router.subscribe(T);
    const [author, source] = [h.peers[0]!, h.peers[1]!];
    for (const p of h.peers) h.router.handleRpc(p.key, { type: 'rpc', control: { graft: [T] } });
    h.sent.length = 0;
    const m = author.message(T, data);
    h.router.handleRpc(source.key, { type: 'rpc', msgs: [m] });
    h.router.handleRpc(h.peers[2]!.key, { type: 'rpc', msgs: [m] });
    expect(h.delivered).toHaveLength(1);
    expect(h.router.stats.duplicates).toBe(1);
    const targets = h.sent.filter(([, r]) => r.msgs).map(([p]) => p);
    expect(targets).not.toContain(source.key);
    expect(targets).not.toContain(author.key);
    expect(targets.length).toBe(6);
  });

  test('a bad signature is rejected and counted against the sender (P4)', () => {
    const h = connected(2);
    h.router.subscribe(T);
    const m = { ...h.peers[0]!.message(T, data), data: new Uint8Array([7]) };
    h.router.handleRpc(h.peers[1]!.key, { type: 'rpc', msgs: [m] });
    expect(h.delivered).toHaveLength(0);
    expect(h.router.stats.rejected).toBe(1);
    expect(h.router.score.score(h.peers[1]!.key)).toBeLessThan(0);
    // The forged copy did not shadow the real message.
    h.router.handleRpc(h.peers[0]!.key, { type: 'rpc', msgs: [h.peers[0]!.message(T, data)] });
    expect(h.delivered).toHaveLength(1);
  });

  test('validator: reject counts against the sender, ignore does not, async verdicts work', async () => {
    let verdict: 'accept' | 'reject' | 'ignore' = 'reject';
    const h = connected(2, { validator: () => verdict });
    h.router.subscribe(T);
    const [a, b] = h.peers as [ReturnType<typeof fakePeer>, ReturnType<typeof fakePeer>];
    h.router.handleRpc(a.key, { type: 'rpc', msgs: [a.message(T, data)] });
    expect(h.router.score.stats(a.key)?.topics.get(T)?.invalidMessageDeliveries).toBe(1);
    verdict = 'ignore';
    h.router.handleRpc(b.key, { type: 'rpc', msgs: [b.message(T, data)] });
    expect(h.router.score.score(b.key)).toBe(0);
    expect(h.delivered).toHaveLength(0);
    const slow = connected(1, { validator: async () => 'accept' as const });
    slow.router.subscribe(T);
    slow.router.handleRpc(slow.peers[0]!.key, {
      type: 'rpc',
      msgs: [slow.peers[0]!.message(T, data)],
    });
    await Promise.resolve();
    expect(slow.delivered).toHaveLength(1);
  });

  test('strict-no-sign rejects signed messages and accepts anonymous ones (content ids)', () => {
    const h = connected(1, { signaturePolicy: 'strict-no-sign' });
    h.router.subscribe(T);
    const p = h.peers[0]!;
    h.router.handleRpc(p.key, { type: 'rpc', msgs: [p.message(T, data)] });
    expect(h.delivered).toHaveLength(0);
    h.router.handleRpc(p.key, { type: 'rpc', msgs: [{ topic: T, data }] });
    expect(h.delivered).toHaveLength(1);
    expect(contentMessageId({ topic: T, data }).length).toBe(32);
  });

  test('messages for topics we do not subscribe to are ignored', () => {
    const h = connected(1);
    h.router.handleRpc(h.peers[0]!.key, {
      type: 'rpc',
      msgs: [h.peers[0]!.message('other', data)],
    });
    expect(h.delivered).toHaveLength(0);
    expect(h.router.stats.ignored).toBe(1);
  });
});

describe('gossip', () => {
  test('IHAVE → IWANT for unseen ids; a broken promise becomes a behaviour penalty (P7)', () => {
    const h = connected(1, { iwantFollowupMs: 3000 });
    h.router.subscribe(T);
    const p = h.peers[0]!;
    const ids = [new Uint8Array([1]), new Uint8Array([2])];
    h.router.handleRpc(p.key, { type: 'rpc', control: { ihave: [{ topic: T, ids }] } });
    const iwant = h.sentTo(p.key).find((r) => r.control?.iwant)?.control?.iwant;
    expect(iwant?.map((id) => id[0]).sort()).toEqual([1, 2]);
    h.clock.now = 3001;
    h.router.heartbeat();
    expect(h.router.score.stats(p.key)?.behaviourPenalty).toBe(1);
  });

  test('a kept promise is not penalised', () => {
    const h = connected(1);
    h.router.subscribe(T);
    const p = h.peers[0]!;
    const m = p.message(T, data);
    h.router.handleRpc(p.key, {
      type: 'rpc',
      control: { ihave: [{ topic: T, ids: [defaultMessageId(m)] }] },
    });
    h.router.handleRpc(p.key, { type: 'rpc', msgs: [m] });
    h.clock.now = 10_000;
    h.router.heartbeat();
    expect(h.router.score.stats(p.key)?.behaviourPenalty).toBe(0);
  });

  test('at most maxIHaveMessages IHAVEs per peer per heartbeat are followed', () => {
    const h = connected(1, { limits: { maxIHaveMessages: 2 } });
    h.router.subscribe(T);
    const p = h.peers[0]!;
    for (let i = 0; i < 5; i++) {
      h.router.handleRpc(p.key, {
        type: 'rpc',
        control: { ihave: [{ topic: T, ids: [new Uint8Array([i])] }] },
      });
    }
    expect(h.sentTo(p.key).filter((r) => r.control?.iwant).length).toBe(2);
  });

  test('IWANT is answered from the cache at most gossipRetransmission times', () => {
    const h = connected(1, { gossipRetransmission: 2 });
    h.router.subscribe(T);
    const { id } = h.router.publish(T, data);
    const p = h.peers[0]!;
    h.sent.length = 0;
    for (let i = 0; i < 4; i++)
      h.router.handleRpc(p.key, { type: 'rpc', control: { iwant: [id] } });
    expect(h.sentTo(p.key).filter((r) => r.msgs).length).toBe(2);
  });

  test('the heartbeat sends IHAVE with cached ids to non-mesh peers', () => {
    const h = connected(20);
    h.router.subscribe(T);
    h.router.handleRpc(h.peers[0]!.key, { type: 'rpc', msgs: [h.peers[0]!.message(T, data)] });
    h.sent.length = 0;
    h.router.heartbeat();
    const mesh = h.router.mesh.peers(T);
    const gossiped = h.sent.filter(([, r]) => r.control?.ihave).map(([p]) => p);
    expect(gossiped.length).toBeGreaterThanOrEqual(6);
    for (const p of gossiped) expect(mesh.has(p)).toBe(false);
    expect(
      msgKey(h.sent.find(([, r]) => r.control?.ihave)![1].control!.ihave![0]!.ids[0]!),
    ).toBeTruthy();
  });
});

describe('control and limits', () => {
  test('GRAFT during backoff is answered with PRUNE and penalised', () => {
    const h = connected(1);
    h.router.subscribe(T);
    const p = h.peers[0]!;
    h.router.handleRpc(p.key, { type: 'rpc', control: { prune: [{ topic: T, backoff: 60 }] } });
    h.router.handleRpc(p.key, { type: 'rpc', control: { graft: [T] } });
    const prune = h.sentTo(p.key).find((r) => r.control?.prune)?.control?.prune?.[0];
    expect(prune?.backoff).toBe(60);
    expect(h.router.score.stats(p.key)?.behaviourPenalty).toBeGreaterThan(0);
  });

  test('peer exchange is used only from peers at or above acceptPXThreshold', () => {
    const h = connected(1, { scoreThresholds: { acceptPXThreshold: 0 } });
    const record = { id: new Uint8Array(32).fill(9), host: '10.9.9.9', port: 4001 };
    h.router.handleRpc(h.peers[0]!.key, {
      type: 'rpc',
      control: { prune: [{ topic: T, px: [record] }] },
    });
    expect(h.px).toHaveLength(1);
    const strict = connected(1, { scoreThresholds: { acceptPXThreshold: 10 } });
    strict.router.handleRpc(strict.peers[0]!.key, {
      type: 'rpc',
      control: { prune: [{ topic: T, px: [record] }] },
    });
    expect(strict.px).toHaveLength(0);
  });

  test('subscriptions beyond maxTopicsPerPeer are ignored and penalised', () => {
    const h = connected(1, { maxTopicsPerPeer: 3 });
    const p = h.peers[0]!;
    h.router.handleRpc(p.key, {
      type: 'rpc',
      subs: ['a', 'b', 'c', 'd'].map((topic) => ({ topic, subscribe: true })),
    });
    expect(h.router.peerTopics(p.key).size).toBe(3);
    expect(h.router.score.stats(p.key)?.behaviourPenalty).toBeGreaterThan(0);
  });

  test('every RPC of a graylisted peer is ignored', () => {
    const h = connected(2);
    h.router.subscribe(T);
    const bad = h.peers[0]!;
    h.router.score.addPenalty(bad.key, 10); // (10 - 1)^2 × -10 = -810 < -80
    expect(h.router.isGraylisted(bad.key)).toBe(true);
    h.router.handleRpc(bad.key, { type: 'rpc', msgs: [bad.message(T, data)] });
    expect(h.delivered).toHaveLength(0);
    expect(h.router.stats.graylisted).toBe(1);
  });

  test('unsubscribe prunes the mesh with the unsubscribe backoff', () => {
    const h = connected(6);
    h.router.subscribe(T);
    h.sent.length = 0;
    h.router.unsubscribe(T);
    const prunes = h.sent.filter(([, r]) => r.control?.prune);
    expect(prunes.length).toBe(6);
    expect(prunes[0]?.[1].control?.prune?.[0]?.backoff).toBe(10);
  });

  test('a custom msgIdFn decides what counts as a duplicate', () => {
    const h = connected(2, { msgIdFn: (m) => m.data });
    h.router.subscribe(T);
    const [a, b] = h.peers as [ReturnType<typeof fakePeer>, ReturnType<typeof fakePeer>];
    h.router.handleRpc(a.key, { type: 'rpc', msgs: [a.message(T, data)] });
    h.router.handleRpc(b.key, { type: 'rpc', msgs: [b.message(T, data)] });
    expect(h.delivered).toHaveLength(1);
    expect(h.router.stats.duplicates).toBe(1);
  });

  test('the heartbeat sends at most one batched RPC per peer (js-libp2p-gossipsub#256)', () => {
    const h = connected(50);
    h.router.subscribe(T);
    for (let i = 0; i < 1000; i++) {
      const p = h.peers[i % 50]!;
      h.router.handleRpc(p.key, {
        type: 'rpc',
        msgs: [p.message(T, new Uint8Array([i & 255, i >> 8]))],
      });
    }
    h.sent.length = 0;
    h.router.heartbeat();
    const perPeer = new Map<string, number>();
    for (const [peer] of h.sent) perPeer.set(peer, (perPeer.get(peer) ?? 0) + 1);
    expect(Math.max(...perPeer.values())).toBe(1);
    // IHAVE carries every id of the gossip windows, within maxIHaveLength.
    const ihave = h.sent.find(([, r]) => r.control?.ihave)?.[1].control?.ihave?.[0];
    expect(ihave?.ids.length).toBe(1000);
  });

  test('subscriptions are announced to a new peer in RPCs within maxTopicsPerRpc', () => {
    const h = harness({ limits: { maxTopicsPerRpc: 4 } });
    for (let i = 0; i < 10; i++) h.router.subscribe(`t${i}`);
    const p = fakePeer();
    h.router.addPeer(p.key, false, undefined);
    const subs = h.sentTo(p.key).filter((r) => r.subs);
    expect(subs.map((r) => r.subs?.length)).toEqual([4, 4, 2]);
  });

  test('a throwing validator is an application error: message ignored, peer not penalised', () => {
    const h = connected(1, {
      validator: () => {
        throw new Error('app bug');
      },
    });
    h.router.subscribe(T);
    const p = h.peers[0]!;
    h.router.handleRpc(p.key, { type: 'rpc', msgs: [p.message(T, data)] });
    expect(h.delivered).toHaveLength(0);
    expect(h.errors).toHaveLength(1);
    expect(h.router.score.score(p.key)).toBe(0);
  });
});
