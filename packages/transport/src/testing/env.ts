/** What every compliance test gets: the pair of networks from the factory, and its resources. */
import type { TransportErrorCode } from '../errors';
import type { Network } from '../interfaces';
import type { Resources } from './helpers';

/**
 * Two networks that can reach each other (two hosts in netsim; two handles on the same host for
 * Node) and the literal IP each one binds on.
 */
export interface TransportPair {
  readonly a: Network;
  readonly b: Network;
  /** Literal IP that `a` binds, listens on, and is seen from (e.g. `127.0.0.1`, `::1`). */
  readonly hostA: string;
  /** Literal IP that `b` binds, listens on, and is seen from. May equal `hostA`. */
  readonly hostB: string;
  /**
   * Called after each test, once the suite has closed everything it opened: release the pair,
   * and throw if anything the test opened is still open (sockets, listeners, streams, timers).
   */
  close(): Promise<void>;
}

export interface TransportComplianceOptions {
  /** Bytes echoed through one stream (default 64 MiB). */
  streamEchoBytes?: number;
  /**
   * How far a writer may run ahead of a reader that stopped reading, counting every buffer on
   * the way (the sender's, the network's, the receiver's). Default 16 MiB.
   */
  maxBufferedBytes?: number;
  /** Streams open at once in the concurrency test (default 32). */
  concurrentStreams?: number;
  /** vitest timeout of each test, in real milliseconds (default 120,000). */
  testTimeoutMs?: number;
}

export type ResolvedOptions = Required<TransportComplianceOptions>;

export interface TestEnv extends TransportPair {
  readonly res: Resources;
  readonly options: ResolvedOptions;
}

/**
 * Whether `error` is a `TransportError` with `code`. Structural on purpose: an implementation
 * may hold another copy of the class (ESM next to CJS, a bundled dist).
 */
export function hasCode(error: unknown, code: TransportErrorCode): boolean {
  return (
    error instanceof Error &&
    error.name === 'TransportError' &&
    (error as Error & { code?: unknown }).code === code
  );
}

/** Runs `fn` and returns what it throws (or rejects with); fails when it does not. */
export async function failureOf(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure, but the operation succeeded');
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    return `${error.name}${code === undefined ? '' : ` ${String(code)}`}: ${error.message}`;
  }
  return String(error);
}
