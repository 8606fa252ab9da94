/**
 * What a tracker remembers, in memory and bounded: for each torrent (at most `maxTorrents`) the
 * peers that announced it (at most `maxPeersPerTorrent`; the oldest announce is dropped), each
 * forgotten `peerTimeoutMs` after its last announce. Shared by the UDP (BEP 15) and HTTP
 * (BEP 3) tracker servers, so one `peerkit-share tracker` serves one swarm over both. Pure:
 * the caller passes the time and the random source.
 */
import type { Random } from '@peerkit/transport';
import type { AnnounceEvent, PeerAddress, ScrapeEntry } from './udp-messages';

export interface TrackerLimits {
  /** Announce interval told to clients (seconds, default 1800). */
  interval?: number;
  maxTorrents?: number;
  maxPeersPerTorrent?: number;
  /** Most peers in one answer (default 50). */
  maxNumWant?: number;
  /** Default: two intervals. */
  peerTimeoutMs?: number;
}

export interface SwarmAnnounce {
  infoHash: Uint8Array;
  peerId?: Uint8Array;
  /** The announcing peer's address (its IP as the tracker sees it, its listen port). */
  host: string;
  port: number;
  left: number;
  event: AnnounceEvent;
  /** Negative: the tracker's default. */
  numWant: number;
}

export interface SwarmPeer extends PeerAddress {
  peerId?: Uint8Array;
  left: number;
  seenAt: number;
}

export type SwarmAnswer =
  | { ok: true; peers: SwarmPeer[]; seeders: number; leechers: number; interval: number }
  | { ok: false; reason: string };

export class TrackerSwarms {
  readonly limits: Required<TrackerLimits>;
  readonly #random: Random;
  /** info-hash hex → peer key (host|port) → peer, in announce order. */
  readonly #torrents = new Map<string, Map<string, SwarmPeer>>();
  readonly #completed = new Map<string, number>();

  constructor(random: Random, limits: TrackerLimits = {}) {
    this.#random = random;
    const interval = limits.interval ?? 1800;
    this.limits = {
      interval,
      maxTorrents: limits.maxTorrents ?? 10_000,
      maxPeersPerTorrent: limits.maxPeersPerTorrent ?? 1_000,
      maxNumWant: limits.maxNumWant ?? 50,
      peerTimeoutMs: limits.peerTimeoutMs ?? 2 * interval * 1000,
    };
  }

  /** Number of torrents known. */
  get size(): number {
    return this.#torrents.size;
  }

  /** Peers known for `infoHash`. */
  peers(infoHash: Uint8Array): PeerAddress[] {
    const swarm = this.#torrents.get(hex(infoHash));
    return swarm ? [...swarm.values()].map(({ host, port }) => ({ host, port })) : [];
  }

  /**
   * Records the announce (BEP 3: `stopped` removes the peer, `completed` is counted) and picks
   * up to `numWant` other peers at random; `family` filters them (`4`, `6`) when given.
   */
  announce(a: SwarmAnnounce, now: number, family?: 4 | 6): SwarmAnswer {
    const key = hex(a.infoHash);
    let swarm = this.#torrents.get(key);
    if (swarm === undefined) {
      if (this.#torrents.size >= this.limits.maxTorrents) {
        this.#expireTorrents(now);
        if (this.#torrents.size >= this.limits.maxTorrents)
          return { ok: false, reason: 'tracker full' };
      }
      swarm = new Map();
      this.#torrents.set(key, swarm);
    }
    this.#expirePeers(swarm, now);
    const peerKey = `${a.host}|${a.port}`;
    swarm.delete(peerKey);
    if (a.event === 'completed') this.#completed.set(key, (this.#completed.get(key) ?? 0) + 1);
    if (a.event !== 'stopped') {
      if (swarm.size >= this.limits.maxPeersPerTorrent) {
        const oldest = swarm.keys().next().value;
        if (oldest !== undefined) swarm.delete(oldest);
      }
      swarm.set(peerKey, {
        host: a.host,
        port: a.port,
        left: a.left,
        seenAt: now,
        ...(a.peerId !== undefined ? { peerId: a.peerId } : {}),
      });
    }
    const want =
      a.numWant < 0 ? this.limits.maxNumWant : Math.min(a.numWant, this.limits.maxNumWant);
    const others = [...swarm.entries()]
      .filter(
        ([k, p]) => k !== peerKey && (family === undefined || isIpv6(p.host) === (family === 6)),
      )
      .map(([, p]) => p);
    const picked: SwarmPeer[] = [];
    while (picked.length < want && others.length > 0)
      picked.push(others.splice(this.#random.int(others.length), 1)[0]!);
    const stats = this.scrape(a.infoHash, now);
    return {
      ok: true,
      peers: picked,
      seeders: stats.seeders,
      leechers: stats.leechers,
      interval: this.limits.interval,
    };
  }

  /** BEP 48 / BEP 15 scrape: seeders, leechers, and how many `completed` were announced. */
  scrape(infoHash: Uint8Array, now: number): ScrapeEntry {
    const key = hex(infoHash);
    const swarm = this.#torrents.get(key);
    if (swarm) this.#expirePeers(swarm, now);
    let seeders = 0;
    let leechers = 0;
    for (const p of swarm?.values() ?? []) {
      if (p.left === 0) seeders++;
      else leechers++;
    }
    return { seeders, leechers, completed: this.#completed.get(key) ?? 0 };
  }

  #expirePeers(swarm: Map<string, SwarmPeer>, now: number): void {
    for (const [k, p] of swarm) if (now - p.seenAt > this.limits.peerTimeoutMs) swarm.delete(k);
  }

  /** Drops torrents whose peers all expired (room for a new one). */
  #expireTorrents(now: number): void {
    for (const [key, swarm] of this.#torrents) {
      this.#expirePeers(swarm, now);
      if (swarm.size === 0) {
        this.#torrents.delete(key);
        this.#completed.delete(key);
      }
    }
  }
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const isIpv6 = (host: string) => host.includes(':');
