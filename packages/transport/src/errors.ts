/**
 * Every failure of a transport surfaces as a `TransportError` whose `code` says what happened,
 * whichever implementation (Node sockets, netsim, a user's own) raised it.
 */
export type TransportErrorCode =
  /** Nothing listens at the dialled address. */
  | 'CONNECTION_REFUSED'
  /** The remote end (or the host under it) went away abruptly. */
  | 'CONNECTION_RESET'
  /** The socket, stream or listener was already closed, ended or destroyed. */
  | 'CLOSED'
  /** `bind`/`listen` on an address and port that are taken. */
  | 'ADDRESS_IN_USE'
  /** A dial or operation took longer than its timeout. */
  | 'TIMEOUT'
  /** An `AbortSignal` cancelled the operation. */
  | 'ABORTED'
  /** No route to the host (netsim: partitioned or unknown host). */
  | 'UNREACHABLE'
  /** A host or port that is not a valid address. */
  | 'INVALID_ADDRESS'
  /** A datagram larger than the transport can carry. */
  | 'MESSAGE_TOO_LARGE'
  /** Any other I/O failure; `cause` holds the original error. */
  | 'IO';

export class TransportError extends Error {
  override readonly name = 'TransportError';
  readonly code: TransportErrorCode;

  constructor(code: TransportErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isTransportError(e: unknown, code?: TransportErrorCode): e is TransportError {
  return e instanceof TransportError && (code === undefined || e.code === code);
}
