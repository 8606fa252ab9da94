import { PieceExchangeError } from '../errors';

export type PeerErrorCode =
  /** The handshake came from ourselves, a peer already connected, or a banned address. */
  | 'PEER_REFUSED'
  /** The peer sent nothing for the idle timeout, did not finish its handshake, or stopped reading. */
  | 'PEER_TIMEOUT'
  /** A connection still in its handshake was closed to make room for another (docs/security.md). */
  | 'PEER_EVICTED'
  /** The peer sent data that failed hash checks too often. */
  | 'PEER_BANNED'
  /** The torrent was paused or closed. */
  | 'TORRENT_STOPPED';

/** Why a peer connection was closed by us. */
export class PeerError extends PieceExchangeError<PeerErrorCode> {
  constructor(code: PeerErrorCode, message: string) {
    super(code, message);
    this.name = 'PeerError';
  }
}
