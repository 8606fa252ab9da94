/**
 * A raw gossip test peer: it speaks the wire spec (README, "Wire spec") directly over a stream,
 * frame by frame, with its own Ed25519 identity, so a test can send anything — valid, out of
 * order or malformed — and see exactly what the node answers.
 *
 * Frames are a 4-byte big-endian length and one msgpack value (`@peerkit/framing`, prefix
 * `uint32be`), decoded with the package's `WireCodec`. The peer reads in the background from
 * the moment it connects: frames queue up until `next` takes them, and subscriptions the node
 * announces are tracked as they arrive. A frame that does not decode ends the reading (see
 * `error`). Every wait goes through the network's own clock, so the peer works on real sockets
 * and in netsim alike.
 */

import { Wakeup } from '@peerkit/conformance';
import { encodeFrame, readFrames } from '@peerkit/framing';
import type { Address, Network, Stream } from '@peerkit/transport';
import type { GossipMessage } from '../message';
import { Identity, signedBytes } from '../signing';
import { DEFAULT_WIRE_LIMITS, type Frame, type Hello, PROTOCOL_VERSION, WireCodec } from '../wire';

export interface RawPeerOptions {
  /** Longest wait for the connection to open (default 10,000 ms). */
  timeoutMs?: number;
  /** Send our `hello` at once (default true); false leaves the first frame to the test. */
  hello?: boolean;
  /**
   * Most received frames kept unread (default 10,000). When full, the peer stops reading the
   * stream until `next` takes some, as a slow reader would.
   */
  maxQueuedFrames?: number;
}

export class RawPeer {
  /** The codec of the wire spec with the default limits (`codec.decode` tells a valid frame). */
  readonly codec = new WireCodec();
  /** Topics the node announced it subscribes to (updated as frames arrive). */
  readonly subscriptions = new Set<string>();
  private readonly queue: Frame[] = [];
  private readonly maxQueued: number;
  private readonly wakeup: Wakeup;
  private drained: (() => void) | undefined;
  private seqno = 0;
  private helloFrame: Hello | undefined;
  private done = false;
  private closed = false;
  private failure: Error | undefined;

  private constructor(
    readonly stream: Stream,
    private readonly network: Network,
    readonly identity: Identity,
    maxQueuedFrames: number,
  ) {
    this.wakeup = new Wakeup(network.clock);
    this.maxQueued = maxQueuedFrames;
    void this.read();
  }

  /** Dials `target`; sends our hello unless `options.hello` is false. */
  static async connect(
    network: Network,
    target: Address,
    options: RawPeerOptions = {},
  ): Promise<RawPeer> {
    const stream = await network.dial(target, { timeoutMs: options.timeoutMs ?? 10_000 });
    const identity = Identity.fromSeed(network.random.bytes(32));
    const peer = new RawPeer(stream, network, identity, options.maxQueuedFrames ?? 10_000);
    if (options.hello ?? true) {
      await peer.send({ type: 'hello', version: PROTOCOL_VERSION, id: identity.publicKey });
    }
    return peer;
  }

  /** The node's first `hello`, once received. */
  get hello(): Hello | undefined {
    return this.helloFrame;
  }

  /** True once the stream ended, was reset, or sent a frame that does not decode. */
  get ended(): boolean {
    return this.done;
  }

  /** Why reading stopped early: a reset, an oversized frame, or a frame that does not decode. */
  get error(): Error | undefined {
    return this.failure;
  }

  private async read(): Promise<void> {
    try {
      const frames = readFrames(this.stream, {
        prefix: 'uint32be',
        maxFrameSize: DEFAULT_WIRE_LIMITS.maxRpcSize,
      });
      for await (const bytes of frames) {
        const frame = this.codec.decode(bytes);
        if (frame.type === 'hello') this.helloFrame ??= frame;
        // README, "Subscriptions": every subscribe/unsubscribe is announced to connected peers.
        for (const sub of frame.type === 'rpc' ? (frame.subs ?? []) : []) {
          if (sub.subscribe) this.subscriptions.add(sub.topic);
          else this.subscriptions.delete(sub.topic);
        }
        this.queue.push(frame);
        this.wakeup.wake();
        while (this.queue.length >= this.maxQueued && !this.closed) {
          await new Promise<void>((resolve) => {
            this.drained = resolve;
          });
        }
      }
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
      this.stream.destroy();
    }
    this.done = true;
    this.wakeup.wake();
  }

  /** Sends one frame; resolves false when the stream no longer takes writes (it was closed). */
  send(frame: Frame): Promise<boolean> {
    return this.sendRaw(this.codec.encode(frame));
  }

  /** Sends `payload` as one frame, whatever its bytes; false when the stream was closed. */
  sendRaw(payload: Uint8Array): Promise<boolean> {
    return this.write(encodeFrame(payload, { prefix: 'uint32be', maxFrameSize: 2 ** 32 - 1 }));
  }

  /** Writes raw bytes (e.g. a bare length prefix); false when the stream was closed. */
  write(bytes: Uint8Array): Promise<boolean> {
    return this.stream.write(bytes).then(
      () => true,
      () => false,
    );
  }

  /** A message on `topic` authored and signed by this peer (`strict-sign`; README, "Signed bytes"). */
  message(topic: string, data: Uint8Array): GossipMessage {
    const from = this.identity.publicKey;
    const seqno = ++this.seqno;
    return {
      from,
      seqno,
      topic,
      data,
      sig: this.identity.sign(signedBytes(from, seqno, topic, data)),
    };
  }

  /**
   * Takes received frames until `match` returns a value for one, and returns that value; frames
   * it passes over are dropped. `undefined` when the stream ends or `timeoutMs` (on the
   * network's clock) passes first.
   */
  async next<T>(match: (frame: Frame) => T | undefined, timeoutMs = 5_000): Promise<T | undefined> {
    const deadline = this.network.clock.now() + timeoutMs;
    for (;;) {
      let frame = this.queue.shift();
      while (frame !== undefined) {
        this.resumeReading();
        const matched = match(frame);
        if (matched !== undefined) return matched;
        frame = this.queue.shift();
      }
      if (this.done) return undefined;
      const left = deadline - this.network.clock.now();
      if (left <= 0) return undefined;
      await this.wakeup.wait(left);
    }
  }

  /** True when the node ends or resets the connection within `timeoutMs` (frames are dropped). */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    await this.next(() => undefined, timeoutMs);
    return this.done;
  }

  /** Waits `ms` on the network's clock. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.network.clock.setTimeout(resolve, ms);
    });
  }

  /** Destroys the stream (reading stops). */
  close(): void {
    this.closed = true;
    this.stream.destroy();
    this.resumeReading();
  }

  /** Lets a reader paused on a full queue go on. */
  private resumeReading(): void {
    const drained = this.drained;
    this.drained = undefined;
    drained?.();
  }
}
