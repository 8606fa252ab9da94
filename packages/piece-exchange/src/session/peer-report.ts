/**
 * How a connection is described to the user: `PeerStats` in `Torrent.stats()` and the
 * `PieceContributor`s of the `piece` event.
 */
import { type Address, formatAddress, toHex } from '@peerkit/transport';
import type { ChokerPeer } from '../choker';
import type { PeerIdentity } from '../swarm-policy';
import type { PeerStats, PieceContributor } from '../torrent-stats';
import type { PeerSession } from './peer-session';

/** 40 hex digits of a peer id ('' before the handshake). */
export function peerIdHex(bytes: Uint8Array | undefined): string {
  if (bytes === undefined) return '';
  // Asked for per verified piece (trust, `piece` events): computed once per peer id (issue #22).
  let hex = hexOf.get(bytes);
  if (hex === undefined) {
    hex = toHex(bytes);
    hexOf.set(bytes, hex);
  }
  return hex;
}

const hexOf = new WeakMap<Uint8Array, string>();

/**
 * The address the peer accepts connections on, when known: the dialed address for an outgoing
 * connection, else the remote IP with the `p` port of its extension handshake (BEP 10).
 */
export function advertisedListenAddress(peer: PeerSession): Address | undefined {
  if (peer.outgoing) return peer.remoteAddress;
  const port = peer.extensionHandshake?.p;
  return port === undefined ? undefined : { host: peer.remoteAddress.host, port };
}

function listenAddressOf(peer: PeerSession): string | undefined {
  const listen = advertisedListenAddress(peer);
  return listen === undefined ? undefined : formatAddress(listen);
}

export function peerStats(peer: PeerSession, now: number): PeerStats {
  return {
    address: formatAddress(peer.remoteAddress),
    peerId: peerIdHex(peer.remotePeerId),
    listenAddress: listenAddressOf(peer),
    client: peer.extensionHandshake?.v,
    outgoing: peer.outgoing,
    downloadRate: peer.downloadRate(now),
    uploadRate: peer.uploadRate(now),
    downloaded: peer.downloaded,
    uploaded: peer.uploaded,
    amChoking: peer.amChoking,
    amInterested: peer.amInterested,
    peerChoking: peer.peerChoking,
    peerInterested: peer.peerInterested,
    snubbed: peer.snubbed,
    seed: peer.isSeed,
  };
}

/** The peers that sent a piece's accepted blocks, with how many each. */
export function pieceContributors(senders: ReadonlyMap<PeerSession, number>): PieceContributor[] {
  return [...senders].map(([peer, blocks]) => ({
    peerId: peerIdHex(peer.remotePeerId),
    address: formatAddress(peer.remoteAddress),
    listenAddress: listenAddressOf(peer),
    blocks,
  }));
}

/** Who sent blocks, as trust and bans know them (address and peer id), each once. */
export function peerIdentities(peers: Iterable<PeerSession>): PeerIdentity[] {
  const out = new Map<string, PeerIdentity>();
  for (const p of peers) {
    const identity = { host: p.remoteAddress.host, peerId: peerIdHex(p.remotePeerId) };
    out.set(`${identity.host} ${identity.peerId}`, identity);
  }
  return [...out.values()];
}

/** What the choker (BEP 3) needs to know about a peer at `now`. */
export function chokerPeer(p: PeerSession, now: number): ChokerPeer {
  return {
    id: p.id,
    interested: p.peerInterested,
    downloadRate: p.downloadRate(now),
    uploadRate: p.uploadRate(now),
    connectedAt: p.connectedAt,
    snubbed: p.snubbed,
    isSeed: p.isSeed,
  };
}
