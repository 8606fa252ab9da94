/**
 * What a peer connection (`Peer`) needs from its torrent: the content once the metainfo is
 * known, the limits, and the callbacks through which the torrent learns what happened.
 */
import type { Clock } from '@peerkit/transport';
import type { Bitfield } from '../bitfield';
import type { PiecePicker } from '../picker';
import type { PieceStore } from '../storage/piece-store';
import type { TorrentGeometry } from '../wire/decoder';
import { UT_METADATA, UT_PEX } from '../wire/extension';
import type { MetadataMessage } from '../wire/metadata';
import type { PexMessage } from '../wire/pex';
import type { Peer } from './peer';

/** Our local extended message ids (BEP 10 `m`). */
export const LOCAL_EXTENSIONS = { [UT_METADATA]: 1, [UT_PEX]: 2 } as const;

/** What a peer connection needs from its torrent once the metainfo is known. */
export interface Content {
  readonly picker: PiecePicker;
  readonly store: PieceStore;
  /** Our verified pieces. */
  readonly have: Bitfield;
  readonly geometry: TorrentGeometry;
}

export interface PeerLimits {
  /** Requests we accept queued from one peer (our `reqq`, default 500). */
  maxPeerRequests: number;
  /** Fewest requests kept outstanding with an unchoking peer (default 16). */
  minRequestDepth: number;
  /** Most requests kept outstanding with one peer, before its `reqq` (default 1000). */
  maxRequestDepth: number;
  /** Seconds of transfer at the peer's rate the pipeline should cover (default 2). */
  pipelineSeconds: number;
  /** No block for this long while requests are outstanding: snubbed (default 20 s). */
  requestTimeoutMs: number;
  /** Nothing received for this long: disconnect (default 180 s). */
  idleTimeoutMs: number;
  /** Blocks grouped into one disk read and one socket write when serving (default 16). */
  uploadBatchBlocks: number;
}

/** The torrent side of a connection (implemented by `Torrent`). */
export interface PeerHost {
  readonly clock: Clock;
  readonly infoHash: Uint8Array;
  readonly peerId: Uint8Array;
  readonly listenPort: number | undefined;
  readonly content: Content | undefined;
  /** Size of the info dictionary when we have it (BEP 9 `metadata_size`). */
  readonly metadataSize: number | undefined;
  readonly paused: boolean;
  readonly limits: PeerLimits;
  readonly clientName: string;
  /** The handshake arrived: false refuses the connection (self, duplicate, banned). */
  acceptHandshake(peer: Peer, peerId: Uint8Array): boolean;
  onReady(peer: Peer): void;
  onClosed(peer: Peer, error: Error | undefined): void;
  onPeerInterest(peer: Peer): void;
  /** A block arrived whose length is right; the host checks it against the picker. */
  onBlock(peer: Peer, piece: number, offset: number, block: Uint8Array): void;
  onExtensionHandshake(peer: Peer): void;
  onMetadataMessage(peer: Peer, message: MetadataMessage): void;
  onPex(peer: Peer, message: PexMessage): void;
  /** Peer sent `have`/`bitfield`: availability changed. */
  onAvailability(peer: Peer): void;
}

/**
 * The request pipeline depth: enough blocks to cover `pipelineSeconds` at the peer's measured
 * rate, at least `minRequestDepth`, at most `maxRequestDepth` and the peer's `reqq` (BEP 10;
 * 250, libtorrent's default, when it sent none). A snubbed peer gets one request at a time.
 */
export function pipelineDepth(
  bytesPerSecond: number,
  limits: Pick<PeerLimits, 'minRequestDepth' | 'maxRequestDepth' | 'pipelineSeconds'>,
  reqq: number | undefined,
  snubbed: boolean,
): number {
  if (snubbed) return 1;
  const byRate = Math.ceil((bytesPerSecond * limits.pipelineSeconds) / 16_384);
  const cap = Math.min(limits.maxRequestDepth, reqq ?? 250);
  return Math.max(1, Math.min(Math.max(limits.minRequestDepth, byRate), cap));
}
