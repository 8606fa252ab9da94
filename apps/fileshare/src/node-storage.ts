/**
 * The node and your files (README, "Your files"): the lock on a torrent's resume data in the
 * state directory, storage errors in the command line's words, and what a disk error does to a
 * running node: while downloading with `failOnStorageError` it ends the node (one line, exit 1);
 * otherwise (seeding) it is reported once as a `storage-error` event and the paused session is
 * resumed every `retryMs`, silently, until a piece is stored again.
 */
import { acquireLock, StorageError, type StorageLock, type Torrent } from '@peerkit/piece-exchange';
import type { Clock, Timer } from '@peerkit/transport';
import { describeError, errorCode } from './errors';
import type { NodeEventHandler } from './events';
import type { StateDir } from './state-dir';

/** One process per torrent and state directory: the resume data is ours alone. */
export function lockTorrentState(state: StateDir, infoHashHex: string): Promise<StorageLock> {
  return acquireLock(
    state.lockPath(infoHashHex),
    `torrent ${infoHashHex} (state directory ${state.root})`,
  );
}

/** The one-line form of a storage error, in the command line's terms. */
export function storageErrorForCli(error: unknown): unknown {
  if (!(error instanceof StorageError)) return error;
  const message = error.message
    .replace('(move it away, or allow overwriting)', '(move it away, or pass --overwrite)')
    .replace(
      /^cannot write (.*): no space left on device \(ENOSPC\)$/,
      'cannot write $1: no space left on device (free some space and run the same command again: verified pieces are kept)',
    );
  if (message === error.message) return error;
  return new StorageError(error.code, message, { cause: error });
}

export interface StorageWatchOptions {
  emit: NodeEventHandler;
  clock: Clock;
  /** A disk error before every piece is verified ends the node. */
  failOnStorageError: boolean;
  /** Delay before a paused session is resumed. */
  retryMs: number;
}

export interface StorageWatch {
  /** Resolves with the error that must end the node; else never. */
  readonly failure: Promise<Error>;
  /** Stops retrying (the node closes). */
  stop(): void;
}

/** Watches the torrent's `error` events (see the module comment). */
export function watchStorageErrors(torrent: Torrent, options: StorageWatchOptions): StorageWatch {
  const { emit, clock } = options;
  let reportFailure: (error: Error) => void = () => undefined;
  const failure = new Promise<Error>((resolve) => {
    reportFailure = resolve;
  });
  let reported: string | undefined;
  let retry: Timer | undefined;
  let stopped = false;
  torrent.on('piece', () => {
    reported = undefined; // the disk works again
  });
  torrent.on('error', (raw) => {
    const code = errorCode(raw);
    const message = describeError(raw);
    // A storage failure pauses the session (`lastError`); other errors (a resume save, a
    // changed piece that is not served) do not, nor do more failures of writes in flight.
    const pausing = raw === torrent.lastError;
    if (!pausing && !torrent.paused) {
      emit({ type: 'warning', code, message });
      return;
    }
    if (options.failOnStorageError && !torrent.done) {
      reportFailure(storageErrorForCli(raw) as Error);
      return;
    }
    if (message !== reported) {
      emit({ type: 'storage-error', code, message, retryInMs: options.retryMs });
    }
    reported = message;
    retry?.cancel();
    retry = clock.setTimeout(() => {
      retry = undefined;
      if (!stopped) torrent.resume();
    }, options.retryMs);
  });
  return {
    failure,
    stop() {
      stopped = true;
      retry?.cancel();
    },
  };
}
