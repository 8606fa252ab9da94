/**
 * Peer score bookkeeping (gossipsub-v1.1.md, "Peer Scoring"): the counters behind P1-P7 for
 * each peer, updated by the router's events, decayed every `decayIntervalMs`, and turned into a
 * score by `computeScore`. Pure state: time comes in as arguments.
 *
 * Message delivery records track each message id from its first arrival through validation, so
 * that duplicates arriving during validation share the first sender's fate (P3 credit if valid,
 * P4 penalty if invalid), as the spec's "Invalid Messages" and "Mesh Message Delivery" require.
 */
import type { MsgKey, PeerKey } from '../ids';
import { computeScore, newTopicStats, type PeerStats, type TopicStats } from './compute-score';
import { type PeerScoreParams, type TopicScoreParams, topicParams } from './params';

type DeliveryStatus = 'pending' | 'valid' | 'invalid' | 'ignored';
interface DeliveryRecord {
  status: DeliveryStatus;
  expires: number;
  validated: number;
  /** Peers that sent the message while it was pending (they share the outcome). */
  peers: Set<PeerKey>;
}

export type RejectReason = 'invalid-signature' | 'rejected' | 'bad-message';

export class PeerScore {
  readonly params: PeerScoreParams;
  private readonly peers = new Map<PeerKey, PeerStats>();
  private readonly peersPerIp = new Map<string, number>();
  private readonly deliveries = new Map<MsgKey, DeliveryRecord>();
  private readonly deliveryTtlMs: number;
  private readonly topicCache = new Map<string, TopicScoreParams>();
  private lastDecay = 0;

  constructor(params: PeerScoreParams, deliveryTtlMs = 120_000) {
    this.params = params;
    this.deliveryTtlMs = deliveryTtlMs;
  }

  // ---- peers -----------------------------------------------------------------------------

  addPeer(peer: PeerKey, ip: string | undefined): void {
    let stats = this.peers.get(peer);
    if (stats === undefined) {
      stats = { connected: true, expire: 0, topics: new Map(), ips: [], behaviourPenalty: 0 };
      this.peers.set(peer, stats);
    }
    stats.connected = true;
    if (ip !== undefined && !stats.ips.includes(ip)) {
      stats.ips.push(ip);
      this.peersPerIp.set(ip, (this.peersPerIp.get(ip) ?? 0) + 1);
    }
  }

  /** The peer disconnected: its stats are kept for `retainScoreMs` if its score is negative. */
  removePeer(peer: PeerKey, now: number): void {
    const stats = this.peers.get(peer);
    if (stats === undefined) return;
    for (const ip of stats.ips) {
      const n = (this.peersPerIp.get(ip) ?? 1) - 1;
      if (n <= 0) this.peersPerIp.delete(ip);
      else this.peersPerIp.set(ip, n);
    }
    stats.ips = [];
    if (this.score(peer) >= 0) {
      this.peers.delete(peer);
      return;
    }
    for (const [topic, t] of stats.topics) {
      if (t.inMesh) this.prune(peer, topic);
      t.firstMessageDeliveries = 0; // a positive reward is not retained (v1.1 "Score retention")
    }
    stats.connected = false;
    stats.expire = now + this.params.retainScoreMs;
  }

  hasStats(peer: PeerKey): boolean {
    return this.peers.has(peer);
  }

  // ---- mesh events -----------------------------------------------------------------------

  graft(peer: PeerKey, topic: string, now: number): void {
    const t = this.topicStats(peer, topic);
    if (t === undefined) return;
    t.inMesh = true;
    t.graftTime = now;
    t.meshTime = 0;
    t.meshMessageDeliveriesActive = false;
  }

  prune(peer: PeerKey, topic: string): void {
    const t = this.topicStats(peer, topic);
    if (t === undefined || !t.inMesh) return;
    const p = this.paramsOf(topic);
    // P3b: a deficit carried out of the mesh becomes a sticky penalty.
    if (
      t.meshMessageDeliveriesActive &&
      t.meshMessageDeliveries < p.meshMessageDeliveriesThreshold
    ) {
      const deficit = p.meshMessageDeliveriesThreshold - t.meshMessageDeliveries;
      t.meshFailurePenalty += deficit * deficit;
    }
    t.inMesh = false;
    t.meshMessageDeliveriesActive = false;
  }

  /** P7: protocol misbehaviour (broken IWANT promises, GRAFT during backoff, ...). */
  addPenalty(peer: PeerKey, count: number): void {
    const stats = this.peers.get(peer);
    if (stats !== undefined) stats.behaviourPenalty += count;
  }

  /**
   * A behaviour penalty for a peer that is not connected (e.g. one whose hello named another
   * peer than its authenticated identity): kept like a disconnected peer's score, for
   * `retainScoreMs`, so repeated offences add up. At most `maxTracked` peers are tracked.
   */
  penalizeAbsent(peer: PeerKey, count: number, now: number, maxTracked = 10_000): void {
    let stats = this.peers.get(peer);
    if (stats === undefined) {
      if (this.peers.size >= maxTracked) return;
      stats = { connected: false, expire: 0, topics: new Map(), ips: [], behaviourPenalty: 0 };
      this.peers.set(peer, stats);
    }
    if (!stats.connected) stats.expire = now + this.params.retainScoreMs;
    stats.behaviourPenalty += count;
  }

  // ---- message events --------------------------------------------------------------------

  /** A new message arrived from `peer` and validation starts. */
  validateMessage(key: MsgKey, now: number): void {
    this.deliveries.set(key, {
      status: 'pending',
      expires: now + this.deliveryTtlMs,
      validated: 0,
      peers: new Set(),
    });
  }

