/**
 * One peer's stream (the "stream handler per peer"): the hello exchange, then a read loop of
 * frames decoded into RPCs, and a bounded writer. Any decoding error, limit violation or
 * stream failure ends the connection; the node is told once through `onClose`.
 */
import { Buffer } from 'node:buffer';
import { encodeFrame, readFrames } from '@peerkit/framing';
import type { Stream, Timer } from '@peerkit/transport';
import { GossipError } from './errors';
import { type PeerKey, peerKey } from './ids';
import { type Frame, type Hello, PROTOCOL_VERSION, type Rpc, type WireCodec } from './wire';

export interface ConnectionHandlers {
  /** The remote's hello arrived; return false to refuse the peer. */
  onHello(conn: Connection, hello: Hello): boolean;
  onRpc(conn: Connection, rpc: Rpc): void;
  onClose(conn: Connection, error: unknown): void;
}

export interface ConnectionOptions {
  codec: WireCodec;
  outbound: boolean;
  maxQueuedFrames: number;
  /** Encoded frames shared between connections (one RPC object sent to many peers). */
  encodeCache: WeakMap<Rpc, Uint8Array>;
  /**
   * The remote's authenticated Ed25519 key (a secure stream's `remoteIdentity`): its hello
   * must carry the same id, or the connection is closed with `BAD_HELLO`.
   */
  expectedId?: Uint8Array;
}

export class Connection {
  readonly stream: Stream;
  readonly outbound: boolean;
  /** When the connection was established (ms). */
  openedAt = 0;
  /** When we last wrote a frame, and last read one (ms, on the node's clock). */
  lastSent = 0;
  lastReceived = 0;
  peer: PeerKey | undefined;
  hello: Hello | undefined;
  /** The id a hello claimed when it differed from `expectedId` (the connection was refused). */
  claimedId: Uint8Array | undefined;
  private readonly options: ConnectionOptions;
  /** Frames handed to the stream and not yet accepted by it, and frames waiting to be. */
  private queued = 0;
  private batch: Uint8Array[] = [];
  private closed = false;
  private helloTimer: Timer | undefined;

  private readonly now: () => number;

  constructor(stream: Stream, options: ConnectionOptions, now: () => number) {
    this.now = now;
    this.lastSent = now();
    this.lastReceived = this.lastSent;
    this.stream = stream;
    this.outbound = options.outbound;
    this.options = options;
  }

  /** The authenticated id the remote's hello must carry, if any. */
  get expectedId(): Uint8Array | undefined {
    return this.options.expectedId;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends our hello and reads until the stream ends; resolves when the connection closed. */
  async run(hello: Hello, handlers: ConnectionHandlers, helloTimer?: Timer): Promise<void> {
    this.helloTimer = helloTimer;
    let failure: unknown;
    try {
      this.write(this.frame(hello));
      const frames = readFrames(this.stream, {
        prefix: 'uint32be',
        maxFrameSize: this.options.codec.limits.maxRpcSize,
      });
      for await (const bytes of frames) {
        if (this.closed) break;
        this.lastReceived = this.now();
        const frame: Frame = this.options.codec.decode(bytes);
        if (this.hello === undefined) {
          if (frame.type !== 'hello')
            throw new GossipError('BAD_HELLO', 'first frame is not hello');
          if (frame.version !== PROTOCOL_VERSION) {
            throw new GossipError('BAD_HELLO', `unsupported version ${frame.version}`);
          }
          const expected = this.options.expectedId;
          if (expected !== undefined && Buffer.compare(expected, frame.id) !== 0) {
            this.claimedId = frame.id;
            throw new GossipError('BAD_HELLO', 'hello id differs from the authenticated identity');
          }
          this.hello = frame;
          this.peer = peerKey(frame.id);
          this.helloTimer?.cancel();
          if (!handlers.onHello(this, frame)) break;
          continue;
        }
        if (frame.type !== 'rpc') throw new GossipError('BAD_RPC', 'hello sent twice');
        handlers.onRpc(this, frame);
      }
    } catch (error) {
      failure = error;
    } finally {
      this.close(failure instanceof Error ? failure : undefined);
      handlers.onClose(this, failure);
    }
  }

  /** Sends one RPC (encoded once per RPC object, even when sent to many peers). */
  send(rpc: Rpc): void {
    if (this.closed) return;
    let bytes = this.options.encodeCache.get(rpc);
    if (bytes === undefined) {
      try {
        bytes = this.frame(rpc);
      } catch {
        return; // an RPC over our own limits is not sent (publish checks sizes up front)
      }
      this.options.encodeCache.set(rpc, bytes);
    }
    this.write(bytes);
  }

  private frame(payload: Frame): Uint8Array {
    const maxFrameSize = this.options.codec.limits.maxRpcSize;
    return encodeFrame(this.options.codec.encode(payload), { prefix: 'uint32be', maxFrameSize });
  }

  /**
   * Queues a frame. Frames queued in the same turn of the event loop go out as one
   * `stream.write` (one syscall on TCP instead of one per frame), flushed in a promise job.
   */
  private write(bytes: Uint8Array): void {
    if (this.queued + this.batch.length >= this.options.maxQueuedFrames) {
      // A peer that does not read is disconnected rather than buffered without bound.
      this.close(new GossipError('LIMIT_EXCEEDED', 'peer is not reading (send queue full)'));
      return;
    }
    this.lastSent = this.now();
    this.batch.push(bytes);
    // A promise job rather than queueMicrotask: simulators (netsim) watch promise activity to
    // know that work is pending at the current virtual instant.
    if (this.batch.length === 1) void Promise.resolve().then(() => this.flush());
  }

  private flush(): void {
    const frames = this.batch;
    this.batch = [];
    if (this.closed || frames.length === 0) return;
    const bytes = frames.length === 1 ? (frames[0] as Uint8Array) : Buffer.concat(frames);
    const count = frames.length;
    this.queued += count;
    const done = () => {
      this.queued -= count;
    };
    this.stream.write(bytes).then(done, done);
  }

  /** Ends the connection now (idempotent). */
  close(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.helloTimer?.cancel();
    this.stream.destroy(error);
  }
}
