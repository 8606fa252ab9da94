/**
 * The seam a torrent's peer sessions and connections see (`PeerConnectionHost`): the torrent's
 * read-only state, and where each thing a peer says goes — blocks to the downloads, BEP 9
 * metadata to the metadata exchange, BEP 11 PEX addresses to the swarm (never for a BEP 27
 * private torrent), BEP 52 hashes to the v2 side.
 */
import type { Address } from '@peerkit/transport';
import type { MetadataExchange } from './session/metadata-exchange';
import type { PeerConnectionHost } from './session/peer-connection';
import type { Content } from './session/peer-host';
import type { PeerLimits } from './session/peer-limits';
import type { PeerSession } from './session/peer-session';
import { PEX_MAX_ADDED } from './session/pex';
import type { TorrentV2 } from './torrent-v2';

/** What the torrent (./torrent.ts) hands its peers: state, read when asked, and reactions. */
export interface TorrentSide {
  readonly clock: PeerConnectionHost['clock'];
  readonly infoHash: Uint8Array;
  readonly peerId: Uint8Array;
  readonly limits: PeerLimits;
  readonly clientName: string;
  readonly metadata: MetadataExchange;
  v2(): TorrentV2;
  content(): Content | undefined;
  paused(): boolean;
  isPrivate(): boolean;
  listenPort(): number | undefined;
  admit(peer: PeerSession, peerId: Uint8Array): boolean;
  ready(peer: PeerSession): void;
  closed(peer: PeerSession, error: Error | undefined): void;
  interest(): void;
  block(content: Content, peer: PeerSession, piece: number, offset: number, data: Uint8Array): void;
  /** Two seeds have nothing to exchange: closes the connection when both are. */
  closeIfBothSeeds(peer: PeerSession): void;
  candidate(address: Address): void;
}

export function peerHost(t: TorrentSide): PeerConnectionHost {
  const { clock, infoHash, peerId, limits, clientName, metadata } = t;
  return {
    clock,
    infoHash,
    peerId,
    limits,
    clientName,
    get altInfoHash() {
      return t.v2().altInfoHash;
    },
    get v2() {
      return t.v2().enabled;
    },
    get listenPort() {
      return t.listenPort();
    },
    get content() {
      return t.content();
    },
    get metadataSize() {
      return metadata.size;
    },
    get paused() {
      return t.paused();
    },
    onHashes: (peer, message) => t.v2().onHashes(peer, message),
    acceptHandshake: (peer, id) => t.admit(peer, id),
    onReady: (peer) => t.ready(peer),
    onClosed: (peer, error) => t.closed(peer, error),
    onPeerInterest: () => t.interest(),
    onBlock: (peer, piece, offset, block) => {
      const content = t.content();
      if (content !== undefined) t.block(content, peer, piece, offset, block);
    },
    onExtensionHandshake: (peer) => {
      metadata.request(peer, clock.now());
      t.closeIfBothSeeds(peer);
    },
    onMetadataMessage: (peer, message) => {
      const info = metadata.onMessage(peer, message, clock.now());
      if (info !== undefined && t.content() === undefined) t.v2().metadataArrived(info);
    },
    onPex: (_peer, message) => {
      if (t.isPrivate()) return; // BEP 27: a private torrent does not act on PEX
      for (const a of [...message.added, ...message.added6].slice(0, PEX_MAX_ADDED))
        t.candidate({ host: a.host, port: a.port });
    },
    onAvailability: (peer) => t.closeIfBothSeeds(peer),
  };
}
