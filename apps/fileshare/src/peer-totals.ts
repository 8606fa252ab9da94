/**
 * What each peer exchanged with a node over its life: bytes both ways and the pieces it sent.
 * `Torrent.stats()` only lists open connections and their counters restart with each new
 * connection, so this keeps what closed connections did: feed it every stats snapshot you take
 * (and one just before a peer leaves), and every `piece` event's contributors.
 *
 * Peers are told apart by their peer id and named by the address they listen on when known (the
 * address we dialed, or the `p` port of their extension handshake), else by the connection's
 * address.
 */
import type { PieceContributor, TorrentStats } from '@peerkit/piece-exchange';
import type { PeerTotals } from './events';

interface Counters {
  downloaded: number;
  uploaded: number;
}

interface Entry {
  label: string;
  /** Counters of this peer's earlier connections. */
  closed: Counters;
  /** Counters of its current (or last) connection. */
  open: Counters;
  /** Verified pieces it sent every block of. */
  pieces: number;
  /** Verified pieces it sent some of the blocks of, other peers the rest. */
  sharedPieces: number;
}

export class PeerTotalsTracker {
  private readonly byPeer = new Map<string, Entry>();

  private entry(peerId: string, address: string, listenAddress: string | undefined): Entry {
    const key = peerId !== '' ? peerId : address;
    let entry = this.byPeer.get(key);
    if (entry === undefined) {
      entry = {
        label: listenAddress ?? address,
        closed: { downloaded: 0, uploaded: 0 },
        open: { downloaded: 0, uploaded: 0 },
        pieces: 0,
        sharedPieces: 0,
      };
      this.byPeer.set(key, entry);
    } else if (listenAddress !== undefined) {
      entry.label = listenAddress;
    }
    return entry;
  }

  observe(stats: TorrentStats): void {
    for (const p of stats.peers) {
      const entry = this.entry(p.peerId, p.address, p.listenAddress);
      if (p.downloaded < entry.open.downloaded || p.uploaded < entry.open.uploaded) {
        // A new connection with the same peer: its counters restarted.
        entry.closed = {
          downloaded: entry.closed.downloaded + entry.open.downloaded,
          uploaded: entry.closed.uploaded + entry.open.uploaded,
        };
      }
      entry.open = { downloaded: p.downloaded, uploaded: p.uploaded };
    }
  }

  /**
   * A piece was verified: counts it for the peer that sent all of it, or as shared for each of
   * the peers that sent part of it (end game, a peer leaving mid-piece).
   */
  piece(contributors: readonly PieceContributor[]): void {
    for (const c of contributors) {
      const entry = this.entry(c.peerId, c.address, c.listenAddress);
      if (contributors.length === 1) entry.pieces++;
      else entry.sharedPieces++;
    }
  }

  /** By listen address (or connection address); peers under the same name are added up. */
  totals(): PeerTotals {
    const out: Record<
      string,
      { downloaded: number; uploaded: number; pieces: number; sharedPieces: number }
    > = {};
    for (const { label, closed, open, pieces, sharedPieces } of this.byPeer.values()) {
      const sum = out[label] ?? { downloaded: 0, uploaded: 0, pieces: 0, sharedPieces: 0 };
      sum.downloaded += closed.downloaded + open.downloaded;
      sum.uploaded += closed.uploaded + open.uploaded;
      sum.pieces += pieces;
      sum.sharedPieces += sharedPieces;
      out[label] = sum;
    }
    return out;
  }
}
