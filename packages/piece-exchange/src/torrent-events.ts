/**
 * The events a `Torrent` emits (peerkit's one convention, docs/architecture.md "Events"): each
 * carries one payload object, `on()` returns the remover, and a handler that throws is isolated
 * (the others still run, the torrent goes on).
 */
import type { Address } from '@peerkit/transport';
import type { TorrentInfo } from './torrent-info';
import type { PieceContributor } from './torrent-stats';

/**
 * Why a connection was refused before it opened (no `connect` was emitted for it): our own
 * peer id, a second connection to a peer already connected, a banned IP, the torrent closing,
 * or a handshake that failed (not plain BitTorrent, e.g. MSE/PE encrypted; wrong info-hash;
 * the connection ended first).
 */
export type PeerRejectReason = 'self' | 'duplicate' | 'banned' | 'closing' | 'handshake';

export type PeerEvent =
  /** Both handshakes done (`connect`), or such a connection closed (`disconnect`). */
  | {
      type: 'connect' | 'disconnect';
      address: Address;
      /** The remote peer id (hex). */
      peerId?: string;
      /** What carries the connection, when its stream says (`Stream.transport`: 'tcp', 'utp'). */
      transport?: string;
      error?: Error;
    }
  /** A connection refused or failed before it opened: no `connect` or `disconnect` for it. */
  | { type: 'rejected'; address: Address; reason: PeerRejectReason; error?: Error };

/** A piece passed its hash check and is stored. */
export interface PieceEvent {
  readonly index: number;
  /** The peers that sent its blocks (several when blocks came from several, e.g. in endgame). */
  readonly contributors: readonly PieceContributor[];
}

/** Verified pieces so far, of `total`. */
export interface ProgressEvent {
  readonly verified: number;
  readonly total: number;
}

/** Every piece is verified. */
export interface DoneEvent {
  /** The torrent's piece count. */
  readonly pieces: number;
}

/** A piece failed its hash check (BEP 3); `peers` (hosts) sent its blocks. */
export interface HashFailureEvent {
  readonly index: number;
  readonly peers: readonly string[];
}

/**
 * A peer was banned for sending corrupt data: the peer at `host` with `peerId` (hex), or with
 * `wholeHost` every peer at that address (after several banned peers there).
 */
export interface BanEvent {
  readonly host: string;
  readonly peerId: string;
  readonly wholeHost: boolean;
}

export interface TorrentEvents {
  /** The info dictionary is known (at once, or fetched for a magnet). */
  metadata: TorrentInfo;
  piece: PieceEvent;
  progress: ProgressEvent;
  done: DoneEvent;
  peer: PeerEvent;
  hashFailure: HashFailureEvent;
  ban: BanEvent;
  /** A storage failure (the session pauses) or metadata that would not parse. */
  error: Error;
}
