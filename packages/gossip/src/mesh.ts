/**
 * Mesh maintenance (gossipsub-v1.0.md, "Mesh Maintenance"; gossipsub-v1.1.md, "Mesh
 * Maintenance", "PRUNE Backoff", "Outbound Mesh Quotas", "Opportunistic Grafting").
 *
 * Pure state: the mesh of each topic we subscribe to, and the backoff of each (topic, peer).
 * What it needs to know about peers (who subscribes to a topic, scores, connection direction)
 * comes in through a `MeshView`; what it decides (GRAFT and PRUNE to send) goes out as return
 * values. The router sends them. The model-based test drives this class alone.
 */
import type { Random } from '@peerkit/transport';
import type { PeerKey } from './ids';
import { pick } from './pick';

export interface MeshParams {
  /** Target mesh degree. */
  D: number;
  /** Lower bound: below it the heartbeat grafts up to D. */
  Dlo: number;
  /** Upper bound: above it the heartbeat prunes down to D. */
  Dhi: number;
  /** Peers kept by score when pruning an oversubscribed mesh. */
  Dscore: number;
  /** Outbound peers the mesh must hold (v1.1 "Outbound Mesh Quotas"). */
  Dout: number;
  /** Backoff after a PRUNE we send or receive without a backoff (ms). */
  pruneBackoffMs: number;
  /** Backoff after leaving a topic (ms). */
  unsubscribeBackoffMs: number;
  /** Opportunistic grafting runs every this many heartbeats. */
  opportunisticGraftTicks: number;
  /** Peers grafted by one opportunistic round. */
  opportunisticGraftPeers: number;
  /** Median mesh score below which opportunistic grafting grafts. */
  opportunisticGraftThreshold: number;
  /** A GRAFT this soon after our PRUNE's backoff started counts a second penalty (ms). */
  graftFloodThresholdMs: number;
}

export const DEFAULT_MESH_PARAMS: MeshParams = {
  D: 6,
  Dlo: 4,
  Dhi: 12,
  Dscore: 4,
  Dout: 2,
  pruneBackoffMs: 60_000,
  unsubscribeBackoffMs: 10_000,
  opportunisticGraftTicks: 60,
  opportunisticGraftPeers: 2,
  opportunisticGraftThreshold: 3,
  graftFloodThresholdMs: 10_000,
};

/** What the mesh needs to know about peers. */
export interface MeshView {
  /** Connected peers subscribed to `topic` (not graylisted). */
  topicPeers(topic: string): Iterable<PeerKey>;
  score(peer: PeerKey): number;
  /** Whether we dialled the peer. */
  isOutbound(peer: PeerKey): boolean;
}

/** GRAFT/PRUNE decided by the mesh; the router sends them. */
export interface MeshActions {
  graft: [PeerKey, string][];
  /** `px`: include peer exchange (not when pruning for a negative score). */
  prune: { peer: PeerKey; topic: string; px: boolean; backoffMs: number }[];
}

/** The outcome of a GRAFT we received. */
export type GraftVerdict =
  | { accept: true }
  | {
      accept: false;
      reason: 'not-subscribed' | 'backoff' | 'negative-score' | 'full';
      /** P7 penalties to add (GRAFT during backoff: 1, or 2 within the flood threshold). */
      penalty: number;
      /** Whether to answer with PRUNE carrying peer exchange. */
      px: boolean;
    };

export function validateMeshParams(p: MeshParams): string | undefined {
  if (!(p.Dlo <= p.D && p.D <= p.Dhi)) return 'mesh degrees must satisfy Dlo <= D <= Dhi';
  if (p.Dlo < 1) return 'Dlo must be >= 1';
  if (p.Dscore > p.D) return 'Dscore must be <= D';
  if (!(p.Dout < p.Dlo && p.Dout <= p.D / 2)) return 'Dout must be < Dlo and <= D/2 (v1.1)';
  return undefined;
}

export class Mesh {
  readonly params: MeshParams;
  private readonly random: Random;
  /** topic -> mesh peers */
  private readonly meshes = new Map<string, Set<PeerKey>>();
  /** topic -> peer -> backoff expiry (ms) */
  private readonly backoffs = new Map<string, Map<PeerKey, number>>();
  private ticks = 0;

  constructor(params: MeshParams, random: Random) {
    this.params = params;
    this.random = random;
  }

  /** Topics we have a mesh for (our subscriptions). */
  topics(): IterableIterator<string> {
    return this.meshes.keys();
  }

  isJoined(topic: string): boolean {
    return this.meshes.has(topic);
  }

