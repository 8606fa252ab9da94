/**
 * A raw peer-wire connection for the rules: dial, send bytes, wait for frames. It decodes what
 * the target sends with `WireDecoder` but lets through what the rules check themselves (spare
 * bits, large blocks, indices out of range), and remembers how the connection ended.
 */
import {
  encodeHandshake,
  type HandshakeExtensions,
  type HandshakeFrame,
  WireDecoder,
  type WireFrame,
} from '@peerkit/piece-exchange';
import type { Address, Network, Stream } from '@peerkit/transport';

export class PeerConnection {
  private readonly decoder = new WireDecoder({
    allowSpareBits: true,
    maxRequestLength: 1 << 20,
    maxBlockLength: 1 << 20,
    maxMessageLength: 4 << 20,
  });
  private frames: WireFrame[] = [];
  private wake: (() => void) | undefined;
  /** Every frame received so far, in order (the rules look back at them). */
  readonly received: WireFrame[] = [];
  ended = false;
  /** Why the connection ended: the stream error, or the target's bytes that did not decode. */
  error: Error | undefined;

  private constructor(
    readonly stream: Stream,
    private readonly network: Network,
  ) {
    void this.read();
  }

  static async open(
    network: Network,
    address: Address,
    timeoutMs: number,
  ): Promise<PeerConnection> {
    return new PeerConnection(await network.dial(address, { timeoutMs }), network);
  }

  private async read(): Promise<void> {
    try {
      for await (const chunk of this.stream) {
        for (const frame of this.decoder.decode(chunk)) {
          this.frames.push(frame);
          this.received.push(frame);
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

  async send(bytes: Uint8Array): Promise<void> {
    // A write to a connection the target already closed is no news for the rules.
    await this.stream.write(bytes).catch(() => undefined);
  }

  /** Sends the BitTorrent handshake and waits for the target's (undefined if none came). */
  async handshake(
    infoHash: Uint8Array,
    peerId: Uint8Array,
    extensions: Partial<HandshakeExtensions>,
    timeoutMs: number,
  ): Promise<HandshakeFrame | undefined> {
    await this.send(encodeHandshake({ infoHash, peerId, extensions }));
    const frame = await this.next((f) => f.type === 'handshake', timeoutMs);
    return frame?.type === 'handshake' ? frame : undefined;
  }

  /**
   * The next frame matching `predicate` within `timeoutMs` (frames before it are consumed), or
   * undefined when the connection ended or the time ran out.
   */
  async next(
    predicate: (frame: WireFrame) => boolean,
    timeoutMs: number,
  ): Promise<WireFrame | undefined> {
    const deadline = this.network.clock.now() + timeoutMs;
    for (;;) {
      while (this.frames.length > 0) {
        const frame = this.frames.shift() as WireFrame;
        if (predicate(frame)) return frame;
      }
      if (this.ended) return undefined;
      const left = deadline - this.network.clock.now();
      if (left <= 0) return undefined;
      await this.wait(left);
    }
  }

  /** Waits `ms` (or until the connection ends) and returns the frames that came meanwhile. */
  async collect(ms: number): Promise<WireFrame[]> {
    const deadline = this.network.clock.now() + ms;
    for (;;) {
      const left = deadline - this.network.clock.now();
      if (this.ended || left <= 0) break;
      await this.wait(left);
    }
    const out = this.frames;
    this.frames = [];
    return out;
  }

  /** True when the target closes the connection within `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    await this.next(() => false, timeoutMs);
    return this.ended;
  }

  private wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = this.network.clock.setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        timer.cancel();
        this.wake = undefined;
        resolve();
      };
    });
  }

  close(): void {
    this.stream.destroy();
  }
}
