/**
 * Every failure this package raises is a `DHTError` whose `code` says what happened.
 * KRPC error replies from remote nodes (BEP 5 "Errors") arrive as `DHTError` with code
 * `REMOTE_ERROR` and the remote's numeric code in `remoteCode`.
 */
export type DHTErrorCode =
  /** A KRPC message that is not valid bencode or misses a required key (BEP 5). */
  | 'MALFORMED_MESSAGE'
  /** A message larger than the configured limit. */
  | 'MESSAGE_TOO_LARGE'
  /** A query got no response after all retries. */
  | 'TIMEOUT'
  /** The remote node answered with a KRPC error message. */
  | 'REMOTE_ERROR'
  /** The node (or its RPC layer) was closed. */
  | 'CLOSED'
  /** `listen()` was not called yet. */
  | 'NOT_LISTENING'
  /** An argument the caller passed is invalid (wrong id length, bad address, ...). */
  | 'INVALID_ARGUMENT'
  /** A BEP 44 item failed verification (signature, target, size). */
  | 'INVALID_ITEM'
  /** A saved routing-table state could not be read. */
  | 'INVALID_STATE'
  /** Too many queries queued in the RPC layer. */
  | 'BUSY';

export class DHTError extends Error {
  override readonly name = 'DHTError';
  readonly code: DHTErrorCode;
  /** For `REMOTE_ERROR`: the KRPC error code the remote node sent (201-204, 205-207, 301, 302). */
  readonly remoteCode: number | undefined;

  constructor(
    code: DHTErrorCode,
    message: string,
    options?: { cause?: unknown; remoteCode?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.remoteCode = options?.remoteCode;
  }
}

export function isDHTError(e: unknown, code?: DHTErrorCode): e is DHTError {
  return e instanceof DHTError && (code === undefined || e.code === code);
}
