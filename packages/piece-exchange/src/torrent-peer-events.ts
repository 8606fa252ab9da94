/** The `peer` events a `Torrent` emits for a connection that opened or closed (torrent-events.ts). */

import { peerIdHex } from './session/peer-report';
import type { PeerSession } from './session/peer-session';
import type { PeerEvent, PeerRejectReason } from './torrent-events';

/** Both handshakes are done. */
export function connectEvent(peer: PeerSession): PeerEvent {
  return {
    type: 'connect',
    address: peer.remoteAddress,
    peerId: peerIdHex(peer.remotePeerId),
    ...(peer.transport !== undefined ? { transport: peer.transport } : {}),
  };
}

/**
 * A connection closed: `disconnect` when it had opened, else `rejected` (refused or failed in
 * the handshake: it never emitted `connect`) with the refusal, or `closing`/`handshake`.
 */
export function closedEvent(
  peer: PeerSession,
  refusal: PeerRejectReason | undefined,
  closing: boolean,
  error: Error | undefined,
): PeerEvent {
  const address = peer.remoteAddress;
  if (peer.opened) {
    const peerId = peerIdHex(peer.remotePeerId);
    const transport = peer.transport !== undefined ? { transport: peer.transport } : {};
    return { type: 'disconnect', address, peerId, ...transport, ...(error ? { error } : {}) };
  }
  const reason = refusal ?? (closing ? 'closing' : 'handshake');
  return { type: 'rejected', address, reason, ...(error ? { error } : {}) };
}
