/**
 * Bytes exchanged with each peer address over a node's life. `Torrent.stats()` only lists open
 * connections and their counters restart with each new connection, so this keeps what closed
 * connections did: feed it every stats snapshot you take (and one just before a peer leaves).
 */
import type { TorrentStats } from '@peerkit/piece-exchange';
import type { PeerTotals } from './events';

interface Counters {
  downloaded: number;
  uploaded: number;
}

export class PeerTotalsTracker {
  private readonly byAddress = new Map<string, { closed: Counters; open: Counters }>();

  observe(stats: TorrentStats): void {
    for (const p of stats.peers) {
      const entry = this.byAddress.get(p.address) ?? {
        closed: { downloaded: 0, uploaded: 0 },
        open: { downloaded: 0, uploaded: 0 },
      };
      if (p.downloaded < entry.open.downloaded || p.uploaded < entry.open.uploaded) {
        // A new connection from the same address: its counters restarted.
        entry.closed = {
          downloaded: entry.closed.downloaded + entry.open.downloaded,
          uploaded: entry.closed.uploaded + entry.open.uploaded,
        };
      }
      entry.open = { downloaded: p.downloaded, uploaded: p.uploaded };
      this.byAddress.set(p.address, entry);
    }
  }

  totals(): PeerTotals {
    const out: Record<string, Counters> = {};
    for (const [address, { closed, open }] of this.byAddress) {
      out[address] = {
        downloaded: closed.downloaded + open.downloaded,
        uploaded: closed.uploaded + open.uploaded,
      };
    }
    return out;
  }
}
