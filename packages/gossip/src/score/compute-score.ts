/**
 * The score function (gossipsub-v1.1.md, "The Score Function"):
 *
 *   score = TopicCap(Σ_t t_i × (w1 P1 + w2 P2 + w3 P3 + w3b P3b + w4 P4)) + w5 P5 + w6 P6 + w7 P7
 *
 * A pure function of a peer's counters; `PeerScore` keeps the counters.
 */
import type { PeerScoreParams, TopicScoreParams } from './params';

export interface TopicStats {
  inMesh: boolean;
  /** When the peer was grafted (ms). */
  graftTime: number;
  /** Time in mesh, ms (updated on refresh). */
  meshTime: number;
  firstMessageDeliveries: number;
  meshMessageDeliveries: number;
  /** True once the peer was in the mesh longer than the activation window. */
  meshMessageDeliveriesActive: boolean;
  meshFailurePenalty: number;
  invalidMessageDeliveries: number;
}

export interface PeerStats {
  connected: boolean;
  /** When a disconnected peer's stats are dropped. */
  expire: number;
  topics: Map<string, TopicStats>;
  ips: string[];
  behaviourPenalty: number;
}

export function newTopicStats(): TopicStats {
  return {
    inMesh: false,
    graftTime: 0,
    meshTime: 0,
    firstMessageDeliveries: 0,
    meshMessageDeliveries: 0,
    meshMessageDeliveriesActive: false,
    meshFailurePenalty: 0,
    invalidMessageDeliveries: 0,
  };
}

/** One topic's weighted contribution (before topicWeight). */
export function topicScore(t: TopicStats, p: TopicScoreParams): number {
  let s = 0;
  // P1: time in mesh, in quanta, capped
  if (t.inMesh) {
    const quanta = Math.min(t.meshTime / p.timeInMeshQuantumMs, p.timeInMeshCap);
    s += quanta * p.timeInMeshWeight;
  }
  // P2: first message deliveries (counter is capped when incremented)
  s += t.firstMessageDeliveries * p.firstMessageDeliveriesWeight;
  // P3: mesh message delivery deficit, squared
  if (t.meshMessageDeliveriesActive && t.meshMessageDeliveries < p.meshMessageDeliveriesThreshold) {
    const deficit = p.meshMessageDeliveriesThreshold - t.meshMessageDeliveries;
    s += deficit * deficit * p.meshMessageDeliveriesWeight;
  }
  // P3b: mesh failure penalty (sticky deficit from when the peer left the mesh)
  s += t.meshFailurePenalty * p.meshFailurePenaltyWeight;
  // P4: invalid messages, squared
  s += t.invalidMessageDeliveries * t.invalidMessageDeliveries * p.invalidMessageDeliveriesWeight;
  return s;
}

/**
 * The score of a peer. `peersPerIp` gives the number of connected peers on each IP (P6);
 * `appScore` is P5 for this peer.
 */
export function computeScore(
  stats: PeerStats,
  params: PeerScoreParams,
  topicParams: (topic: string) => TopicScoreParams | undefined,
  peersPerIp: ReadonlyMap<string, number>,
  appScore: number,
): number {
  let topicsTotal = 0;
  for (const [topic, t] of stats.topics) {
    const p = topicParams(topic);
    if (p === undefined) continue;
    topicsTotal += topicScore(t, p) * p.topicWeight;
  }
  if (params.topicScoreCap > 0 && topicsTotal > params.topicScoreCap) {
    topicsTotal = params.topicScoreCap;
  }
  let score = topicsTotal;
  // P5
  score += appScore * params.appSpecificWeight;
  // P6: IP colocation surplus, squared
  for (const ip of stats.ips) {
    if (params.ipColocationFactorWhitelist.includes(ip)) continue;
    const peers = peersPerIp.get(ip) ?? 0;
    if (peers > params.ipColocationFactorThreshold) {
      const surplus = peers - params.ipColocationFactorThreshold;
      score += surplus * surplus * params.ipColocationFactorWeight;
    }
  }
  // P7: behaviour penalty above the threshold, squared
  if (stats.behaviourPenalty > params.behaviourPenaltyThreshold) {
    const excess = stats.behaviourPenalty - params.behaviourPenaltyThreshold;
    score += excess * excess * params.behaviourPenaltyWeight;
  }
  return score;
}