  /** The message from `peer` (its first sender) passed validation and is delivered. */
  deliverMessage(peer: PeerKey, key: MsgKey, topic: string, now: number): void {
    this.markFirstDelivery(peer, topic);
    this.markMeshDelivery(peer, topic);
    const record = this.deliveries.get(key);
    if (record === undefined) return;
    record.status = 'valid';
    record.validated = now;
    for (const other of record.peers) if (other !== peer) this.markMeshDelivery(other, topic);
    record.peers.clear();
  }

  /** The message from `peer` is invalid (P4 for the sender and for peers that forwarded it). */
  rejectMessage(peer: PeerKey, key: MsgKey | undefined, topic: string, reason: RejectReason): void {
    this.markInvalid(peer, topic);
    if (reason === 'invalid-signature' || key === undefined) return; // the id may be forged
    const record = this.deliveries.get(key);
    if (record === undefined) return;
    record.status = 'invalid';
    for (const other of record.peers) if (other !== peer) this.markInvalid(other, topic);
    record.peers.clear();
  }

  /** The application ignored the message: no reward, no penalty. */
  ignoreMessage(key: MsgKey): void {
    const record = this.deliveries.get(key);
    if (record === undefined) return;
    record.status = 'ignored';
    record.peers.clear();
  }

  /** A message we had already seen arrived from `peer`. */
  duplicateMessage(peer: PeerKey, key: MsgKey, topic: string, now: number): void {
    const record = this.deliveries.get(key);
    if (record === undefined) return;
    switch (record.status) {
      case 'pending':
        record.peers.add(peer);
        break;
      case 'valid': {
        // P3 credit for near-first deliveries by mesh peers.
        const p = this.paramsOf(topic);
        if (now - record.validated <= p.meshMessageDeliveriesWindowMs) {
          this.markMeshDelivery(peer, topic);
        }
        break;
      }
      case 'invalid':
        this.markInvalid(peer, topic);
        break;
      case 'ignored':
        break;
    }
  }

  // ---- time ------------------------------------------------------------------------------

  /**
   * Updates time in mesh and P3 activation, decays counters once per `decayIntervalMs`,
   * drops expired records and retained stats. Call from the heartbeat.
   */
  refresh(now: number): void {
    const p = this.params;
    const decay = now - this.lastDecay >= p.decayIntervalMs;
    if (decay) this.lastDecay = now;
    for (const [peer, stats] of this.peers) {
      if (!stats.connected) {
        if (now >= stats.expire) {
          this.peers.delete(peer);
          continue;
        }
      }
      for (const [topic, t] of stats.topics) {
        const tp = this.paramsOf(topic);
        if (t.inMesh) {
          t.meshTime = now - t.graftTime;
          if (t.meshTime > tp.meshMessageDeliveriesActivationMs) {
            t.meshMessageDeliveriesActive = true;
          }
        }
        if (!decay) continue;
        t.firstMessageDeliveries = this.decayed(
          t.firstMessageDeliveries,
          tp.firstMessageDeliveriesDecay,
        );
        t.meshMessageDeliveries = this.decayed(
          t.meshMessageDeliveries,
          tp.meshMessageDeliveriesDecay,
        );
        t.meshFailurePenalty = this.decayed(t.meshFailurePenalty, tp.meshFailurePenaltyDecay);
        t.invalidMessageDeliveries = this.decayed(
          t.invalidMessageDeliveries,
          tp.invalidMessageDeliveriesDecay,
        );
      }
      if (decay)
        stats.behaviourPenalty = this.decayed(stats.behaviourPenalty, p.behaviourPenaltyDecay);
    }
    for (const [key, record] of this.deliveries) {
      if (record.expires > now) break;
      this.deliveries.delete(key);
    }
  }

  // ---- score -----------------------------------------------------------------------------

  score(peer: PeerKey): number {
    const stats = this.peers.get(peer);
    if (stats === undefined) return 0;
    return computeScore(
      stats,
      this.params,
      (topic) => this.paramsOf(topic),
      this.peersPerIp,
      this.params.appSpecificScore(peer),
    );
  }

  /** The counters of a peer (for tests and introspection). */
  stats(peer: PeerKey): Readonly<PeerStats> | undefined {
    return this.peers.get(peer);
  }

  // ---- internals -------------------------------------------------------------------------

  private paramsOf(topic: string): TopicScoreParams {
    let p = this.topicCache.get(topic);
    if (p === undefined) {
      p = topicParams(this.params, this.params.topics[topic]);
      this.topicCache.set(topic, p);
    }
    return p;
  }

  private decayed(value: number, factor: number): number {
    const v = value * factor;
    return v < this.params.decayToZero ? 0 : v;
  }

  private topicStats(peer: PeerKey, topic: string): TopicStats | undefined {
    const stats = this.peers.get(peer);
    if (stats === undefined) return undefined;
    let t = stats.topics.get(topic);
    if (t === undefined) {
      t = newTopicStats();
      stats.topics.set(topic, t);
    }
    return t;
  }

  private markFirstDelivery(peer: PeerKey, topic: string): void {
    const t = this.topicStats(peer, topic);
    if (t === undefined) return;
    const cap = this.paramsOf(topic).firstMessageDeliveriesCap;
    t.firstMessageDeliveries = Math.min(cap, t.firstMessageDeliveries + 1);
  }

  private markMeshDelivery(peer: PeerKey, topic: string): void {
    const t = this.topicStats(peer, topic);
    if (t === undefined || !t.inMesh) return;
    const cap = this.paramsOf(topic).meshMessageDeliveriesCap;
    t.meshMessageDeliveries = Math.min(cap, t.meshMessageDeliveries + 1);
  }

  private markInvalid(peer: PeerKey, topic: string): void {
    const t = this.topicStats(peer, topic);
    if (t !== undefined) t.invalidMessageDeliveries += 1;
  }
}
