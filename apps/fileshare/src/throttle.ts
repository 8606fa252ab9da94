/**
 * Rate limiting as `Network` wrappers. Upload (`--max-upload-rate`): every stream it hands out
 * waits for tokens from one shared bucket before each write, in order. Download
 * (`--max-download-rate`): every stream waits for tokens before handing on what it read; while
 * it waits nothing more is read, the transport's buffer fills, the socket pauses and TCP pushes
 * back on the sender. The torrent session does not need to know; it just sees a slower socket.
 * Time comes from the wrapped network's clock.
 */
import {
  type Address,
  type BindOptions,
  type Clock,
  type DialOptions,
  type Network,
  RateLimiter,
  type Stream,
  type StreamListener,
} from '@peerkit/transport';

/**
 * A byte rate: transport's `RateLimiter` (peerkit's one token bucket) with one key, `rate`
 * tokens (bytes) per second and one second of burst, plus what a stream needs on top: waiting
 * for the bytes on the network's clock, callers served in order. A write larger than one second
 * goes through once the bucket is full, leaving it in debt.
 */
export class TokenBucket {
  private readonly limiter: RateLimiter<0>;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly clock: Clock,
    readonly rate: number,
  ) {
    if (!(rate > 0)) throw new RangeError('rate must be positive');
    this.limiter = new RateLimiter(clock, rate, Math.max(1, rate));
  }

  /** Resolves when `bytes` may be sent; callers are served in order. */
  take(bytes: number): Promise<void> {
    const turn = this.queue.then(() => this.wait(bytes));
    this.queue = turn;
    return turn;
  }

  private async wait(bytes: number): Promise<void> {
    while (!this.limiter.take(0, bytes)) {
      const ms = Math.max(1, Math.ceil(this.limiter.waitMs(0, bytes)));
      await new Promise<void>((resolve) => this.clock.setTimeout(resolve, ms));
    }
  }
}

class ThrottledStream implements Stream {
  private tail: Promise<void> = Promise.resolve();
  constructor(
    private readonly inner: Stream,
    private readonly bucket: TokenBucket | undefined,
    private readonly readBucket: TokenBucket | undefined = undefined,
  ) {}

  get localAddress(): Address {
    return this.inner.localAddress;
  }
  get remoteAddress(): Address {
    return this.inner.remoteAddress;
  }
  /** Throttling changes the pace, not the transport: the inner stream's ('tcp', 'utp'). */
  get transport(): string | undefined {
    return this.inner.transport;
  }
  get closed() {
    return this.inner.closed;
  }

  write(data: Uint8Array): Promise<void> {
    const next = this.tail.then(async () => {
      await this.bucket?.take(data.length);
      await this.inner.write(data);
    });
    // A failed write fails its caller; later writes still run (and fail on a closed stream).
    this.tail = next.catch(() => undefined);
    return next;
  }

  end(): Promise<void> {
    const next = this.tail.then(() => this.inner.end());
    this.tail = next.catch(() => undefined);
    return next;
  }

  destroy(error?: Error): void {
    this.inner.destroy(error);
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const inner = this.inner[Symbol.asyncIterator]();
    const bucket = this.readBucket;
    if (bucket === undefined) return inner;
    return {
      async next() {
        const result = await inner.next();
        if (!result.done) await bucket.take(result.value.length);
        return result;
      },
      return: inner.return ? (value?: unknown) => inner.return!(value) : undefined,
    } as AsyncIterator<Uint8Array>;
  }
}

/** `network` with uploads limited to `bytesPerSecond` across all its streams. */
export function throttledNetwork(network: Network, bytesPerSecond: number): Network {
  return limitedNetwork(network, { upload: bytesPerSecond });
}

/** Bytes per second across all streams of a network, each direction on its own. */
export interface RateLimits {
  upload?: number;
  download?: number;
}

/** `network` with its streams' writes and/or reads limited (an unset limit: no limit). */
export function limitedNetwork(network: Network, limits: RateLimits): Network {
  const up = limits.upload ? new TokenBucket(network.clock, limits.upload) : undefined;
  const down = limits.download ? new TokenBucket(network.clock, limits.download) : undefined;
  if (up === undefined && down === undefined) return network;
  const wrap = (stream: Stream): Stream => new ThrottledStream(stream, up, down);
  return {
    clock: network.clock,
    random: network.random,
    bindDatagram: (options: BindOptions) => network.bindDatagram(options),
    listen: (options: BindOptions, onStream: (stream: Stream) => void): Promise<StreamListener> =>
      network.listen(options, (stream) => onStream(wrap(stream))),
    dial: async (to: Address, options?: DialOptions) => wrap(await network.dial(to, options)),
  };
}
