/**
 * How a connection is described to the user: `PeerStats` in `Torrent.stats()` and the
 * `PieceContributor`s of the `piece` event.
 */
import { formatAddress } from '@peerkit/transport';
import type { PeerStats, PieceContributor } from '../torrent-options';
import type { Peer } from './peer';

/** 40 hex digits of a peer id ('' before the handshake). */
export function peerIdHex(bytes: Uint8Array | undefined): string {
  return bytes === undefined ? '' : Buffer.from(bytes).toString('hex');
}

function listenAddressOf(peer: Peer): string | undefined {
  const listen = peer.advertisedListenAddress;
  return listen === undefined ? undefined : formatAddress(listen);
}

export function peerStats(peer: Peer, now: number): PeerStats {
  return {
    address: formatAddress(peer.remoteAddress),
    peerId: peerIdHex(peer.remotePeerId),
    listenAddress: listenAddressOf(peer),
    client: peer.clientName,
    outgoing: peer.outgoing,
    downloadRate: peer.download.rate(now),
    uploadRate: peer.upload.rate(now),
    downloaded: peer.download.total,
    uploaded: peer.upload.total,
    amChoking: peer.amChoking,
    amInterested: peer.amInterested,
    peerChoking: peer.peerChoking,
    peerInterested: peer.peerInterested,
    snubbed: peer.snubbed,
    seed: peer.isSeed,
  };
}

/** The peers that sent a piece's accepted blocks, with how many each. */
export function pieceContributors(senders: ReadonlyMap<Peer, number>): PieceContributor[] {
  return [...senders].map(([peer, blocks]) => ({
    peerId: peerIdHex(peer.remotePeerId),
    address: formatAddress(peer.remoteAddress),
    listenAddress: listenAddressOf(peer),
    blocks,
  }));
}
