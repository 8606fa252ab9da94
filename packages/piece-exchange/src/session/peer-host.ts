/**
 * The two seams of a peer session (`PeerSession`): `PeerSessionHost`, what it needs from its
 * torrent (the content once the metainfo is known, the limits, and the callbacks through which
 * the torrent learns what happened), and `PeerOutput`, what it asks of its connection.
 */
import type { Clock } from '@peerkit/transport';
import type { Bitfield } from '../bitfield';
import type { PiecePicker } from '../picker';
import type { PieceStore } from '../storage/piece-store';
import type { PieceLayers } from '../v2/piece-layers';
import type { TorrentGeometry } from '../wire/decoder';
import { UT_METADATA, UT_PEX } from '../wire/extension';
import type { HashesMessage, HashRejectMessage } from '../wire/hashes';
import type { MetadataMessage } from '../wire/metadata';
import type { PexMessage } from '../wire/pex';
import type { PeerLimits } from './peer-limits';
import type { PeerSession } from './peer-session';

/** Our local extended message ids (BEP 10 `m`). */
export const LOCAL_EXTENSIONS = { [UT_METADATA]: 1, [UT_PEX]: 2 } as const;

/** What the state machine needs of the content once the metainfo is known (no disk). */
export interface SessionContent {
  readonly picker: PiecePicker;
  /** Our verified pieces. */
  readonly have: Bitfield;
  readonly geometry: TorrentGeometry;
  /** BEP 52 piece layers of a v2 or hybrid torrent: hash requests are answered from them. */
  readonly pieceLayers?: PieceLayers;
}

/** The content as the torrent holds it: the connection serves blocks from `store`. */
export interface Content extends SessionContent {
  readonly store: PieceStore;
}

/** The torrent side of a peer session (implemented by `Torrent`, or by a test). */
export interface PeerSessionHost {
  /** The injected clock (only `now()` is used). */
  readonly clock: Pick<Clock, 'now'>;
  readonly infoHash: Uint8Array;
  /**
   * A second info-hash an incoming handshake may carry: a hybrid torrent's SHA-256 one,
   * truncated (BEP 52). We answer with the one the peer used.
   */
  readonly altInfoHash?: Uint8Array | undefined;
  /** BEP 52: announce v2 support in the handshake (a v2 or hybrid torrent). */
  readonly v2?: boolean;
  readonly peerId: Uint8Array;
  readonly listenPort: number | undefined;
  readonly content: SessionContent | undefined;
  /** Size of the info dictionary when we have it (BEP 9 `metadata_size`). */
  readonly metadataSize: number | undefined;
  readonly paused: boolean;
  readonly limits: PeerLimits;
  readonly clientName: string;
  /** The handshake arrived: false refuses the connection (self, duplicate, banned). */
  acceptHandshake(peer: PeerSession, peerId: Uint8Array): boolean;
  /** Both handshakes done. */
  onReady(peer: PeerSession): void;
  /** The session ended (once per session). */
  onClosed(peer: PeerSession, error: Error | undefined): void;
  onPeerInterest(peer: PeerSession): void;
  /** A block arrived whose length is right; the host checks it against the picker. */
  onBlock(peer: PeerSession, piece: number, offset: number, block: Uint8Array): void;
  onExtensionHandshake(peer: PeerSession): void;
  onMetadataMessage(peer: PeerSession, message: MetadataMessage): void;
  onPex(peer: PeerSession, message: PexMessage): void;
  /** Peer sent `have`/`bitfield`: availability changed. */
  onAvailability(peer: PeerSession): void;
  /** BEP 52: the peer answered one of our hash requests (`hashes` or `hash reject`). */
  onHashes?(peer: PeerSession, message: HashesMessage | HashRejectMessage): void;
}

/** What the state machine asks of its connection (implemented by `PeerConnection`). */
export interface PeerOutput {
  /** Writes `bytes` (whole encoded messages) to the peer. */
  send(bytes: Uint8Array): void;
  /** Requests are queued (`PeerSession.takeUploadGroup`): serve them from storage. */
  serve(): void;
  /** The torrent geometry became known (magnet): frames are checked against it from now on. */
  geometryKnown(geometry: TorrentGeometry): void;
  /**
   * Since when writes have been pending without any finishing (the peer stopped reading), or
   * undefined when nothing is stuck.
   */
  stalledSince(): number | undefined;
  /**
   * Reads whole pieces (their bytes, in order) to compute BEP 52 block hashes for a hash request;
   * `done(undefined)` when a read fails. Without it, base-layer hash requests are rejected.
   */
  readPieces?(pieces: readonly number[], done: (data: Uint8Array[] | undefined) => void): void;
  /** Ends the connection: `graceful` half-closes (FIN), else it is reset. Called once. */
  close(error: Error | undefined, graceful: boolean): void;
}
