/**
 * Streaming: reading any byte range of a torrent's file while it downloads, as WebTorrent's
 * `file.createReadStream` or libtorrent's time-critical pieces (`set_piece_deadline`).
 *
 * A read waits for the piece under its read head and tells the picker which pieces it needs
 * next: the piece under the head and a readahead window after it get deadlines, the earliest
 * first, and the picker takes pieces with a deadline before any other (./picker.ts, policy 0).
 * The rest of the torrent keeps downloading around them. Bytes are read from verified pieces
 * only (`PieceStore.readBlock`), so a stream never returns data that failed its hash.
 */
import { Readable } from 'node:stream';
import { PieceExchangeError } from './errors';
import type { Content } from './session/peer-host';

/** Pieces after the one under the read head that get a deadline too (default 4). */
export const DEFAULT_READAHEAD_PIECES = 4;
/** Most bytes read from storage per chunk. */
const CHUNK = 256 * 1024;

export interface FileReadOptions {
  /** First byte of the file to read (default 0). */
  start?: number;
  /** Last byte of the file to read, inclusive as `fs.createReadStream`'s (default: the end). */
  end?: number;
  /** Pieces after the read head fetched ahead with a deadline (default 4). */
  readaheadPieces?: number;
}

/** What a stream needs of its torrent. */
export interface StreamHost {
  /** The clock: deadlines are times, the earliest picked first. */
  now(): number;
  /** Makes sure file `file` is downloaded (raises a skipped file to `normal`). */
  select(file: number): Promise<void>;
  /** Deadlines changed: let every peer top up its requests now. */
  refill(): void;
}

interface Waiter {
  piece: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** The streams of one torrent: waiting for content and pieces, and ended on close. */
export class StreamHub {
  readonly #host: StreamHost;
  #content: Content | undefined;
  #contentWaiters: Waiter[] = [];
  #waiters: Waiter[] = [];
  #closed = false;

  constructor(host: StreamHost) {
    this.#host = host;
  }

  /** The content became known (at open, or a magnet's metadata arrived). */
  contentReady(content: Content): void {
    this.#content = content;
    for (const w of this.#contentWaiters.splice(0)) w.resolve();
  }

  /** A piece was verified: wake the reads waiting for it. */
  pieceVerified(piece: number): void {
    if (this.#waiters.length === 0) return;
    const waiting = this.#waiters;
    this.#waiters = [];
    for (const w of waiting) {
      if (w.piece === piece) w.resolve();
      else this.#waiters.push(w);
    }
  }

  /** The torrent closed: every waiting read fails. */
  close(): void {
    this.#closed = true;
    const error = new PieceExchangeError('CLOSED', 'torrent closed');
    for (const w of [...this.#contentWaiters.splice(0), ...this.#waiters.splice(0)])
      w.reject(error);
  }

  /**
   * A readable stream of bytes `start..end` (inclusive) of file `file`. Destroying it (a player
   * that seeks closes its request) ends the wait at once and gives its deadlines back.
   */
  createReadStream(file: number, options: FileReadOptions = {}): Readable {
    const abort = new AbortController();
    const stream = Readable.from(this.read(file, options, abort.signal), {
      objectMode: false,
      highWaterMark: CHUNK,
    });
    // `Readable.from` finishes destroying (and emits `close`) only once the generator returns,
    // which waits for the piece being waited for: end the wait as destroying starts.
    const destroy = stream._destroy.bind(stream);
    stream._destroy = (error, callback) => {
      abort.abort(error ?? new PieceExchangeError('CLOSED', 'stream destroyed'));
      destroy(error, callback);
    };
    return stream;
  }

  /**
   * The bytes of file `file` from `start` to `end` (inclusive), in chunks, as they verify.
   * `signal` ends a wait for a piece (the generator then throws the signal's reason).
   */
  async *read(
    file: number,
    options: FileReadOptions = {},
    signal?: AbortSignal,
  ): AsyncGenerator<Buffer> {
    const content = await this.#whenContent();
    const { layout } = content.store;
    const f = layout.files[file];
    if (f === undefined || f.padding) {
      throw new RangeError(`no file ${file} (the torrent has ${layout.files.length} files)`);
    }
    const start = options.start ?? 0;
    const end = options.end ?? f.length - 1;
    if (
      !Number.isSafeInteger(start) ||
      !Number.isSafeInteger(end) ||
      start < 0 ||
      end >= f.length
    ) {
      throw new RangeError(`range ${start}-${end} is outside file ${file} (${f.length} bytes)`);
    }
    if (end < start) return;
    await this.#host.select(file);
    const readahead = Math.max(0, options.readaheadPieces ?? DEFAULT_READAHEAD_PIECES);
    const lastPiece = Math.floor((f.offset + end) / layout.pieceLength);
    const marked = new Set<number>();
    try {
      let at = f.offset + start;
      const stop = f.offset + end + 1;
      while (at < stop) {
        const piece = Math.floor(at / layout.pieceLength);
        this.#markDeadlines(content, piece, Math.min(lastPiece, piece + readahead), marked);
        if (!content.have.has(piece)) await this.#whenPiece(content, piece, signal);
        const pieceEnd = Math.min(stop, (piece + 1) * layout.pieceLength);
        while (at < pieceEnd) {
          const length = Math.min(CHUNK, pieceEnd - at);
          const bytes = await content.store.readBlock(
            piece,
            at - piece * layout.pieceLength,
            length,
          );
          at += length;
          yield Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        }
        content.picker.clearDeadline(piece);
        marked.delete(piece);
      }
    } finally {
      for (const piece of marked) content.picker.clearDeadline(piece);
    }
  }

  /** Deadlines for the pieces `from..to` not verified yet: the read head's first. */
  #markDeadlines(content: Content, from: number, to: number, marked: Set<number>): void {
    const now = this.#host.now();
    let added = false;
    for (let piece = from; piece <= to; piece++) {
      if (content.have.has(piece) || marked.has(piece)) continue;
      content.picker.setDeadline(piece, now + (piece - from));
      marked.add(piece);
      added = true;
    }
    if (added) this.#host.refill();
  }

  #whenContent(): Promise<Content> {
    if (this.#closed) return Promise.reject(new PieceExchangeError('CLOSED', 'torrent closed'));
    const content = this.#content;
    if (content !== undefined) return Promise.resolve(content);
    return new Promise((resolve, reject) =>
      this.#contentWaiters.push({
        piece: -1,
        resolve: () => resolve(this.#content!),
        reject,
      }),
    );
  }

  #whenPiece(content: Content, piece: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.#closed) return Promise.reject(new PieceExchangeError('CLOSED', 'torrent closed'));
    if (content.have.has(piece)) return Promise.resolve();
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { piece, resolve: done(resolve), reject: done(reject) };
      const onAbort = () => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(signal!.reason);
      };
      function done<T>(settle: (value: T) => void): (value: T) => void {
        return (value) => {
          signal?.removeEventListener('abort', onAbort);
          settle(value);
        };
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }
}