  peers(topic: string): ReadonlySet<PeerKey> {
    return this.meshes.get(topic) ?? new Set();
  }

  has(topic: string, peer: PeerKey): boolean {
    return this.meshes.get(topic)?.has(peer) ?? false;
  }

  inBackoff(topic: string, peer: PeerKey, now: number): boolean {
    const expiry = this.backoffs.get(topic)?.get(peer);
    return expiry !== undefined && expiry > now;
  }

  /** Sets (or extends) the backoff of `peer` in `topic` until `now + ms`. */
  addBackoff(topic: string, peer: PeerKey, ms: number, now: number): void {
    let map = this.backoffs.get(topic);
    if (map === undefined) {
      map = new Map();
      this.backoffs.set(topic, map);
    }
    const expiry = now + ms;
    if ((map.get(peer) ?? 0) < expiry) map.set(peer, expiry);
  }

  /**
   * Subscribing (v1.0 "JOIN(topic)"): the mesh starts with the fanout peers (when given) and
   * is filled up to D with other eligible subscribers. Returns the peers to GRAFT.
   */
  join(topic: string, view: MeshView, now: number, fanout?: Iterable<PeerKey>): PeerKey[] {
    if (this.meshes.has(topic)) return [];
    const mesh = new Set<PeerKey>();
    this.meshes.set(topic, mesh);
    for (const peer of fanout ?? []) {
      if (mesh.size >= this.params.D) break;
      if (this.eligible(topic, peer, view, now)) mesh.add(peer);
    }
    const more = this.pick(
      [...view.topicPeers(topic)].filter((p) => !mesh.has(p) && this.eligible(topic, p, view, now)),
      this.params.D - mesh.size,
    );
    for (const peer of more) mesh.add(peer);
    return [...mesh];
  }

  /** Unsubscribing (v1.0 "LEAVE(topic)"): returns the mesh peers to PRUNE (with backoff). */
  leave(topic: string, now: number): PeerKey[] {
    const mesh = this.meshes.get(topic);
    if (mesh === undefined) return [];
    this.meshes.delete(topic);
    for (const peer of mesh) this.addBackoff(topic, peer, this.params.unsubscribeBackoffMs, now);
    return [...mesh];
  }

  /** The peer disconnected or unsubscribed from `topic` (all topics when absent). */
  removePeer(peer: PeerKey, topic?: string): void {
    if (topic !== undefined) {
      this.meshes.get(topic)?.delete(peer);
      return;
    }
    for (const mesh of this.meshes.values()) mesh.delete(peer);
  }

  /** A GRAFT from `peer` (v1.1 "PRUNE Backoff": GRAFT during backoff is penalised). */
  handleGraft(topic: string, peer: PeerKey, view: MeshView, now: number): GraftVerdict {
    const mesh = this.meshes.get(topic);
    if (mesh === undefined)
      return { accept: false, reason: 'not-subscribed', penalty: 0, px: false };
    if (mesh.has(peer)) return { accept: true };
    const expiry = this.backoffs.get(topic)?.get(peer);
    if (expiry !== undefined && expiry > now) {
      // A second penalty when the GRAFT comes right after our PRUNE (flood threshold).
      const prunedAt = expiry - this.params.pruneBackoffMs;
      const penalty = now < prunedAt + this.params.graftFloodThresholdMs ? 2 : 1;
      this.addBackoff(topic, peer, this.params.pruneBackoffMs, now);
      return { accept: false, reason: 'backoff', penalty, px: false };
    }
    if (view.score(peer) < 0) {
      this.addBackoff(topic, peer, this.params.pruneBackoffMs, now);
      return { accept: false, reason: 'negative-score', penalty: 0, px: false };
    }
    // Above Dhi only outbound peers are accepted (v1.1 "Outbound Mesh Quotas").
    if (mesh.size >= this.params.Dhi && !view.isOutbound(peer)) {
      this.addBackoff(topic, peer, this.params.pruneBackoffMs, now);
      return { accept: false, reason: 'full', penalty: 0, px: true };
    }
    mesh.add(peer);
    return { accept: true };
  }

  /** A PRUNE from `peer`: leave its mesh and back off (its backoff, or ours by default). */
  handlePrune(topic: string, peer: PeerKey, backoffMs: number | undefined, now: number): void {
    this.meshes.get(topic)?.delete(peer);
    this.addBackoff(topic, peer, backoffMs ?? this.params.pruneBackoffMs, now);
  }

