/**
 * Fanout (gossipsub-v1.0.md, "Fanout"): for a topic we publish to without subscribing, a set
 * of `D` subscribed peers that receive our messages, kept for `ttlMs` after our last publish
 * and refilled by the heartbeat. Subscribing to the topic turns the fanout into the mesh.
 */
import type { Random } from '@peerkit/transport';
import type { PeerKey } from './ids';
import { pick } from './pick';

export class Fanout {
  private readonly D: number;
  private readonly ttlMs: number;
  private readonly random: Random;
  private readonly peersOf = new Map<string, Set<PeerKey>>();
  private readonly lastPub = new Map<string, number>();

  constructor(D: number, ttlMs: number, random: Random) {
    this.D = D;
    this.ttlMs = ttlMs;
    this.random = random;
  }

  topics(): IterableIterator<string> {
    return this.peersOf.keys();
  }

  peers(topic: string): ReadonlySet<PeerKey> | undefined {
    return this.peersOf.get(topic);
  }

  /** Removes and returns a topic's fanout (when we subscribe to it). */
  take(topic: string): ReadonlySet<PeerKey> | undefined {
    const peers = this.peersOf.get(topic);
    this.peersOf.delete(topic);
    this.lastPub.delete(topic);
    return peers;
  }

  /** The peer left (`topic` absent: every topic). */
  removePeer(peer: PeerKey, topic?: string): void {
    if (topic !== undefined) this.peersOf.get(topic)?.delete(peer);
    else for (const set of this.peersOf.values()) set.delete(peer);
  }

  /** The peers a publish to `topic` goes to; picks `D` of `candidates` when the set is empty. */
  publishPeers(topic: string, candidates: PeerKey[], now: number): PeerKey[] {
    let peers = this.peersOf.get(topic);
    if (peers === undefined || peers.size === 0) {
      peers = new Set(pick(candidates, this.D, this.random));
      this.peersOf.set(topic, peers);
    }
    this.lastPub.set(topic, now);
    return [...peers];
  }

  /**
   * Heartbeat: forgets topics not published to for `ttlMs`, drops peers that are no longer
   * `eligible` subscribers, and refills each fanout to `D`.
   */
  maintain(
    now: number,
    subscribers: (topic: string) => Iterable<PeerKey>,
    eligible: (peer: PeerKey) => boolean,
  ): void {
    for (const [topic, last] of this.lastPub) {
      if (last + this.ttlMs < now) this.take(topic);
    }
    for (const [topic, peers] of this.peersOf) {
      const subs = new Set(subscribers(topic));
      for (const peer of peers) if (!subs.has(peer) || !eligible(peer)) peers.delete(peer);
      if (peers.size < this.D) {
        const more = [...subs].filter((p) => !peers.has(p) && eligible(p));
        for (const p of pick(more, this.D - peers.size, this.random)) peers.add(p);
      }
    }
  }
}
