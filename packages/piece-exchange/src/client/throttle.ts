/**
 * The byte budgets a `TorrentClient` shares among its torrents: upload and download rates
 * (transport's `RateLimiter`, one token per byte, reserved per write or per chunk read) and the
 * disk (at most `concurrency` reads and writes in flight across every torrent's files).
 *
 * A rate-limited stream delays each write until the upload budget allows it (writes stay in
 * order), and hands on each chunk it read only once the download budget allows it. While it
 * waits the connection reads nothing more: the transport's buffer fills, it stops reading the
 * socket, and TCP's window (or uTP's) pushes back on the sender. So the download limit really
 * throttles what leaves the other end, not only what the torrent sees.
 */
import type { Address, Clock, RateLimiter, Stream, TransportError } from '@peerkit/transport';
import type { FileSystem, StorageFile } from '../storage/file-system';

/** The one key of a client-wide budget. */
const ALL = 0;
/** Largest write a rate-limited stream hands on at once (one block, BEP 3's 16 KiB). */
const LIMITED_WRITE = 16_384;

/** Waits `ms` on `clock` (nothing when 0). */
function wait(clock: Pick<Clock, 'setTimeout'>, ms: number): Promise<void> | undefined {
  if (ms <= 0) return undefined;
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

export interface StreamBudgets {
  readonly clock: Pick<Clock, 'setTimeout'>;
  readonly upload: RateLimiter<number> | undefined;
  readonly download: RateLimiter<number> | undefined;
}

/** `inner` with its writes and reads paced by the client's budgets. */
export class RateLimitedStream implements Stream {
  readonly #inner: Stream;
  readonly #budgets: StreamBudgets;
  #tail: Promise<void> = Promise.resolve();

  constructor(inner: Stream, budgets: StreamBudgets) {
    this.#inner = inner;
    this.#budgets = budgets;
  }

  get localAddress(): Address {
    return this.#inner.localAddress;
  }
  get remoteAddress(): Address {
    return this.#inner.remoteAddress;
  }
  /** Pacing changes the timing, not the transport: the inner stream's ('tcp', 'utp'). */
  get transport(): string | undefined {
    return this.#inner.transport;
  }
  get remoteIdentity(): Uint8Array | undefined {
    return this.#inner.remoteIdentity;
  }
  get closed(): Promise<TransportError | undefined> {
    return this.#inner.closed;
  }

  write(data: Uint8Array): Promise<void> {
    const { upload, clock } = this.#budgets;
    if (upload === undefined) return this.#inner.write(data);
    const next = this.#tail.then(async () => {
      // In pieces of at most a block, so that a large gathered write goes out at the rate too
      // instead of in one burst after a long wait.
      for (let at = 0; at < data.length; at += LIMITED_WRITE) {
        const part = data.subarray(at, Math.min(data.length, at + LIMITED_WRITE));
        await wait(clock, upload.reserve(ALL, part.length));
        await this.#inner.write(part);
      }
    });
    // A failed write fails its caller; later writes still run (and fail on a closed stream).
    this.#tail = next.catch(() => undefined);
    return next;
  }

  end(): Promise<void> {
    const next = this.#tail.then(() => this.#inner.end());
    this.#tail = next.catch(() => undefined);
    return next;
  }

  destroy(error?: Error): void {
    this.#inner.destroy(error);
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const chunks = this.#inner[Symbol.asyncIterator]();
    const { download, clock } = this.#budgets;
    if (download === undefined) return chunks;
    return {
      async next() {
        const result = await chunks.next();
        if (!result.done) await wait(clock, download.reserve(ALL, result.value.length));
        return result;
      },
      return: (value?: unknown) =>
        chunks.return?.(value) ?? Promise.resolve({ done: true, value: undefined }),
    };
  }
}

/** A counting semaphore: at most `limit` holders; the others wait in order. */
export class DiskBudget {
  readonly limit: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  /** The most holders seen at once (for tests and the bench). */
  peak = 0;

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be >= 1');
    this.limit = limit;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.limit) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#active++;
    }
    this.peak = Math.max(this.peak, this.#active);
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      // The slot passes straight to the next waiter; `active` stays the same.
      if (next !== undefined) next();
      else this.#active--;
    }
  }

  get active(): number {
    return this.#active;
  }
}

/** `fs` whose files read, write and sync under `budget` (opening and metadata do not wait). */
export function budgetedFileSystem(fs: FileSystem, budget: DiskBudget): FileSystem {
  const wrap = (file: StorageFile): StorageFile => ({
    read: (buffer, position) => budget.run(() => file.read(buffer, position)),
    write: (data, position) => budget.run(() => file.write(data, position)),
    writev: (buffers, position) => budget.run(() => file.writev(buffers, position)),
    sync: () => budget.run(() => file.sync()),
    truncate: (length) => file.truncate(length),
    stat: () => file.stat(),
    close: () => file.close(),
  });
  return {
    open: async (path, mode) => wrap(await fs.open(path, mode)),
    lstat: (path) => fs.lstat(path),
    mkdir: (path) => fs.mkdir(path),
    size: (path) => fs.size(path),
    readFile: (path) => fs.readFile(path),
    writeFileAtomic: (path, data) => fs.writeFileAtomic(path, data),
  };
}
