/**
 * The messenger's typed errors. Every failure a user or a peer can cause carries a `code`, so
 * the CLI prints one clear line and scripts (`--json`) can branch on it.
 */
export type ChatErrorCode =
  /** A peer id that is not 55 base32 characters with a valid checksum. */
  | 'BAD_PEER_ID'
  /** Empty text, an empty room name, or text/room/nick over its limit. */
  | 'BAD_INPUT'
  /** Bytes that are not a valid envelope or control message. */
  | 'MALFORMED'
  /** A signature that does not verify for the claimed author. */
  | 'BAD_SIGNATURE'
  /** The gossip author and the envelope author differ, or a DM addressed to someone else. */
  | 'AUTHOR_MISMATCH'
  /** A message for another room than the topic it came on. */
  | 'WRONG_ROOM'
  /** A sequence number already seen (or too old for the replay window). */
  | 'REPLAY'
  /** A timestamp too far in the future or (for live messages) too far in the past. */
  | 'STALE'
  /** An author or a connection over its rate limit. */
  | 'RATE_LIMITED'
  /** A state file that cannot be read or has the wrong format / permissions. */
  | 'BAD_STATE'
  /** No peer could be reached before the deadline. */
  | 'TIMEOUT'
  /** The node is closed. */
  | 'CLOSED';

export class ChatError extends Error {
  readonly code: ChatErrorCode;

  constructor(code: ChatErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ChatError';
    this.code = code;
  }
}

export function isChatError(error: unknown, code?: ChatErrorCode): error is ChatError {
  return error instanceof ChatError && (code === undefined || error.code === code);
}
