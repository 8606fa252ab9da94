/**
 * Helpers of the transport compliance suite. Every wait runs on a `Network`'s own clock (never
 * global timers), so the suite runs in netsim's virtual time as well as in real time.
 */
import { withTimeout } from '../clock';
import type {
  Address,
  Clock,
  DatagramSocket,
  DialOptions,
  Network,
  Stream,
  StreamListener,
} from '../interfaces';

/** Upper bound, in clock milliseconds, of any single wait of the suite. */
export const WAIT_MS = 30_000;

/** Rejects with `TIMEOUT` when `promise` has not settled after `ms` of `clock` time. */
export function within<T>(
  clock: Clock,
  promise: Promise<T>,
  what: string,
  ms = WAIT_MS,
): Promise<T> {
  return withTimeout(clock, promise, ms, what);
}

/** Whether `promise` settles within `ms` of `clock` time (its timer is cancelled if it does). */
export function settlesWithin(
  clock: Clock,
  promise: Promise<unknown>,
  ms: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = clock.setTimeout(() => resolve(false), ms);
    const settled = (): void => {
      timer.cancel();
      resolve(true);
    };
    promise.then(settled, settled);
  });
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Everything a test opens, so that `closeAll` leaves nothing behind even when a test fails. */
export class Resources {
  readonly #streams: Stream[] = [];
  readonly #listeners: StreamListener[] = [];
  readonly #sockets: DatagramSocket[] = [];

  track(stream: Stream): Stream {
    this.#streams.push(stream);
    return stream;
  }

  async listen(
    network: Network,
    host: string,
    onStream: (stream: Stream) => void = () => {},
    port?: number,
  ): Promise<StreamListener> {
    const listener = await network.listen({ host, port }, (stream) => onStream(this.track(stream)));
    this.#listeners.push(listener);
    return listener;
  }

  /** A listener whose first accepted stream is `accepted`. */
  async acceptOne(
    network: Network,
    host: string,
  ): Promise<{ listener: StreamListener; accepted: Promise<Stream> }> {
    const first = deferred<Stream>();
    const listener = await this.listen(network, host, (stream) => first.resolve(stream));
    return { listener, accepted: within(network.clock, first.promise, 'accept') };
  }

  async dial(network: Network, to: Address, options?: DialOptions): Promise<Stream> {
    return this.track(await within(network.clock, network.dial(to, options), 'dial'));
  }

  async bind(network: Network, host: string, port?: number): Promise<DatagramSocket> {
    const socket = await network.bindDatagram({ host, port });
    this.#sockets.push(socket);
    return socket;
  }

