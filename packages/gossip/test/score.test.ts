import { describe, expect, test } from 'vitest';
import {
  computeScore,
  defaultPeerScoreParams,
  GossipError,
  PeerScore,
  type PeerScoreParams,
  resolveOptions,
  type TopicStats,
  topicScore,
} from '../src/index';

const T = 't';
function params(over: Partial<PeerScoreParams> = {}): PeerScoreParams {
  return { ...defaultPeerScoreParams(), ...over };
}
const stats = (t: Partial<TopicStats>): TopicStats => ({
  inMesh: false,
  graftTime: 0,
  meshTime: 0,
  firstMessageDeliveries: 0,
  meshMessageDeliveries: 0,
  meshMessageDeliveriesActive: false,
  meshFailurePenalty: 0,
  invalidMessageDeliveries: 0,
  ...t,
});

describe('score function (v1.1 "The Score Function")', () => {
  const p = {
    ...defaultPeerScoreParams().defaultTopic,
    meshMessageDeliveriesWeight: -2,
    meshFailurePenaltyWeight: -3,
    meshMessageDeliveriesThreshold: 4,
  };
  test('P1 time in mesh, in quanta, capped', () => {
    expect(topicScore(stats({ inMesh: true, meshTime: 5000 }), p)).toBeCloseTo(
      5 * p.timeInMeshWeight,
    );
    expect(topicScore(stats({ inMesh: true, meshTime: 1e9 }), p)).toBeCloseTo(
      p.timeInMeshCap * p.timeInMeshWeight,
    );
  });
  test('P2 first deliveries, P3 deficit squared, P3b, P4 squared', () => {
    expect(topicScore(stats({ firstMessageDeliveries: 3 }), p)).toBe(3);
    expect(
      topicScore(stats({ meshMessageDeliveriesActive: true, meshMessageDeliveries: 1 }), p),
    ).toBe(-2 * 9);
    expect(
      topicScore(stats({ meshMessageDeliveriesActive: false, meshMessageDeliveries: 0 }), p),
    ).toBe(0);
    expect(topicScore(stats({ meshFailurePenalty: 2 }), p)).toBe(-6);
    expect(topicScore(stats({ invalidMessageDeliveries: 3 }), p)).toBe(
      9 * p.invalidMessageDeliveriesWeight,
    );
  });
  test('topic cap, P5, P6 surplus squared (whitelist exempt), P7 excess squared', () => {
    const pp = params({ topicScoreCap: 5, appSpecificScore: () => 2, appSpecificWeight: 3 });
    const s = {
      connected: true,
      expire: 0,
      topics: new Map([[T, stats({ firstMessageDeliveries: 20 })]]),
      ips: ['10.0.0.1'],
      behaviourPenalty: 3,
    };
    const perIp = new Map([['10.0.0.1', 5]]);
    // 5 (capped) + 6 (P5) + (5-3)^2 × -10 (P6) + (3-1)^2 × -10 (P7)
    expect(computeScore(s, pp, () => pp.defaultTopic, perIp, 2)).toBe(5 + 6 - 40 - 40);
    const local = { ...s, ips: ['127.0.0.1'] };
    expect(computeScore(local, pp, () => pp.defaultTopic, new Map([['127.0.0.1', 50]]), 2)).toBe(
      5 + 6 - 40,
    );
  });
});

describe('PeerScore bookkeeping', () => {
  test('first delivery rewards the sender; duplicates during validation share an invalid fate', () => {
    const s = new PeerScore(params());
    s.addPeer('a', '10.0.0.1');
    s.addPeer('b', '10.0.0.2');
    s.validateMessage('m1', 0);
    s.duplicateMessage('b', 'm1', T, 0);
    s.rejectMessage('a', 'm1', T, 'rejected');
    expect(s.stats('a')?.topics.get(T)?.invalidMessageDeliveries).toBe(1);
    expect(s.stats('b')?.topics.get(T)?.invalidMessageDeliveries).toBe(1);
    s.validateMessage('m2', 0);
    s.deliverMessage('a', 'm2', T, 0);
    expect(s.stats('a')?.topics.get(T)?.firstMessageDeliveries).toBe(1);
  });

  test('mesh deliveries within the window count for P3; P3b on prune with a deficit', () => {
    const tp = {
      meshMessageDeliveriesWeight: -1,
      meshFailurePenaltyWeight: -1,
      meshMessageDeliveriesThreshold: 3,
      meshMessageDeliveriesActivationMs: 1000,
    };
    const s = new PeerScore(params({ topics: { [T]: tp } }));
    s.addPeer('a', undefined);
    s.addPeer('b', undefined);
    s.graft('a', T, 0);
    s.graft('b', T, 0);
    s.validateMessage('m', 0);
    s.deliverMessage('a', 'm', T, 0);
    s.duplicateMessage('b', 'm', T, 5); // within the 10 ms window
    expect(s.stats('b')?.topics.get(T)?.meshMessageDeliveries).toBe(1);
    s.refresh(2000);
    expect(s.score('b')).toBeLessThan(0); // active, 1 of 3: deficit 2
    s.prune('b', T);
    expect(s.stats('b')?.topics.get(T)?.meshFailurePenalty).toBeGreaterThan(0);
  });

  test('counters decay once per decay interval and reach zero', () => {
    const s = new PeerScore(params());
    s.addPeer('a', undefined);
    s.addPenalty('a', 4);
    s.refresh(1000);
    expect(s.stats('a')?.behaviourPenalty).toBeCloseTo(4 * 0.99);
    s.refresh(1500);
    expect(s.stats('a')?.behaviourPenalty).toBeCloseTo(4 * 0.99);
    for (let t = 2000; t < 2_000_000; t += 1000) s.refresh(t);
    expect(s.stats('a')?.behaviourPenalty).toBe(0);
  });

  test('a negative score is retained after disconnect for retainScoreMs', () => {
    const s = new PeerScore(params({ retainScoreMs: 5000 }));
    s.addPeer('a', undefined);
    s.addPenalty('a', 5);
    const before = s.score('a');
    s.removePeer('a', 0);
    s.addPeer('a', undefined);
    expect(s.score('a')).toBe(before);
    s.removePeer('a', 0);
    s.refresh(6000);
    expect(s.hasStats('a')).toBe(false);
  });

  test('invalid parameters are INVALID_OPTION', () => {
    expect(() => resolveOptions({ scoreThresholds: { gossipThreshold: 5 } })).toThrow(GossipError);
    expect(() => resolveOptions({ scoreParams: { behaviourPenaltyWeight: 1 } })).toThrow(
      GossipError,
    );
    expect(() => resolveOptions({ D: 3, Dlo: 4 })).toThrow(GossipError);
  });
});
