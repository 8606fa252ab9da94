/**
 * A raw Bitcoin P2P connection for the conformance rules: it sends whatever bytes a rule wants
 * (valid messages, broken envelopes) and collects what the target answers, with every wait
 * bounded by the injected clock. Works on real sockets and in netsim alike.
 */
import type { Address, Network, Stream, Timer } from '@peerkit/transport';
import { NODE_NETWORK, NODE_WITNESS, PROTOCOL_VERSION } from '../p2p/constants';
import { encodeMessage, MessageDecoder } from '../p2p/envelope';
import { decodePayload, encodePayload } from '../p2p/messages/codec';
import type { Message, VersionMessage } from '../p2p/messages/types';

interface Waiter {
  match: (m: Message) => boolean;
  resolve: (m: Message | undefined) => void;
  timer: Timer;
}

export class BtcProbe {
  readonly #network: Network;
  readonly #stream: Stream;
  readonly #magic: Uint8Array;
  readonly #decoder: MessageDecoder;
  /** Every message received so far, in order. */
  readonly received: Message[] = [];
  #waiters: Waiter[] = [];
  #closeWaiters: (() => void)[] = [];
  #closed = false;

  private constructor(network: Network, stream: Stream, magic: Uint8Array) {
    this.#network = network;
    this.#stream = stream;
    this.#magic = magic;
    this.#decoder = new MessageDecoder({ magic });
    void this.#read();
  }

  static async open(
    network: Network,
    address: Address,
    magic: Uint8Array,
    timeoutMs: number,
  ): Promise<BtcProbe> {
    const stream = await network.dial(address, { timeoutMs });
    return new BtcProbe(network, stream, magic);
  }

  /** True once the target closed the connection (or the probe was closed). */
  get closed(): boolean {
    return this.#closed;
  }

  send(m: Message): void {
    this.sendRaw(encodeMessage(this.#magic, m.command, encodePayload(m)));
  }

  sendRaw(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#stream.write(bytes).catch(() => this.#markClosed());
  }

  /** The first message (already received or arriving within `timeoutMs`) that `match`es. */
  expect(match: (m: Message) => boolean, timeoutMs: number): Promise<Message | undefined> {
    const seen = this.received.find(match);
    if (seen) return Promise.resolve(seen);
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        match,
        resolve,
        timer: this.#network.clock.setTimeout(() => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          resolve(undefined);
        }, timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /** Resolves true if the target closes the connection within `timeoutMs`. */
  waitClosed(timeoutMs: number): Promise<boolean> {
    if (this.#closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = this.#network.clock.setTimeout(() => resolve(this.#closed), timeoutMs);
      this.#closeWaiters.push(() => {
        timer.cancel();
        resolve(true);
      });
    });
  }

  /** Our side of the handshake; resolves with the target's version, or undefined. */
  async handshake(
    timeoutMs: number,
    version: Partial<VersionMessage> = {},
  ): Promise<VersionMessage | undefined> {
    this.send(probeVersion(this.#network, this.#stream, version));
    const theirs = await this.expect((m) => m.command === 'version', timeoutMs);
    const ack = await this.expect((m) => m.command === 'verack', timeoutMs);
    if (theirs?.command !== 'version' || !ack) return undefined;
    this.send({ command: 'verack' });
    return theirs;
  }

  close(): void {
    this.#stream.destroy();
    this.#markClosed();
  }

  async #read(): Promise<void> {
    try {
      for await (const chunk of this.#stream) {
        this.#decoder.push(chunk);
        for (let raw = this.#decoder.next(); raw; raw = this.#decoder.next()) {
          const m = raw.checksumOk ? decodePayload(raw.command, raw.payload) : undefined;
          if (!m) continue;
          this.received.push(m);
          for (const w of this.#waiters.filter((x) => x.match(m))) {
            w.timer.cancel();
            this.#waiters = this.#waiters.filter((x) => x !== w);
            w.resolve(m);
          }
        }
      }
    } catch {
      // A broken stream or undecodable bytes end the probe; the rules see `closed`.
    }
    this.#markClosed();
  }

  #markClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#waiters) {
      w.timer.cancel();
      w.resolve(undefined);
    }
    this.#waiters = [];
    for (const c of this.#closeWaiters) c();
    this.#closeWaiters = [];
  }
}

/** The version message the probe sends: a plain full node at height 0, unless overridden. */
export function probeVersion(
  network: Network,
  stream: Stream,
  overrides: Partial<VersionMessage> = {},
): VersionMessage {
  const b = network.random.bytes(8);
  return {
    command: 'version',
    version: PROTOCOL_VERSION,
    services: NODE_NETWORK | NODE_WITNESS,
    timestamp: BigInt(Math.floor(network.clock.now() / 1000)),
    receiver: { services: 0n, host: stream.remoteAddress.host, port: stream.remoteAddress.port },
    sender: { services: 0n, host: stream.localAddress.host, port: 0 },
    nonce: new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true),
    userAgent: '/peerkit-conform:0.1.0/',
    startHeight: 0,
    relay: false,
    ...overrides,
  };
}
