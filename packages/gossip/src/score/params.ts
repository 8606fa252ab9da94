/**
 * Peer score parameters (gossipsub-v1.1.md, "Peer Scoring", "Score Thresholds" and
 * "Parameters"). Weights of penalties are negative, of rewards positive. Defaults are
 * conservative: P3/P3b (mesh delivery rate) must be tuned to a topic's expected message rate,
 * as the spec advises, so their weights default to 0 (off) until a topic sets them.
 */
import { GossipError } from '../errors';

export interface TopicScoreParams {
  /** Weight of the whole topic's score. */
  topicWeight: number;
  // P1: time in mesh
  timeInMeshWeight: number;
  timeInMeshQuantumMs: number;
  timeInMeshCap: number;
  // P2: first message deliveries
  firstMessageDeliveriesWeight: number;
  firstMessageDeliveriesDecay: number;
  firstMessageDeliveriesCap: number;
  // P3: mesh message delivery rate
  meshMessageDeliveriesWeight: number;
  meshMessageDeliveriesDecay: number;
  meshMessageDeliveriesCap: number;
  meshMessageDeliveriesThreshold: number;
  meshMessageDeliveriesWindowMs: number;
  meshMessageDeliveriesActivationMs: number;
  // P3b: mesh failure penalty
  meshFailurePenaltyWeight: number;
  meshFailurePenaltyDecay: number;
  // P4: invalid messages
  invalidMessageDeliveriesWeight: number;
  invalidMessageDeliveriesDecay: number;
}

export interface PeerScoreParams {
  /** Parameters per topic; topics not listed use `defaultTopic`. */
  topics: Record<string, Partial<TopicScoreParams>>;
  defaultTopic: TopicScoreParams;
  /** Cap on the sum of the positive topic contributions. */
  topicScoreCap: number;
  /** P5: application-specific score of a peer (hex peer id). */
  appSpecificScore: (peer: string) => number;
  appSpecificWeight: number;
  // P6: IP colocation
  ipColocationFactorWeight: number;
  ipColocationFactorThreshold: number;
  /** IPs exempt from P6 (default: loopback, where every local test peer lives). */
  ipColocationFactorWhitelist: string[];
  // P7: behaviour penalty
  behaviourPenaltyWeight: number;
  behaviourPenaltyThreshold: number;
  behaviourPenaltyDecay: number;
  /** How often counters decay. */
  decayIntervalMs: number;
  /** Counters below this become 0. */
  decayToZero: number;
  /** How long a disconnected peer's score is remembered (so reconnecting does not reset it). */
  retainScoreMs: number;
}

export interface PeerScoreThresholds {
  /** Below it: no gossip (IHAVE/IWANT) to or from the peer. */
  gossipThreshold: number;
  /** Below it: no self-published messages to the peer (flood publish). */
  publishThreshold: number;
  /** Below it: every RPC from the peer is ignored. */
  graylistThreshold: number;
  /** At or above it: peer exchange records in the peer's PRUNE are used. */
  acceptPXThreshold: number;
  /** Median mesh score below it triggers opportunistic grafting. */
  opportunisticGraftThreshold: number;
}

export const DEFAULT_TOPIC_SCORE_PARAMS: TopicScoreParams = {
  topicWeight: 1,
  timeInMeshWeight: 0.01,
  timeInMeshQuantumMs: 1000,
  timeInMeshCap: 600,
  firstMessageDeliveriesWeight: 1,
  firstMessageDeliveriesDecay: 0.9,
  firstMessageDeliveriesCap: 20,
  meshMessageDeliveriesWeight: 0,
  meshMessageDeliveriesDecay: 0.9,
  meshMessageDeliveriesCap: 20,
  meshMessageDeliveriesThreshold: 1,
  meshMessageDeliveriesWindowMs: 10,
  meshMessageDeliveriesActivationMs: 5000,
  meshFailurePenaltyWeight: 0,
  meshFailurePenaltyDecay: 0.9,
  invalidMessageDeliveriesWeight: -10,
  invalidMessageDeliveriesDecay: 0.99,
};

export function defaultPeerScoreParams(): PeerScoreParams {
  return {
    topics: {},
    defaultTopic: { ...DEFAULT_TOPIC_SCORE_PARAMS },
    topicScoreCap: 50,
    appSpecificScore: () => 0,
    appSpecificWeight: 1,
    ipColocationFactorWeight: -10,
    ipColocationFactorThreshold: 3,
    ipColocationFactorWhitelist: ['127.0.0.1', '::1'],
    behaviourPenaltyWeight: -10,
    behaviourPenaltyThreshold: 1,
    behaviourPenaltyDecay: 0.99,
    decayIntervalMs: 1000,
    decayToZero: 0.01,
    retainScoreMs: 10 * 60_000,
  };
}

export const DEFAULT_SCORE_THRESHOLDS: PeerScoreThresholds = {
  gossipThreshold: -10,
  publishThreshold: -50,
  graylistThreshold: -80,
  acceptPXThreshold: 5,
  opportunisticGraftThreshold: 3,
};

/** The v1.1 constraints on parameters ("Parameters" section); throws `INVALID_OPTION`. */
export function validateScoreParams(p: PeerScoreParams, th: PeerScoreThresholds): void {
  const fail = (what: string) => {
    throw new GossipError('INVALID_OPTION', `invalid score parameter: ${what}`);
  };
  const topics = [p.defaultTopic, ...Object.values(p.topics).map((t) => topicParams(p, t))];
  for (const t of topics) {
    if (t.topicWeight < 0) fail('topicWeight must be >= 0');
    if (t.timeInMeshWeight < 0 || t.timeInMeshQuantumMs <= 0) fail('P1 weight/quantum');
    if (t.firstMessageDeliveriesWeight < 0) fail('P2 weight must be >= 0');
    if (t.meshMessageDeliveriesWeight > 0) fail('P3 weight must be <= 0');
    if (t.meshFailurePenaltyWeight > 0) fail('P3b weight must be <= 0');
    if (t.invalidMessageDeliveriesWeight > 0) fail('P4 weight must be <= 0');
    for (const d of [
      t.firstMessageDeliveriesDecay,
      t.meshMessageDeliveriesDecay,
      t.meshFailurePenaltyDecay,
      t.invalidMessageDeliveriesDecay,
    ]) {
      if (!(d > 0 && d < 1)) fail('decays must be in (0, 1)');
    }
  }
  if (p.ipColocationFactorWeight > 0) fail('P6 weight must be <= 0');
  if (p.behaviourPenaltyWeight > 0) fail('P7 weight must be <= 0');
  if (!(p.behaviourPenaltyDecay > 0 && p.behaviourPenaltyDecay < 1)) fail('P7 decay');
  if (p.decayIntervalMs <= 0) fail('decayIntervalMs must be > 0');
  if (th.gossipThreshold > 0) fail('gossipThreshold must be <= 0');
  if (th.publishThreshold > th.gossipThreshold) fail('publishThreshold must be <= gossip');
  if (th.graylistThreshold > th.publishThreshold) fail('graylistThreshold must be <= publish');
  if (th.acceptPXThreshold < 0) fail('acceptPXThreshold must be >= 0');
  if (th.opportunisticGraftThreshold < 0) fail('opportunisticGraftThreshold must be >= 0');
}

export function topicParams(p: PeerScoreParams, topic: Partial<TopicScoreParams> | undefined) {
  return topic === undefined ? p.defaultTopic : { ...p.defaultTopic, ...topic };
}
