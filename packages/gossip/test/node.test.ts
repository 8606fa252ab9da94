import { memoryStreamPair } from '@peerkit/framing/testing';
import { Simulation } from '@peerkit/netsim';
import { describe, expect, test, vi } from 'vitest';
import { GossipError, GossipNode, type PeerEvent } from '../src/index';

async function pair(sim: Simulation, options = {}) {
  const [ha, hb] = [sim.addHost(), sim.addHost()];
  const a = await GossipNode.create(ha.network, {
    listen: { host: ha.address, port: 4001 },
    ...options,
  });
  const b = await GossipNode.create(hb.network, {
    listen: { host: hb.address, port: 4001 },
    bootstrap: [{ host: ha.address, port: 4001 }],
    ...options,
  });
  return { a, b };
}

describe('GossipNode', () => {
  test('connects, announces subscriptions, forms a mesh, emits to itself when asked', async () => {
    const sim = new Simulation({ seed: 5 });
    const errors: unknown[] = [];
    const { a, b } = await pair(sim, { emitSelf: true, onError: (e: unknown) => errors.push(e) });
    a.subscribe('t');
    b.subscribe('t');
    await sim.runFor(1500);
    expect(a.peers()).toEqual([b.peerKey]);
    expect(a.subscribers('t')).toEqual([b.peerKey]);
    expect(a.meshPeers('t')).toEqual([b.peerKey]);
    const seen: string[] = [];
    b.onMessage(() => {
      throw new Error('a buggy handler');
    });
    a.onMessage((e) => seen.push(`a:${e.from === a.peerKey ? 'self' : 'peer'}`));
    b.onMessage(() => seen.push('b'));
    a.publish('t', new Uint8Array([1]));
    await sim.runFor(100);
    expect(seen.sort()).toEqual(['a:self', 'b']);
    expect(errors).toHaveLength(1); // the buggy handler did not stop the others
    expect(a.peers()).toEqual([b.peerKey]); // nor cost the connection
    await Promise.all([a.close(), b.close()]);
    await sim.runFor(100);
    expect(sim.openResources()).toEqual({
      datagramSockets: 0,
      listeners: 0,
      streams: 0,
      timers: 0,
    });
  });

  test('typed errors: CLOSED after close, INVALID_TOPIC, INVALID_OPTION', async () => {
    const sim = new Simulation({ seed: 6 });
    const { a, b } = await pair(sim);
    expect(() => a.subscribe('')).toThrow(expect.objectContaining({ code: 'INVALID_TOPIC' }));
    await a.close();
    await a.close(); // idempotent
    expect(() => a.publish('t', new Uint8Array([1]))).toThrow(GossipError);
    expect(() => a.subscribe('t')).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    await b.close();
    await expect(GossipNode.create(sim.addHost().network, { D: 20 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
  });

  test('idle connections get keep-alives and survive; a silent peer is dropped after idleTimeoutMs', async () => {
    const sim = new Simulation({ seed: 8 });
    const { a, b } = await pair(sim, { keepAliveIntervalMs: 2000, idleTimeoutMs: 5000 });
    await sim.runFor(20_000);
    expect(a.peers()).toEqual([b.peerKey]);
    // Stop b's heartbeat (and so its keep-alives) without closing its connection.
    (b as unknown as { heartbeatTimer: { cancel(): void } }).heartbeatTimer.cancel();
    await sim.runFor(8_000);
    expect(a.peers()).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });
});

test('addStream runs gossip over any transport Stream (an in-memory pair here)', async () => {
  const sim = new Simulation({ seed: 9 });
  const [ha, hb] = [sim.addHost(), sim.addHost()];
  const a = await GossipNode.create(ha.network);
  const b = await GossipNode.create(hb.network);
  const { a: sa, b: sb } = memoryStreamPair();
  a.addStream(sa, true);
  b.addStream(sb, false);
  a.subscribe('mem');
  b.subscribe('mem');
  const got: number[] = [];
  b.onMessage((e) => got.push(e.message.data[0] as number));
  await sim.runFor(2000);
  expect(a.peers()).toEqual([b.peerKey]);
  a.publish('mem', new Uint8Array([42]));
  await sim.runFor(100);
  expect(got).toEqual([42]);
  await Promise.all([a.close(), b.close()]);
});

describe('authenticated peer ids, peer events, seqno across restarts', () => {
  test('addStream({ expectedPeerId }): a hello naming another peer is refused (BAD_HELLO) and penalised', async () => {
    const sim = new Simulation({ seed: 21 });
    const [ha, hb, hc] = [sim.addHost(), sim.addHost(), sim.addHost()];
    const a = await GossipNode.create(ha.network);
    const b = await GossipNode.create(hb.network);
    const c = await GossipNode.create(hc.network); // the peer b pretends to be
    const events: PeerEvent[] = [];
    a.onPeer((e) => events.push(e));
    expect(() =>
      a.addStream(memoryStreamPair().a, { expectedPeerId: new Uint8Array(31) }),
    ).toThrowError(expect.objectContaining({ code: 'INVALID_OPTION' }));
    for (let attempt = 0; attempt < 2; attempt++) {
      const { a: sa, b: sb } = memoryStreamPair();
      // The transport authenticated c at the other end, but b speaks there: b's hello says b.
      a.addStream(sa, { expectedPeerId: c.peerId });
      b.addStream(sb, { outbound: true });
      await sim.runFor(500);
    }
    expect(a.peers()).toEqual([]);
    expect(events.map((e) => e.type)).toEqual(['refused', 'refused']);
    const refused = events[0];
    expect(refused?.type === 'refused' && refused.error.code).toBe('BAD_HELLO');
    expect(refused).toMatchObject({ expected: c.peerKey, claimed: b.peerKey, outbound: false });
    // Two offences: a behaviour penalty over the threshold, kept although c never connected.
    expect(a.score(c.peerKey)).toBeLessThan(0);
    expect(a.score(b.peerKey)).toBe(0); // the claimed id is not blamed (it may be a victim)

    // The control: the right expected id connects.
    const { a: sa, b: sb } = memoryStreamPair();
    a.addStream(sa, { expectedPeerId: b.peerId });
    b.addStream(sb, true);
    await sim.runFor(500);
    expect(a.peers()).toEqual([b.peerKey]);
    expect(events.at(-1)).toMatchObject({ type: 'connect', peer: b.peerKey, outbound: false });
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  test('onPeer: one connect and one disconnect per peer; handler errors go to onError', async () => {
    const sim = new Simulation({ seed: 22 });
    const errors: unknown[] = [];
    const { a, b } = await pair(sim, { onError: (e: unknown) => errors.push(e) });
    const seenA: PeerEvent[] = [];
    const seenB: PeerEvent[] = [];
    a.onPeer(() => {
      throw new Error('a buggy peer handler');
    });
    a.onPeer((e) => seenA.push(e));
    const off = b.onPeer((e) => seenB.push(e));
    await sim.runFor(1500);
    expect(seenA).toMatchObject([{ type: 'connect', peer: b.peerKey, outbound: false }]);
    expect(seenB).toMatchObject([{ type: 'connect', peer: a.peerKey, outbound: true }]);
    expect(errors).toHaveLength(1);
    off();
    await b.close();
    await sim.runFor(500);
    expect(seenA.map((e) => e.type)).toEqual(['connect', 'disconnect']);
    expect(seenA[1]).toMatchObject({ type: 'disconnect', peer: b.peerKey });
    expect(a.peers()).toEqual([]);
    expect(seenB).toHaveLength(1); // removed handler, and no events after close()
    await a.close();
  });

  test('a publisher restarted with the same identity within the seen-cache TTL is still delivered', async () => {
    const sim = new Simulation({ seed: 23 });
    const [hs, hp] = [sim.addHost(), sim.addHost()];
    const options = { allowPublishToZeroPeers: true, seenTtlMs: 120_000 };
    const sub = await GossipNode.create(hs.network, {
      listen: { host: hs.address, port: 4001 },
      ...options,
    });
    sub.subscribe('t');
    const got: string[] = [];
    sub.onMessage((e) => got.push(new TextDecoder().decode(e.message.data)));
    const identitySeed = new Uint8Array(32).fill(7);
    const ids: string[] = [];
    for (const run of ['first', 'second']) {
      const pub = await GossipNode.create(hp.network, {
        bootstrap: [{ host: hs.address, port: 4001 }],
        identitySeed,
        ...options,
      });
      pub.subscribe('t');
      await sim.runFor(1500);
      for (let i = 0; i < 3; i++) {
        const { id } = pub.publish('t', new TextEncoder().encode(`${run} ${i}`));
        ids.push(Buffer.from(id).toString('hex'));
      }
      await sim.runFor(500);
      await pub.close();
      await sim.runFor(500); // well within seenTtlMs
    }
    expect(new Set(ids).size).toBe(6); // no id of the restarted node repeats an old one
    expect(got).toEqual(['first 0', 'first 1', 'first 2', 'second 0', 'second 1', 'second 2']);
    await sub.close();
  });
});

describe('GossipNode events', () => {
  test('a throwing handler neither crashes the node nor stops the other handlers (default reporter)', async () => {
    const sim = new Simulation({ seed: 31 });
    const reported: unknown[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...args) => {
      reported.push(args);
    });
    try {
      const { a, b } = await pair(sim);
      a.subscribe('t');
      b.subscribe('t');
      await sim.runFor(1500);
      const got: number[] = [];
      b.on('message', () => {
        throw new Error('handler bug');
      });
      const off = b.on('message', (e) => got.push(e.message.data[0]!));
      a.publish('t', new Uint8Array([1]));
      await sim.runFor(100);
      a.publish('t', new Uint8Array([2]));
      await sim.runFor(100);
      off();
      a.publish('t', new Uint8Array([3]));
      await sim.runFor(100);
      expect(got).toEqual([1, 2]);
      expect(reported).toHaveLength(3); // one report per throw, none of them fatal
      expect(b.peers()).toEqual([a.peerKey]);
      expect(b.stats.delivered).toBe(3);
      await Promise.all([a.close(), b.close()]);
    } finally {
      spy.mockRestore();
    }
  });
});
