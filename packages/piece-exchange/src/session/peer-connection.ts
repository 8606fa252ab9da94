/**
 * The I/O shell of one peer connection: reads the socket, cuts it into frames (`WireDecoder`),
 * hands them to the state machine (`PeerSession`), writes what the session sends, applies
 * backpressure (no reading while the disk write queue is full) and serves queued requests from
 * storage. Every protocol decision is the session's; this file only moves bytes.
 *
 * A connection whose first byte is not 19 (`\x13BitTorrent protocol`), e.g. aria2's
 * MSE/PE-encrypted handshake, is ended cleanly (FIN) so that the client retries in plain.
 */
import type { Stream } from '@peerkit/transport';
import { WireError } from '../errors';
import { type TorrentGeometry, WireDecoder } from '../wire/decoder';
import { BLOCK_LENGTH, type RequestMessage } from '../wire/messages';
import type { Content, PeerOutput, PeerSessionHost } from './peer-host';
import { GRACEFUL_CLOSE_MS } from './peer-limits';
import { PeerSession } from './peer-session';
import { encodeGroup, groupBytes, groupRanges } from './upload-queue';

/** The torrent side of a connection: the session's host, with the content's storage. */
export interface PeerConnectionHost extends PeerSessionHost {
  readonly clock: PeerSessionHost['clock'] & {
    setTimeout(callback: () => void, ms: number): { cancel(): void };
  };
  readonly content: Content | undefined;
}

