/**
 * Every failure this package raises is a `UtpError` whose `code` says what happened. Streams
 * surface connection failures as transport's `TransportError` (`CONNECTION_RESET`, `TIMEOUT`,
 * `CONNECTION_REFUSED`, ...), so code written for TCP handles uTP unchanged; `UtpError` is for
 * the packet codec and the package's own options.
 */
export type UtpErrorCode =
  /** Bytes that are not a uTP version 1 packet (BEP 29 "header format"). */
  | 'MALFORMED_PACKET'
  /** An option or argument out of its range. */
  | 'INVALID_ARGUMENT';

export class UtpError extends Error {
  override readonly name = 'UtpError';
  readonly code: UtpErrorCode;

  constructor(code: UtpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isUtpError(e: unknown, code?: UtpErrorCode): e is UtpError {
  return e instanceof UtpError && (code === undefined || e.code === code);
}
