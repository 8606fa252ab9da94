/** How a torrent describes itself and its peers to its user (`Torrent.stats()`, events). */
import type { Content } from './session/peer-host';
import { peerStats } from './session/peer-report';
import type { PeerSession } from './session/peer-session';
import { bytesLeft } from './storage/progress';

export interface PeerStats {
  /** The connection's remote address (for an incoming one, the peer's ephemeral port). */
  readonly address: string;
  /** The remote peer id from its handshake (BEP 3), 40 hex digits. */
  readonly peerId: string;
  /**
   * Where the peer accepts connections, when known: the dialed address for an outgoing
   * connection, else the remote IP with the port of its extension handshake `p` (BEP 10).
   */
  readonly listenAddress: string | undefined;
  readonly client: string | undefined;
  readonly outgoing: boolean;
  readonly downloadRate: number;
  readonly uploadRate: number;
  readonly downloaded: number;
  readonly uploaded: number;
  readonly amChoking: boolean;
  readonly amInterested: boolean;
  readonly peerChoking: boolean;
  readonly peerInterested: boolean;
  readonly snubbed: boolean;
  readonly seed: boolean;
}

export interface TorrentStats {
  readonly infoHash: string;
  readonly name: string | undefined;
  readonly pieceCount: number;
  readonly verifiedPieces: number;
  readonly totalLength: number;
  /**
   * Bytes still to download: `totalLength` less the exact size of each verified piece (the last
   * one is short), the BEP 3 tracker `left`. 0 when done; undefined before the metadata is known.
   */
  readonly left: number | undefined;
  /** Bytes of accepted blocks received (duplicates and unsolicited blocks not counted). */
  readonly downloaded: number;
  readonly uploaded: number;
  /** Bytes received that were dropped (duplicates, unsolicited, failed pieces). */
  readonly wasted: number;
  readonly downloadRate: number;
  readonly uploadRate: number;
  readonly hashFailures: number;
  /** Every piece of the selected files is verified (`Torrent.done`). */
  readonly done: boolean;
  /** Pieces with a deadline now: under a read stream's head or in its readahead (./stream.ts). */
  readonly timeCriticalPieces: number;
  readonly paused: boolean;
  readonly peers: readonly PeerStats[];
  /**
   * Connected peers having each piece. Copied from the picker when first read (a lazy getter),
   * so `stats()` itself stays O(peers) on torrents with many pieces (issue #22).
   */
  readonly availability: Uint32Array;
  /** Pieces found verified (resume data or re-check) when the content was opened. */
  readonly resumedPieces: number;
}

/** A peer that sent blocks of a piece (see the `piece` and `hashFailure` events). */
export interface PieceContributor {
  /** The peer id from its handshake, 40 hex digits. */
  readonly peerId: string;
  /** The connection's remote address. */
  readonly address: string;
  /** Where the peer accepts connections, when known (see `PeerStats.listenAddress`). */
  readonly listenAddress: string | undefined;
  /** Blocks of the piece it sent that were accepted. */
  readonly blocks: number;
}

/** What `torrentStats` sums up. */
export interface StatsInput {
  readonly infoHash: Uint8Array;
  readonly name: string | undefined;
  readonly content: Content | undefined;
  readonly peers: Iterable<PeerSession>;
  readonly now: number;
  /** Bytes uploaded to peers that have gone. */
  readonly uploadedBefore: number;
  readonly downloads: { downloaded: number; wasted: number; hashFailures: number };
  readonly paused: boolean;
  readonly resumedPieces: number;
}

/** A torrent's statistics: its own counters and every open connection's `PeerStats`. */
export function torrentStats(input: StatsInput): TorrentStats {
  const peers: PeerStats[] = [];
  let downloadRate = 0;
  let uploadRate = 0;
  let uploaded = input.uploadedBefore;
  for (const p of input.peers) {
    if (!p.isOpen) continue;
    const stats = peerStats(p, input.now);
    downloadRate += stats.downloadRate;
    uploadRate += stats.uploadRate;
    uploaded += stats.uploaded;
    peers.push(stats);
  }
  const content = input.content;
  const picker = content?.picker;
  let availability: Uint32Array | undefined;
  return {
    infoHash: Buffer.from(input.infoHash).toString('hex'),
    name: input.name,
    pieceCount: content?.geometry.pieceCount ?? 0,
    verifiedPieces: content?.have.count ?? 0,
    totalLength: content?.store.layout.totalLength ?? 0,
    left: content === undefined ? undefined : bytesLeft(content.store.layout, content.have),
    downloaded: input.downloads.downloaded,
    uploaded,
    wasted: input.downloads.wasted,
    downloadRate,
    uploadRate,
    hashFailures: input.downloads.hashFailures,
    done: content?.picker.wantedComplete ?? false,
    timeCriticalPieces: picker?.deadlineCount ?? 0,
    paused: input.paused,
    peers,
    get availability(): Uint32Array {
      availability ??= picker?.availabilitySnapshot() ?? new Uint32Array(0);
      return availability;
    },
    resumedPieces: input.resumedPieces,
  };
}
