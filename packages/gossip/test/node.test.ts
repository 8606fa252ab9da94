import { memoryStreamPair } from '@peerkit/framing/testing';
import { Simulation } from '@peerkit/netsim';
import { describe, expect, test } from 'vitest';
import { GossipError, GossipNode } from '../src/index';

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
