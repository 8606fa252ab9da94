/**
 * The seam between a `Torrent` and the `TorrentClient` that runs it with others: what the
 * client gives the torrent when it opens it (`ClientLink`, passed as `TorrentOptions.client`),
 * and what the torrent hands back (`AttachedTorrent`). A torrent opened without a client runs
 * on its own exactly as before: its own listener, its own tick timer, its own unchoke slots.
 */
import type { Address, Stream } from '@peerkit/transport';
import type { PeerSession } from '../session/peer-session';
import type { FileSystem } from '../storage/file-system';

/** What a torrent lets its client do. */
export interface AttachedTorrent {
  readonly infoHash: Uint8Array;
  /** The torrent's connections (torrent-connections.ts). */
  readonly peers: {
    /**
     * An incoming stream whose BitTorrent handshake names this torrent; with `secured` true,
     * MSE/PE (if any) is done and the stream replays the handshake bytes the client read.
     */
    accept(stream: Stream, secured: boolean): void;
    values(): Iterable<PeerSession>;
  };
  /** One periodic step: request timeouts, keep-alives, redials, PEX, the rechoke when due. */
  tick(): void;
  /** Runs the choker now (the client changed this torrent's upload slots). */
  rechoke(): void;
}

/** What a client gives a torrent it runs. */
export interface ClientLink {
  /** Wraps the torrent's file system (the client's shared disk budget). */
  fileSystem(fs: FileSystem): FileSystem;
  /** Registers the torrent (while it opens; before any peer connects). */
  attach(torrent: AttachedTorrent): ClientRegistration;
}

/** The client's side of one registered torrent. */
export interface ClientRegistration {
  /** The address incoming connections reach (the client's one listener). */
  readonly listenAddress: Address | undefined;
  /** Upload slots (unchoked peers) this torrent may use now: the client's share for it. */
  slots(): number;
  /** The torrent closed: forget it. */
  detach(): void;
}