  /** The heartbeat's mesh maintenance for every topic (v1.1 "Mesh Maintenance"). */
  heartbeat(view: MeshView, now: number): MeshActions {
    const actions: MeshActions = { graft: [], prune: [] };
    this.ticks++;
    this.expireBackoffs(now);
    for (const [topic, mesh] of this.meshes) this.maintain(topic, mesh, view, now, actions);
    return actions;
  }

  private maintain(
    topic: string,
    mesh: Set<PeerKey>,
    view: MeshView,
    now: number,
    actions: MeshActions,
  ): void {
    const p = this.params;
    const prune = (peer: PeerKey, px: boolean) => {
      mesh.delete(peer);
      this.addBackoff(topic, peer, p.pruneBackoffMs, now);
      actions.prune.push({ peer, topic, px, backoffMs: p.pruneBackoffMs });
    };
    const graft = (peer: PeerKey) => {
      mesh.add(peer);
      actions.graft.push([peer, topic]);
    };
    const subscribers = new Set(view.topicPeers(topic));
    // Peers that left the topic are dropped silently; negative scores are pruned without PX.
    for (const peer of [...mesh]) {
      if (!subscribers.has(peer)) mesh.delete(peer);
      else if (view.score(peer) < 0) prune(peer, false);
    }
    const candidates = () =>
      [...subscribers].filter((peer) => !mesh.has(peer) && this.eligible(topic, peer, view, now));

    // Too few peers: graft up to D.
    if (mesh.size < p.Dlo) {
      for (const peer of this.pick(candidates(), p.D - mesh.size)) graft(peer);
    }

    // Outbound quota: graft outbound peers until Dout of the mesh is outbound. This comes
    // before the Dhi check (the spec lists it after): a full mesh that takes on an outbound peer
    // is pruned back to D right away, keeping the quota, so it never ends a heartbeat above Dhi.
    if (mesh.size >= p.Dlo) {
      const outbound = [...mesh].filter((peer) => view.isOutbound(peer)).length;
      if (outbound < p.Dout) {
        const more = candidates().filter((peer) => view.isOutbound(peer));
        for (const peer of this.pick(more, p.Dout - outbound)) graft(peer);
      }
    }

    // Too many peers: keep the Dscore best, then random ones, with Dout outbound among them.
    if (mesh.size > p.Dhi) {
      const byScore = this.shuffle([...mesh]).sort((a, b) => view.score(b) - view.score(a));
      const keep = byScore.slice(0, p.Dscore);
      const rest = this.shuffle(byScore.slice(p.Dscore));
      // Outbound peers first among the random rest, until the quota is met.
      let outbound = keep.filter((peer) => view.isOutbound(peer)).length;
      const ordered: PeerKey[] = [];
      for (const peer of rest) {
        if (outbound < p.Dout && view.isOutbound(peer)) {
          ordered.unshift(peer);
          outbound++;
        } else ordered.push(peer);
      }
      keep.push(...ordered.slice(0, p.D - keep.length));
      const kept = new Set(keep);
      for (const peer of [...mesh]) if (!kept.has(peer)) prune(peer, true);
    }

    // Opportunistic grafting: a mesh of poor peers takes on better ones.
    if (this.ticks % p.opportunisticGraftTicks === 0 && mesh.size > 1) {
      const scores = [...mesh].map((peer) => view.score(peer)).sort((a, b) => a - b);
      const median = scores[Math.floor(scores.length / 2)] ?? 0;
      if (median < p.opportunisticGraftThreshold) {
        const better = candidates().filter((peer) => view.score(peer) > median);
        // Never past Dhi: the mesh stays within bounds at the end of every heartbeat.
        const room = Math.max(0, p.Dhi - mesh.size);
        for (const peer of this.pick(better, Math.min(p.opportunisticGraftPeers, room))) {
          graft(peer);
        }
      }
    }
  }

  /** May `peer` be grafted to `topic` now? (not in backoff, non-negative score) */
  private eligible(topic: string, peer: PeerKey, view: MeshView, now: number): boolean {
    return !this.inBackoff(topic, peer, now) && view.score(peer) >= 0;
  }

  private expireBackoffs(now: number): void {
    for (const [topic, map] of this.backoffs) {
      for (const [peer, expiry] of map) if (expiry <= now) map.delete(peer);
      if (map.size === 0) this.backoffs.delete(topic);
    }
  }

  private pick(peers: PeerKey[], n: number): PeerKey[] {
    return pick(peers, n, this.random);
  }

  private shuffle<T>(items: T[]): T[] {
    return pick(items, items.length, this.random);
  }
}
