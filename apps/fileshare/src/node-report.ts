/**
 * What a share node says about its torrent: the piece-exchange session's events turned into
 * the node's events (./events.ts), its status line, and the `done` event with where the files
 * are on disk.
 */

import { join } from 'node:path';
import {
  BLOCK_LENGTH,
  type PieceEvent,
  type Torrent,
  type TorrentInfo,
  type TorrentStats,
} from '@peerkit/piece-exchange';
import { type Clock, formatAddress } from '@peerkit/transport';
import { describeError, errorCode } from './errors';
import type { NodeEventHandler, StatusFields } from './events';
import type { PeerTotalsTracker } from './peer-totals';
import { writeAtomic } from './state-dir';

/**
 * Bytes not yet verified (BEP 3 `left`, exact). Before the metadata the size is unknown: a
 * tracker still needs a number, and one that is not 0 (we are not a seed): one block.
 */
export function bytesLeft(stats: TorrentStats): number {
  return stats.left ?? BLOCK_LENGTH;
}

/** The fields of a `status` event, now. */
export function torrentStatus(torrent: Torrent, peerTotals: PeerTotalsTracker): StatusFields {
  const s = torrent.stats();
  peerTotals.observe(s);
  return {
    verified: s.verifiedPieces,
    pieces: s.pieceCount,
    length: s.totalLength,
    downloaded: s.downloaded,
    uploaded: s.uploaded,
    downloadRate: Math.round(s.downloadRate),
    uploadRate: Math.round(s.uploadRate),
    peers: s.peers.length,
    left: s.left,
    eta: s.done || s.downloadRate <= 0 ? undefined : Math.ceil(bytesLeft(s) / s.downloadRate),
  };
}

export interface ReportOptions {
  emit: NodeEventHandler;
  peerTotals: PeerTotalsTracker;
  /** Where a fetched info dictionary is kept (as a minimal .torrent). */
  savedTorrent: string;
}

/** The transports peerkit-share reports (piece-exchange passes on the stream's own name). */
function transportKind(name: string | undefined): 'utp' | 'tcp' | undefined {
  return name === 'utp' || name === 'tcp' ? name : undefined;
}

/** How often, at most, a `piece` event also takes the peers' byte counters. */
const OBSERVE_MS = 100;

/** Emits `metadata`, `resumed`, `piece`, `hash-failure` and `peer` events for the torrent. */
export function reportTorrentEvents(
  torrent: Torrent,
  options: ReportOptions & { clock: Clock },
): void {
  const { emit, peerTotals, savedTorrent } = options;
  const reportMetadata = (i: TorrentInfo, fetched: boolean) => {
    const length = i.files.reduce((n, f) => n + f.length, 0);
    const pieces = Math.ceil(length / i.pieceLength);
    const files = i.files.filter((f) => !f.padding).length;
    emit({
      type: 'metadata',
      name: i.name,
      length,
      pieces,
      pieceLength: i.pieceLength,
      files,
      fetched,
    });
    emit({ type: 'resumed', verified: torrent.stats().resumedPieces, pieces });
  };
  if (torrent.info !== undefined) reportMetadata(torrent.info, false);
  torrent.on('metadata', (fetchedInfo) => {
    // Keep the fetched info dictionary (as a minimal .torrent), so a restart need not fetch it.
    if (fetchedInfo.infoBytes !== undefined) {
      const bytes = Buffer.concat([
        Buffer.from('d4:info'),
        fetchedInfo.infoBytes,
        Buffer.from('e'),
      ]);
      void writeAtomic(savedTorrent, bytes).catch((error: unknown) =>
        emit({
          type: 'warning',
          code: errorCode(error),
          message: `cannot save ${savedTorrent}: ${describeError(error)}`,
        }),
      );
    }
    reportMetadata(fetchedInfo, true);
  });
  // No `stats()` snapshot for every piece (issue #22: with 16 KiB pieces that is 65,536 copies
  // of every peer's figures per GiB): the torrent's `progress` event, emitted right after each
  // `piece`, carries the counts, and the peers' byte totals are observed at most every
  // OBSERVE_MS and with the last piece (peers leave once both sides are seeds).
  let verifiedPiece: PieceEvent | undefined;
  let observedAt = Number.NEGATIVE_INFINITY;
  torrent.on('piece', (event) => {
    verifiedPiece = event;
    peerTotals.piece(event.contributors);
  });
  torrent.on('progress', ({ verified, total }) => {
    if (verifiedPiece === undefined) return;
    const { index, contributors } = verifiedPiece;
    verifiedPiece = undefined;
    const now = options.clock.now();
    if (verified === total || now - observedAt >= OBSERVE_MS) {
      observedAt = now;
      peerTotals.observe(torrent.stats());
    }
    emit({
      type: 'piece',
      index,
      verified,
      pieces: total,
      from: contributors.map((c) => c.listenAddress ?? c.address),
    });
  });
  torrent.on('hashFailure', ({ index, peers }) => emit({ type: 'hash-failure', index, peers }));
  torrent.on('peer', (event) => {
    if (event.type === 'disconnect') peerTotals.observe(torrent.stats());
    const reasons = [
      event.type === 'rejected' ? event.reason : undefined,
      event.error ? describeError(event.error) : undefined,
    ].filter((r) => r !== undefined);
    const carrier = event.type === 'rejected' ? undefined : transportKind(event.transport);
    const transport = carrier !== undefined ? { transport: carrier } : {};
    emit({
      type: 'peer',
      action: event.type,
      address: formatAddress(event.address),
      ...transport,
      ...(reasons.length > 0 ? { reason: reasons.join(': ') } : {}),
    });
  });
}

/** Resolves once every piece is verified, after emitting `done`. */
export function reportDone(
  torrent: Torrent,
  options: ReportOptions & { clock: Clock; started: number; directory: string },
): Promise<void> {
  const { emit, peerTotals } = options;
  return torrent.whenDone().then(() => {
    const s = torrent.stats();
    peerTotals.observe(s);
    emit({
      type: 'done',
      elapsedMs: options.clock.now() - options.started,
      downloaded: s.downloaded,
      resumed: s.resumedPieces,
      peerTotals: peerTotals.totals(),
      // Where the files are on disk (a name longer than 255 bytes was shortened).
      path: join(options.directory, torrent.diskPaths?.[0]?.[0] ?? torrent.info?.name ?? ''),
    });
  });
}
