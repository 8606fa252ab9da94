/**
 * A raw gossip test peer: frames of a 4-byte big-endian length and one msgpack value (peerkit's
 * gossip wire spec), a `hello` with a fresh Ed25519 identity, then `rpc` frames. Frames are
 * decoded with the package's `WireCodec`; a frame that does not decode ends the reading.
 */
import {
  type Frame,
  type GossipMessage,
  Identity,
  PROTOCOL_VERSION,
  signedBytes,
  WireCodec,
} from '@peerkit/gossip';
import type { Address, Network, Stream } from '@peerkit/transport';

/** Frames up to this size are read; anything larger ends the connection (spec: 4 MiB + 64 KiB). */
const MAX_FRAME = 4 * 1024 * 1024 + 64 * 1024;

export function frameBytes(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, 4);
  return out;
}

export class GossipPeer {
  readonly codec = new WireCodec();
  private frames: Frame[] = [];
  private wake: (() => void) | undefined;
  private seqno = 0;
  /** The node's hello, once received. */
  hello: Extract<Frame, { type: 'hello' }> | undefined;
  /** Topics the node announced it subscribes to. */
  readonly subscriptions = new Set<string>();
  ended = false;
  error: Error | undefined;

  private constructor(
    readonly stream: Stream,
    private readonly network: Network,
    readonly identity: Identity,
  ) {
    void this.read();
  }

  /** Dials `target`; sends our hello unless `hello` is false. */
  static async connect(
    network: Network,
    target: Address,
    timeoutMs: number,
    hello = true,
  ): Promise<GossipPeer> {
    const stream = await network.dial(target, { timeoutMs });
    const peer = new GossipPeer(stream, network, Identity.fromSeed(network.random.bytes(32)));
    if (hello)
      await peer.send({ type: 'hello', version: PROTOCOL_VERSION, id: peer.identity.publicKey });
    return peer;
  }

  private async read(): Promise<void> {
    let buffer = new Uint8Array(0);
    try {
      for await (const chunk of this.stream) {
        const joined = new Uint8Array(buffer.length + chunk.length);
        joined.set(buffer);
        joined.set(chunk, buffer.length);
        buffer = joined;
        while (buffer.length >= 4) {
          const length = new DataView(buffer.buffer, buffer.byteOffset).getUint32(0);
          if (length > MAX_FRAME) throw new Error(`frame of ${length} bytes`);
          if (buffer.length < 4 + length) break;
          const frame = this.codec.decode(buffer.subarray(4, 4 + length));
          buffer = buffer.slice(4 + length);
          if (frame.type === 'hello') this.hello ??= frame;
          for (const s of frame.type === 'rpc' ? (frame.subs ?? []) : []) {
            if (s.subscribe) this.subscriptions.add(s.topic);
            else this.subscriptions.delete(s.topic);
          }
          this.frames.push(frame);
        }
        this.wake?.();
      }
    } catch (error) {
      this.error = error instanceof Error ? error : new Error(String(error));
      this.stream.destroy();
    }
    this.ended = true;
    this.wake?.();
  }

  async send(frame: Frame): Promise<void> {
    await this.sendRaw(this.codec.encode(frame));
  }

  async sendRaw(payload: Uint8Array): Promise<void> {
    await this.stream.write(frameBytes(payload)).catch(() => undefined);
  }

  async write(bytes: Uint8Array): Promise<void> {
    await this.stream.write(bytes).catch(() => undefined);
  }

  /** A message on `topic` signed by this peer (strict-sign). */
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

  /** The first frame for which `match` returns a value, within `timeoutMs`; undefined otherwise. */
  async next<T>(match: (f: Frame) => T | undefined, timeoutMs: number): Promise<T | undefined> {
    const deadline = this.network.clock.now() + timeoutMs;
    for (;;) {
      while (this.frames.length > 0) {
        const m = match(this.frames.shift() as Frame);
        if (m !== undefined) return m;
      }
      if (this.ended) return undefined;
      const left = deadline - this.network.clock.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = this.network.clock.setTimeout(() => {
          this.wake = undefined;
          resolve();
        }, left);
        this.wake = () => {
          timer.cancel();
          this.wake = undefined;
          resolve();
        };
      });
    }
  }

  /** True when the node closes the connection within `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    await this.next(() => undefined, timeoutMs);
    return this.ended;
  }

  close(): void {
    this.stream.destroy();
  }
}
