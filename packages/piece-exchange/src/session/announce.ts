/**
 * What we announce to a peer right after the handshake: our pieces (BEP 3 `bitfield`, or BEP 6
 * `have all` / `have none`), our BEP 10 extension handshake, and the BEP 6 allowed-fast pieces
 * it may request while we choke it.
 */
import type { Bitfield } from '../bitfield';
import { allowedFastSet } from '../wire/allowed-fast';
import {
  EXTENSION_HANDSHAKE_ID,
  type ExtensionHandshake,
  encodeExtensionHandshake,
} from '../wire/extension';
import { encodeBitfield, encodeExtended, HAVE_ALL, HAVE_NONE } from '../wire/messages';
import { LOCAL_EXTENSIONS, type PeerSessionHost } from './peer-host';

/**
 * Our pieces: with the fast extension `have all`, `have none` or a bitfield (BEP 6); without
 * it a bitfield, or nothing when we have no piece (BEP 3 allows leaving it out).
 */
export function piecesMessage(have: Bitfield | undefined, fast: boolean): Uint8Array | undefined {
  if (fast) {
    if (have?.complete) return HAVE_ALL;
    if (have === undefined || have.empty) return HAVE_NONE;
    return encodeBitfield(have.bytes);
  }
  return have !== undefined && !have.empty ? encodeBitfield(have.bytes) : undefined;
}

/** Our BEP 10 extension handshake: `m`, `v`, `reqq`, and `p`, `metadata_size`, `upload_only`. */
export function extensionHandshakeMessage(host: PeerSessionHost): Uint8Array {
  const handshake: ExtensionHandshake = {
    m: { ...LOCAL_EXTENSIONS },
    v: host.clientName,
    reqq: host.limits.maxPeerRequests,
  };
  if (host.listenPort !== undefined) handshake.p = host.listenPort;
  if (host.metadataSize !== undefined) handshake.metadataSize = host.metadataSize;
  if (host.content?.have.complete) handshake.uploadOnly = true;
  return encodeExtended(EXTENSION_HANDSHAKE_ID, encodeExtensionHandshake(handshake));
}

/** BEP 6: the pieces of the peer's allowed-fast set that we have (only those are granted). */
export function allowedFastGrants(host: PeerSessionHost, peerHost: string): number[] {
  const content = host.content;
  if (content === undefined) return [];
  const set = allowedFastSet(host.infoHash, peerHost, content.geometry.pieceCount);
  return set.filter((index) => content.have.has(index));
}
