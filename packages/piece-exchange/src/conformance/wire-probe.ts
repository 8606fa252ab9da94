/**
 * `WireProbe`: a raw peer-wire connection for conformance rules and tests. It dials, sends bytes
 * as given, and waits for frames. It decodes what the target sends with `WireDecoder` but lets
 * through what the rules check themselves (spare bits, large blocks, indices out of range), and
 * remembers how the connection ended. Every wait goes through the network's clock, so it works
 * on real sockets and in a simulator alike.
 */

import { Wakeup } from '@peerkit/conformance';
import type { Address, Network, Stream } from '@peerkit/transport';
import { type HandshakeFrame, WireDecoder, type WireFrame } from '../wire/decoder';
import { encodeHandshake, type HandshakeExtensions } from '../wire/handshake';

/** Longest dial by default, in milliseconds. */
const DIAL_TIMEOUT_MS = 10_000;

export class WireProbe {
  private readonly decoder = new WireDecoder({
    allowSpareBits: true,
    maxRequestLength: 1 << 20,
    maxBlockLength: 1 << 20,
    maxMessageLength: 4 << 20,
  });
  private frames: WireFrame[] = [];
  private readonly wakeup: Wakeup;
  /** Every frame received so far, in order (the rules look back at them). */
  readonly received: WireFrame[] = [];
  /** True once the connection ended (closed by either side, reset, or undecodable bytes). */
  ended = false;
  /**
   * Why the connection ended, when not by a clean close: the stream's error (e.g. a reset), or
   * the `WireError` for the target's bytes that did not decode as BitTorrent.
   */
  error: Error | undefined;

  private constructor(
    readonly stream: Stream,
    private readonly network: Network,
  ) {
    this.wakeup = new Wakeup(network.clock);
    void this.read();
  }

  /** Dials `address` (waiting at most `timeoutMs` for the connection). */
  static async open(
    network: Network,
    address: Address,
    timeoutMs = DIAL_TIMEOUT_MS,
  ): Promise<WireProbe> {
    return new WireProbe(await network.dial(address, { timeoutMs }), network);
  }

  private async read(): Promise<void> {
    try {
      for await (const chunk of this.stream) {
        for (const frame of this.decoder.decode(chunk)) {
          this.frames.push(frame);
          this.received.push(frame);
        }
        this.wakeup.wake();
      }
    } catch (error) {
      this.error = error instanceof Error ? error : new Error(String(error));
      this.stream.destroy();
    }
    this.ended = true;
    this.wakeup.wake();
  }

  /** Writes `bytes` as they are. A write to a connection the target closed is no news here. */
  async send(bytes: Uint8Array): Promise<void> {
    await this.stream.write(bytes).catch(() => undefined);
  }

  /** Sends the BitTorrent handshake (BEP 3) and waits for the target's (undefined if none came). */
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
      let frame = this.frames.shift();
      while (frame !== undefined) {
        if (predicate(frame)) return frame;
        frame = this.frames.shift();
      }
      if (this.ended) return undefined;
      const left = deadline - this.network.clock.now();
      if (left <= 0) return undefined;
      await this.wakeup.wait(left);
    }
  }

  /** Waits `ms` (or until the connection ends) and returns the frames not consumed yet. */
  async collect(ms: number): Promise<WireFrame[]> {
    const deadline = this.network.clock.now() + ms;
    for (;;) {
      const left = deadline - this.network.clock.now();
      if (this.ended || left <= 0) break;
      await this.wakeup.wait(left);
    }
    const out = this.frames;
    this.frames = [];
    return out;
  }

  /** True when the target closes the connection within `timeoutMs` (frames meanwhile are consumed). */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    await this.next(() => false, timeoutMs);
    return this.ended;
  }

  close(): void {
    this.stream.destroy();
  }
}
