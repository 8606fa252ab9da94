import { describe, expect, test } from 'vitest';
import { ConnectionManager, GossipPromises, MessageCache, SeenCache } from '../src/index';
import { seededRandom } from './helpers/router';

const msg = (topic: string) => ({ topic, data: new Uint8Array([1]) });

describe('message cache (v1.0 "Message Cache")', () => {
  test('gossip covers the last mcacheGossip windows; get covers mcacheLength', () => {
    const c = new MessageCache(5, 3);
    for (let i = 0; i < 6; i++) {
      c.put(`m${i}`, new Uint8Array([i]), msg(i % 2 === 0 ? 'a' : 'b'));
      c.shift();
    }
    // windows now: [], m5, m4, m3, m2 (m0, m1 dropped)
    expect(c.get('m0')).toBeUndefined();
    expect(c.get('m2')).toBeDefined();
    expect(c.gossipIds('a').map((id) => id[0])).toEqual([4]);
    expect(c.gossipIds('b').map((id) => id[0])).toEqual([5]);
  });
  test('a peer fetches one message at most maxTransmissions times', () => {
    const c = new MessageCache(5, 3);
    c.put('m', new Uint8Array([1]), msg('a'));
    expect(c.getForPeer('m', 'p', 2)).toBeDefined();
    expect(c.getForPeer('m', 'p', 2)).toBeDefined();
    expect(c.getForPeer('m', 'p', 2)).toBeUndefined();
    expect(c.getForPeer('m', 'q', 2)).toBeDefined();
  });
});

test('seen cache forgets ids after the TTL', () => {
  const s = new SeenCache(1000);
  expect(s.add('a', 0)).toBe(true);
  expect(s.add('a', 500)).toBe(false);
  expect(s.has('a', 999)).toBe(true);
  expect(s.has('a', 1000)).toBe(false);
  expect(s.add('b', 1500)).toBe(true);
  expect(s.size).toBe(1);
});

test('gossip promises: broken after the follow-up time, kept on delivery', () => {
  const g = new GossipPromises(3000);
  g.addPromise('p', ['x'], 0, seededRandom(1));
  g.addPromise('q', ['y'], 0, seededRandom(1));
  g.deliver('y');
  expect(g.brokenPromises(2999).size).toBe(0);
  expect(g.brokenPromises(3000)).toEqual(new Map([['p', 1]]));
  expect(g.size).toBe(0);
});

describe('connection manager', () => {
  const params = {
    targetPeers: 2,
    maxPeers: 4,
    backoffMs: 1000,
    maxBackoffMs: 8000,
    maxConcurrentDials: 8,
    maxFailures: 3,
    maxKnown: 10,
  };
  const addr = (i: number) => ({ host: `10.0.0.${i}`, port: 4001 });
  test('dials permanent peers always, learnt ones only below target', () => {
    const m = new ConnectionManager(params, seededRandom(1));
    m.add(addr(1), true);
    m.add(addr(2), false);
    m.add(addr(3), false);
    expect(m.due(0, 0, 0)).toEqual([addr(1), addr(2), addr(3)].slice(0, 3).filter((_, i) => i < 3));
    const m2 = new ConnectionManager(params, seededRandom(1));
    m2.add(addr(1), true);
    m2.add(addr(2), false);
    expect(m2.due(0, 2, 2)).toEqual([addr(1)]);
    expect(m2.due(0, 0, 4)).toEqual([]); // maxPeers reached
  });
  test('reconnect backoff doubles with jitter and is capped; learnt addresses are forgotten', () => {
    const m = new ConnectionManager(params, seededRandom(1));
    for (let f = 0; f < 6; f++) {
      const d = m.delay(f);
      const base = Math.min(8000, 1000 * 2 ** f);
      expect(d).toBeGreaterThanOrEqual(base / 2);
      expect(d).toBeLessThanOrEqual(base);
    }
    m.add(addr(1), true);
    m.add(addr(2), false);
    m.due(0, 0, 0);
    m.dialFailed(addr(1), 0);
    m.dialFailed(addr(2), 0);
    expect(m.due(0, 0, 0)).toEqual([]); // both backing off
    expect(m.due(10_000, 0, 0)).toEqual([addr(1), addr(2)]);
    m.dialFailed(addr(2), 10_000);
    m.due(30_000, 0, 0);
    m.dialFailed(addr(2), 30_000);
    expect(m.size).toBe(1); // the learnt address failed 3 times
    expect(m.acceptInbound(3)).toBe(true);
    expect(m.acceptInbound(4)).toBe(false);
  });
});
