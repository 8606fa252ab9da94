/**
 * The swarm policy: which addresses a torrent dials and when, how many connections it keeps,
 * and which peers it stops talking to. Pure (the torrent dials, accepts and closes; this only
 * decides), driven by the torrent's clock, in the manner of gossip's connection manager.
 *
 * - Candidates: addresses handed to the torrent (`peers`, a magnet's `x.pe`, `addPeer`, BEP 11
 *   PEX), at most `MAX_CANDIDATES`. A failed dial is retried with exponential backoff
 *   (`redialDelay`). An address the user gave (`permanent`) is retried for the whole session,
 *   at most every `REDIAL_MAX_MS`; one learnt by PEX is forgotten after `MAX_DIAL_FAILURES`
 *   failures in a row. A connection we dialled that closes is redialled after
 *   `RECONNECT_DELAY_MS`; a seed that disconnected from us while we seed too is not redialled for
 *   `SEED_REDIAL_MS` (two seeds have nothing to exchange: no redial loop).
 * - Connection limits: established connections and our dials stay under `maxConnections`;
 *   connections still in their handshake (half-open) are limited apart, to `maxHalfOpen`, and
 *   under pressure the oldest half-open one is evicted for a new one, so that a crowd of silent
 *   or slowloris connections never keeps an honest peer out (docs/security.md).
 * - Trust and bans (libtorrent's trust points, per peer: address and peer id, so that an honest
 *   peer sharing an address with a liar is not cut off): every verified piece gives each peer that sent
 *   blocks of it `TRUST_PER_GOOD_PIECE` (up to `TRUST_MAX`), every piece that fails its hash
 *   check (BEP 3) costs `TRUST_PER_BAD_PIECE`; at `banTrust` or below the peer is banned. A
 *   liar can come back under a fresh peer id, so `HOST_BAN_PEERS` banned peers at one address
 *   ban the whole address.
 */
import { type Address, formatAddress } from '@peerkit/transport';

/** Most open connections, dials included (the `maxConnections` default). */
export const DEFAULT_MAX_CONNECTIONS = 50;
/** Most connections in their handshake at once (the `maxHalfOpen` default). */
export const DEFAULT_MAX_HALF_OPEN = 20;
/** Most addresses remembered as candidates. */
export const MAX_CANDIDATES = 1000;
/** A dial that has not connected after this long fails. */
export const DIAL_TIMEOUT_MS = 10_000;
/** Delay before the first redial of an address whose dial failed. */
export const REDIAL_BASE_MS = 1000;
/** Longest delay between redials. */
export const REDIAL_MAX_MS = 30_000;
/** Failed dials in a row after which an address is forgotten. */
export const MAX_DIAL_FAILURES = 6;
/** A connection we dialled closed: dial it again after this long. */
export const RECONNECT_DELAY_MS = 5000;
/** Both sides seeds: dial that address again only after this long (no redial loop). */
export const SEED_REDIAL_MS = 10 * 60_000;
/** Highest trust a host can build up. */
export const TRUST_MAX = 8;
/** Trust gained for each verified piece a host sent blocks of. */
export const TRUST_PER_GOOD_PIECE = 1;
/** Trust lost for each piece that failed its hash check a host sent blocks of. */
export const TRUST_PER_BAD_PIECE = -2;
/** Banned peers at one address after which the address itself is banned. */
export const HOST_BAN_PEERS = 3;
/** Trust at or below which a peer is banned (three failed pieces from a stranger). */
export const DEFAULT_BAN_TRUST = -6;

/**
 * Exponential backoff for dialing an address again after `failures` failed dials in a row
 * (≥ 1): 1 s, 2 s, 4 s, 8 s, … capped at `REDIAL_MAX_MS`. After `MAX_DIAL_FAILURES` failures it
 * is dropped.
 */
export function redialDelay(failures: number): number {
  return Math.min(REDIAL_MAX_MS, REDIAL_BASE_MS * 2 ** Math.max(0, failures - 1));
}

export interface SwarmLimits {
  /** Most open connections, dials included (default `DEFAULT_MAX_CONNECTIONS`). */
  readonly maxConnections: number;
  /** Trust at or below which a host is banned (default `DEFAULT_BAN_TRUST`). */
  readonly banTrust: number;
  /** Most connections still in their handshake (default `DEFAULT_MAX_HALF_OPEN`). */
  readonly maxHalfOpen: number;
}

