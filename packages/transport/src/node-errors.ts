/**
 * Turns the errors of node:net and node:dgram (`err.code` strings such as `ECONNRESET`) into
 * `TransportError`s, so that code above the seam sees the same codes on real sockets and in netsim.
 */
import { TransportError, type TransportErrorCode } from './errors';

/** Which operation failed: the same errno means different things in `bind` and in `dial`. */
export type NodeOperation = 'bind' | 'dial' | 'stream';

const byErrno: Record<string, TransportErrorCode> = {
  ECONNREFUSED: 'CONNECTION_REFUSED',
  ECONNRESET: 'CONNECTION_RESET',
  EPIPE: 'CONNECTION_RESET',
  ECONNABORTED: 'CONNECTION_RESET',
  ETIMEDOUT: 'TIMEOUT',
  EADDRINUSE: 'ADDRESS_IN_USE',
  EHOSTUNREACH: 'UNREACHABLE',
  ENETUNREACH: 'UNREACHABLE',
  EHOSTDOWN: 'UNREACHABLE',
  ENETDOWN: 'UNREACHABLE',
  EMSGSIZE: 'MESSAGE_TOO_LARGE',
  ERR_STREAM_DESTROYED: 'CLOSED',
  ERR_STREAM_WRITE_AFTER_END: 'CLOSED',
  ERR_SOCKET_CLOSED: 'CLOSED',
  ERR_SOCKET_DGRAM_NOT_RUNNING: 'CLOSED',
  ABORT_ERR: 'ABORTED',
};

function errnoOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The `TransportError` for a Node error. A `TransportError` passes through unchanged; an errno
 * without a better code becomes `IO` with the original error as `cause`.
 */
export function fromNodeError(error: unknown, operation: NodeOperation): TransportError {
  if (error instanceof TransportError) return error;
  const errno = errnoOf(error);
  let code: TransportErrorCode = (errno && byErrno[errno]) || 'IO';
  // EADDRNOTAVAIL: binding an address that is not local is a bad address; when dialling it means
  // the host has no route (or no free local port) for that destination.
  if (errno === 'EADDRNOTAVAIL') code = operation === 'bind' ? 'INVALID_ADDRESS' : 'UNREACHABLE';
  const message = error instanceof Error ? error.message : String(error);
  return new TransportError(code, `${operation}: ${message}`, { cause: error });
}