  /** Closes listeners and sockets, destroys streams, and waits until every stream is closed. */
  async closeAll(clock: Clock): Promise<void> {
    await Promise.all(this.#listeners.map((l) => l.close()));
    await Promise.all(this.#sockets.map((s) => s.close()));
    for (const stream of this.#streams) stream.destroy();
    await within(clock, Promise.all(this.#streams.map((s) => s.closed)), 'streams to close');
    this.#listeners.length = 0;
    this.#sockets.length = 0;
    this.#streams.length = 0;
  }
}

/**
 * A repeating byte pattern: position `p` of a test stream carries `PATTERN[p % PATTERN.length]`,
 * so that a reader verifies order and content without keeping what was sent.
 */
const PATTERN_SIZE = 256 * 1024;
export const PATTERN: Uint8Array = (() => {
  const bytes = new Uint8Array(PATTERN_SIZE);
  let x = 0x9e3779b9;
  for (let i = 0; i < bytes.length; i++) {
    // xorshift32: deterministic, no global randomness.
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
})();

/** The bytes of the pattern at stream positions [start, start + length), length <= PATTERN_SIZE. */
export function patternSlice(start: number, length: number): Uint8Array {
  const offset = start % PATTERN_SIZE;
  if (offset + length <= PATTERN_SIZE) return PATTERN.subarray(offset, offset + length);
  const out = new Uint8Array(length);
  const head = PATTERN_SIZE - offset;
  out.set(PATTERN.subarray(offset));
  out.set(PATTERN.subarray(0, length - head), head);
  return out;
}

/** Writes `total` pattern bytes starting at stream position `from`, awaiting every write. */
export async function writePattern(stream: Stream, total: number, chunkSize: number, from = 0) {
  for (let sent = 0; sent < total; ) {
    const length = Math.min(chunkSize, total - sent);
    await stream.write(patternSlice(from + sent, length));
    sent += length;
  }
}

/** Checks that `chunk` is the pattern at `position`; returns the position after it. */
export function checkPattern(chunk: Uint8Array, position: number): number {
  let p = position % PATTERN_SIZE;
  for (let i = 0; i < chunk.length; i++) {
    if (chunk[i] !== PATTERN[p]) {
      throw new Error(`stream byte ${position + i} is ${chunk[i]}, expected ${PATTERN[p]}`);
    }
    p = p + 1 === PATTERN_SIZE ? 0 : p + 1;
  }
  return position + chunk.length;
}

/** Reads to the end, checking the pattern from `from`; returns the number of bytes read. */
export async function readPattern(stream: AsyncIterable<Uint8Array>, from = 0): Promise<number> {
  let position = from;
  for await (const chunk of stream) position = checkPattern(chunk, position);
  return position - from;
}

/** Reads a pattern stream in steps, checking every byte; one instance per stream. */
export class PatternReader {
  readonly #iterator: AsyncIterator<Uint8Array>;
  #position: number;

  constructor(stream: AsyncIterable<Uint8Array>, from = 0) {
    this.#iterator = stream[Symbol.asyncIterator]();
    this.#position = from;
  }

  /** Stream position of the next byte to read. */
  get position(): number {
    return this.#position;
  }

  /** Reads chunks until at least `count` more bytes were read (then stops reading). */
  async readAtLeast(count: number): Promise<void> {
    const target = this.#position + count;
    while (this.#position < target) {
      const next = await this.#iterator.next();
      if (next.done) throw new Error(`stream ended at ${this.#position}, before ${target}`);
      this.#position = checkPattern(next.value, this.#position);
    }
  }

  /** Reads to the end; returns the position after the last byte. */
  async readToEnd(): Promise<number> {
    for (;;) {
      const next = await this.#iterator.next();
      if (next.done) return this.#position;
      this.#position = checkPattern(next.value, this.#position);
    }
  }
}

/** Reads to the end and returns everything, concatenated. */
export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return concat(chunks);
}

/** Reads until the stream ends or fails; returns the error, or `undefined` for an orderly end. */
export async function readUntilFailure(stream: AsyncIterable<Uint8Array>): Promise<unknown> {
  try {
    for await (const _ of stream) {
      // Discard.
    }
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Reads exactly `length` bytes from an iterator (keeping any excess for the next call). */
export class ExactReader {
  readonly #iterator: AsyncIterator<Uint8Array>;
  #pending: Uint8Array = new Uint8Array(0);

  constructor(stream: AsyncIterable<Uint8Array>) {
    this.#iterator = stream[Symbol.asyncIterator]();
  }

  async read(length: number): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [this.#pending];
    let have = this.#pending.length;
    while (have < length) {
      const next = await this.#iterator.next();
      if (next.done) throw new Error(`stream ended after ${have} of ${length} bytes`);
      chunks.push(next.value);
      have += next.value.length;
    }
    const all = concat(chunks);
    this.#pending = all.subarray(length);
    return all.subarray(0, length);
  }
}

export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const c of chunks) length += c.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

export function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Sends `data` from `from` to `to` every `intervalMs` until `to` receives a datagram equal to it
 * (so a lossy simulated link still passes); resolves with the received bytes and sender.
 */
export async function deliver(
  clock: Clock,
  from: DatagramSocket,
  to: DatagramSocket,
  data: Uint8Array,
  { intervalMs = 100, attempts = 50 } = {},
): Promise<{ data: Uint8Array; from: Address }> {
  const received = deferred<{ data: Uint8Array; from: Address }>();
  const off = to.onMessage((bytes, sender) => {
    if (equalBytes(bytes, data)) received.resolve({ data: bytes, from: sender });
  });
  let sent = 0;
  const send = (): void => {
    if (sent++ < attempts) from.send(data, to.localAddress);
  };
  send();
  const timer = clock.setInterval(send, intervalMs);
  try {
    return await within(clock, received.promise, 'datagram delivery', intervalMs * (attempts + 1));
  } finally {
    timer.cancel();
    off();
  }
}