/** What to do with an incoming connection. */
export type Admission = 'accept' | 'evict-half-open' | 'refuse';

interface Candidate {
  readonly address: Address;
  /** Given by the user (`peers`, `addPeer`, a magnet's `x.pe`): never forgotten. */
  permanent: boolean;
  failures: number;
  nextAttemptAt: number;
  dialing: boolean;
  /** Waiting `SEED_REDIAL_MS` because both sides were complete. */
  seedWait?: boolean;
}

export class SwarmPolicy {
  readonly limits: SwarmLimits;
  readonly #candidates = new Map<string, Candidate>();
  /** Banned addresses (hosts). */
  readonly #banned = new Set<string>();
  /** Banned peers (`peerKey`), and how many per host. */
  readonly #bannedPeers = new Set<string>();
  readonly #bannedPerHost = new Map<string, number>();
  /** Trust per peer (`peerKey`). */
  readonly #trust = new Map<string, number>();
  #dialing = 0;

  constructor(limits: Partial<SwarmLimits> = {}) {
    this.limits = {
      maxConnections: limits.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      banTrust: limits.banTrust ?? DEFAULT_BAN_TRUST,
      maxHalfOpen: limits.maxHalfOpen ?? DEFAULT_MAX_HALF_OPEN,
    };
  }

  /** Dials under way. */
  get dialing(): number {
    return this.#dialing;
  }

  /** Addresses remembered. */
  get candidates(): number {
    return this.#candidates.size;
  }

