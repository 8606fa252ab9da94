/**
 * Typed errors of @peerkit/gossip. Every failure the package reports is a `GossipError` with a
 * machine-readable `code` (js-libp2p-gossipsub#472 asked for exactly this on publish).
 */

export type GossipErrorCode =
  /** Bytes from a peer are not a valid RPC of the wire spec (README, "Wire spec"). */
  | 'BAD_RPC'
  /** A frame or message is larger than `maxMessageSize` / `maxRpcSize`. */
  | 'MESSAGE_TOO_LARGE'
  /** An RPC exceeded a count limit (topics per peer, IHAVE/IWANT lengths, messages per RPC). */
  | 'LIMIT_EXCEEDED'
  /** The remote's hello was wrong (version, peer id not the expected one, our own id). */
  | 'BAD_HELLO'
  /** publish: no peer is subscribed to the topic and `allowPublishToZeroPeers` is false. */
  | 'NO_PEERS_SUBSCRIBED'
  /** publish: the same message (same id) was already published or seen. */
  | 'DUPLICATE'
  /** A topic name is empty or longer than `maxTopicLength`. */
  | 'INVALID_TOPIC'
  /** An option is out of range (programming error). */
  | 'INVALID_OPTION'
  /** The node is closed. */
  | 'CLOSED';

export class GossipError extends Error {
  override readonly name = 'GossipError';
  readonly code: GossipErrorCode;

  constructor(code: GossipErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isGossipError(e: unknown, code?: GossipErrorCode): e is GossipError {
  return e instanceof GossipError && (code === undefined || e.code === code);
}