/** Messages up to this size are coalesced per turn of the event loop (`send`). */
const COALESCE_BYTES = 16 * 1024;

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export class PeerConnection implements PeerOutput {
  readonly session: PeerSession;
  readonly #host: PeerConnectionHost;
  readonly #stream: Stream;
  readonly #decoder: WireDecoder;
  #serving = false;
  /** Writes handed to the stream and not finished. */
  #pendingWrites = 0;
  /** When the last write finished, or the first of the pending ones started. */
  #writeProgressAt = 0;
  /** Small messages waiting for the end of this turn (`send`), and their bytes. */
  #out: Uint8Array[] = [];
  #outBytes = 0;
  #flushQueued = false;

  constructor(host: PeerConnectionHost, id: number, stream: Stream, outgoing: boolean) {
    this.#host = host;
    this.#stream = stream;
    this.#decoder = new WireDecoder({
      torrent: host.content?.geometry,
      maxRequestLength: BLOCK_LENGTH,
    });
    this.session = new PeerSession(host, this, {
      id,
      remoteAddress: stream.remoteAddress,
      outgoing,
      ...(stream.transport !== undefined ? { transport: stream.transport } : {}),
    });
  }

  /** Reads and handles messages until the connection ends; never throws. */
  async run(): Promise<void> {
    // The iterator is driven by hand: leaving a `for await` early would reset the connection,
    // and a refused MSE handshake must end it cleanly (FIN) so that aria2 retries in plain.
    const session = this.session;
    const chunks = this.#stream[Symbol.asyncIterator]();
    let draining = false;
    try {
      session.start();
      for (;;) {
        const next = await chunks.next();
        if (next.done) break;
        if (draining) continue; // wait for the remote to close after our FIN
        try {
          this.#decoder.push(next.value);
          for (
            let frame = this.#decoder.next();
            frame !== undefined;
            frame = this.#decoder.next()
          ) {
            session.receive(frame);
            if (session.isClosed) break;
          }
        } catch (error) {
          if (
            error instanceof WireError &&
            error.code === 'INVALID_HANDSHAKE' &&
            !session.opened &&
            !session.isClosed
          ) {
            // Not plain BitTorrent (e.g. MSE/PE): end cleanly so that the client retries in plain.
            session.close(error, true);
            draining = true;
            continue;
          }
          throw error;
        }
        if (session.isClosed) break;
        const store = this.#host.content?.store;
        // Backpressure: stop reading while the disk write queue is full.
        if (store !== undefined && store.queuedBytes > 0) await store.whenWritable();
      }
      session.close();
    } catch (error) {
      session.close(error instanceof Error ? error : new Error(String(error)));
    }
  }

  // --- PeerOutput ----------------------------------------------------------------------------

  /**
   * Small messages (requests, haves, choke state...) wait for the end of the current turn of
   * the event loop and go out in one write: with 16 KiB pieces the leecher would otherwise make
   * a syscall per request and per `have` (issue #22). Larger ones flush what waits, then go.
   */
  send(bytes: Uint8Array): void {
    if (bytes.length > COALESCE_BYTES) {
      this.#flush();
      this.#sendNow(bytes);
      return;
    }
    if (this.#outBytes + bytes.length > COALESCE_BYTES) this.#flush();
    this.#out.push(bytes);
    this.#outBytes += bytes.length;
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flushSoon);
    }
  }

  readonly #flushSoon = (): void => {
    this.#flushQueued = false;
    this.#flush();
  };

  /** Writes the small messages waiting, in order, as one buffer. */
  #flush(): void {
    const out = this.#out;
    if (out.length === 0) return;
    const bytes = out.length === 1 ? out[0]! : concat(out, this.#outBytes);
    this.#out = [];
    this.#outBytes = 0;
    this.#sendNow(bytes);
  }

  #sendNow(bytes: Uint8Array): void {
    this.#write(bytes).catch(this.#writeFailed);
  }

  readonly #writeFailed = (error: unknown): void => {
    this.session.close(error instanceof Error ? error : new Error(String(error)));
  };

  /** A stream write, counted for the write-stall timeout. */
  #write(bytes: Uint8Array): Promise<void> {
    this.#flush(); // what the session sent before goes first
    if (this.#pendingWrites++ === 0) this.#writeProgressAt = this.#host.clock.now();
    const done = () => {
      this.#pendingWrites--;
      this.#writeProgressAt = this.#host.clock.now();
    };
    const written = this.#stream.write(bytes);
    written.then(done, done);
    return written;
  }

  stalledSince(): number | undefined {
    return this.#pendingWrites > 0 ? this.#writeProgressAt : undefined;
  }

  geometryKnown(geometry: TorrentGeometry): void {
    this.#decoder.setTorrent(geometry);
  }

  close(_error: Error | undefined, graceful: boolean): void {
    this.#flush();
    // uTP keeps unsent data in this process (TCP's is in the kernel, sent even after a reset
    // of the socket): end it with ST_FIN after what is queued, as TCP would have delivered it.
    if (graceful || this.#stream.transport === 'utp') {
      // Half-close; if the remote does not close its side soon, destroy.
      const timer = this.#host.clock.setTimeout(() => this.#stream.destroy(), GRACEFUL_CLOSE_MS);
      this.#stream.end().catch(() => undefined);
      void this.#stream.closed.then(() => timer.cancel());
    } else {
      this.#stream.destroy();
    }
  }

  /**
   * Serves queued requests in order, in groups of `uploadBatchBlocks`: each run of consecutive
   * blocks of a piece is one disk read, and the whole group one write (header, block, header,
   * block, ...), which keeps syscalls per byte low whatever the piece length; the next group is
   * read while the current one drains to the socket.
   */
  serve(): void {
    if (!this.#serving) void this.#serve();
  }

  /** BEP 52 base-layer hash requests: the pieces whose block hashes are asked for. */
  readPieces(pieces: readonly number[], done: (data: Uint8Array[] | undefined) => void): void {
    const store = this.#host.content?.store;
    if (store === undefined) {
      done(undefined);
      return;
    }
    Promise.all(pieces.map((p) => store.readBlock(p, 0, store.layout.pieceSize(p)))).then(
      done,
      () => done(undefined),
    );
  }

  async #serve(): Promise<void> {
    this.#serving = true;
    const session = this.session;
    try {
      const store = this.#host.content?.store;
      if (store === undefined) return;
      const batch = this.#host.limits.uploadBatchBlocks;
      // One change check of the files for the whole group, then its reads at once.
      const pieceSize = (piece: number) => store.layout.pieceSize(piece);
      const read = (g: RequestMessage[]) => store.readBlocks(groupRanges(g, pieceSize));
      let group = session.takeUploadGroup(batch);
      let reading = group && read(group);
      while (group !== undefined && reading !== undefined && session.isOpen) {
        const parts = await reading;
        if (!session.isOpen) return;
        const current = group;
        group = session.takeUploadGroup(batch);
        reading = group && read(group);
        // A read that fails while we write is handled when awaited; keep it from going unhandled.
        reading?.catch(() => undefined);
        const out = encodeGroup(current, parts);
        session.uploadedBytes(groupBytes(current));
        await this.#write(out);
      }
    } catch (error) {
      session.close(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.#serving = false;
      // Requests that arrived after the loop looked: serve them too.
      if (session.queuedUploads > 0 && session.isOpen) this.serve();
    }
  }
}