  /** Whether the address is banned, or (with `peerId`) that peer at it. */
  isBanned(host: string, peerId?: string): boolean {
    if (this.#banned.has(host)) return true;
    return peerId !== undefined && this.#bannedPeers.has(peerKey({ host, peerId }));
  }

  trustOf(peer: PeerIdentity): number {
    return this.#trust.get(peerKey(peer)) ?? 0;
  }

  /**
   * Remembers an address to dial (`permanent`: the user gave it, retry it for the whole session);
   * false when it is banned, known already, or too many are.
   */
  add(address: Address, permanent = false): boolean {
    const key = formatAddress(address);
    if (this.#banned.has(address.host)) return false;
    const known = this.#candidates.get(key);
    if (known !== undefined) {
      known.permanent ||= permanent;
      return false;
    }
    if (!permanent && this.#candidates.size >= MAX_CANDIDATES) return false;
    this.#candidates.set(key, {
      address,
      permanent,
      failures: 0,
      nextAttemptAt: 0,
      dialing: false,
    });
    return true;
  }

  /** Forgets an address (it was our own). */
  forget(address: Address): void {
    const c = this.#candidates.get(formatAddress(address));
    if (c === undefined) return;
    if (c.dialing) this.#dialing--;
    this.#candidates.delete(formatAddress(address));
  }

  /**
   * The addresses to dial now, with `open` connections open; each becomes a dial under way
   * until `dialSucceeded` or `dialFailed`. `connected` tells whether an address already has a
   * connection.
   */
  due(now: number, open: number, connected: (address: Address) => boolean): Address[] {
    const out: Address[] = [];
    for (const c of this.#candidates.values()) {
      if (open + this.#dialing >= this.limits.maxConnections) break;
      if (c.dialing || c.nextAttemptAt > now || connected(c.address)) continue;
      c.dialing = true;
      this.#dialing++;
      out.push(c.address);
    }
    return out;
  }

  dialSucceeded(address: Address): void {
    const c = this.#dialEnded(address);
    if (c !== undefined) c.failures = 0;
  }

  /**
   * A dial failed: retry after `redialDelay`, or forget after `MAX_DIAL_FAILURES` unless the
   * user gave the address.
   */
  dialFailed(address: Address, now: number): void {
    const c = this.#dialEnded(address);
    if (c === undefined) return;
    c.failures++;
    if (c.failures >= MAX_DIAL_FAILURES && !c.permanent)
      this.#candidates.delete(formatAddress(address));
    else c.nextAttemptAt = now + redialDelay(c.failures);
  }

  #dialEnded(address: Address): Candidate | undefined {
    const c = this.#candidates.get(formatAddress(address));
    if (c === undefined || !c.dialing) return c;
    c.dialing = false;
    this.#dialing--;
    return c;
  }

  /**
   * A connection to `address` (where the peer listens) closed. Two seeds (`complete` and
   * `remoteSeed`) wait `SEED_REDIAL_MS` before trying each other again; otherwise one we dialled
   * is redialled after `RECONNECT_DELAY_MS`.
   */
  disconnected(
    address: Address,
    outgoing: boolean,
    complete: boolean,
    remoteSeed: boolean,
    now: number,
  ): void {
    const c = this.#candidates.get(formatAddress(address));
    if (c === undefined || this.#banned.has(address.host)) return;
    if (complete && remoteSeed) {
      c.nextAttemptAt = Math.max(c.nextAttemptAt, now + SEED_REDIAL_MS);
      c.seedWait = true;
    } else if (outgoing) c.nextAttemptAt = now + RECONNECT_DELAY_MS;
  }

  /**
   * We want pieces again (more files were selected): the seeds we left because both sides were
   * complete may be dialled at once.
   */
  incompleteAgain(now: number): void {
    for (const c of this.#candidates.values()) {
      if (!c.seedWait) continue;
      c.seedWait = false;
      c.nextAttemptAt = Math.min(c.nextAttemptAt, now);
    }
  }

  /**
   * An incoming connection from `host`, with `established` connections open and `halfOpen` in
   * their handshake: accept it, accept it after evicting the oldest half-open connection, or
   * refuse it (banned host, or every slot established).
   */
  admit(host: string, established: number, halfOpen: number): Admission {
    if (this.#banned.has(host) || established >= this.limits.maxConnections) return 'refuse';
    if (halfOpen >= this.limits.maxHalfOpen) return 'evict-half-open';
    if (established + halfOpen >= this.limits.maxConnections) return 'evict-half-open';
    return 'accept';
  }

  /** A piece the `peers` sent blocks of passed its hash check. */
  pieceVerified(peers: Iterable<PeerIdentity>): void {
    for (const peer of peers) this.#adjustTrust(peer, TRUST_PER_GOOD_PIECE);
  }

  /** A piece the `peers` sent blocks of failed its hash check; returns the bans it caused. */
  pieceFailed(peers: Iterable<PeerIdentity>): Ban[] {
    const bans: Ban[] = [];
    for (const peer of peers) {
      const ban = this.#adjustTrust(peer, TRUST_PER_BAD_PIECE);
      if (ban !== undefined) bans.push(ban);
    }
    return bans;
  }

  /**
   * The peer alone is proven to lie (BEP 52 hashes that fail their pieces root): banned at once.
   * Returns the ban (undefined when it already was).
   */
  provenBad(peer: PeerIdentity): Ban | undefined {
    return this.#adjustTrust(peer, this.limits.banTrust - TRUST_MAX);
  }

  /** Returns the ban when this change bans the peer. */
  #adjustTrust(peer: PeerIdentity, delta: number): Ban | undefined {
    const key = peerKey(peer);
    const value = Math.min(TRUST_MAX, this.trustOf(peer) + delta);
    this.#trust.set(key, value);
    if (value > this.limits.banTrust || this.isBanned(peer.host, peer.peerId)) return undefined;
    this.#bannedPeers.add(key);
    const count = (this.#bannedPerHost.get(peer.host) ?? 0) + 1;
    this.#bannedPerHost.set(peer.host, count);
    if (count < HOST_BAN_PEERS) return { host: peer.host, peerId: peer.peerId, wholeHost: false };
    this.#banned.add(peer.host);
    for (const [k, c] of this.#candidates) {
      if (c.address.host !== peer.host) continue;
      if (c.dialing) this.#dialing--;
      this.#candidates.delete(k);
    }
    return { host: peer.host, peerId: peer.peerId, wholeHost: true };
  }
}

/** A peer as trust and bans know it: its address and its peer id (hex). */
export interface PeerIdentity {
  readonly host: string;
  readonly peerId: string;
}

/** A ban: the peer, and whether its whole address is banned now (`HOST_BAN_PEERS`). */
export interface Ban extends PeerIdentity {
  readonly wholeHost: boolean;
}

function peerKey(peer: PeerIdentity): string {
  return `${peer.host} ${peer.peerId}`;
}
