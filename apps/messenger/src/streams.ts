/**
 * A small `Stream` adapter used where connections are set up: `readSelector` takes the first
 * byte of a stream (the selector) and gives back a stream that yields everything after it,
 * including the rest of the chunk the byte came in. The wrapped stream keeps the inner one's
 * `remoteIdentity` (transport's `Stream` declares it), so gossip sees whom Noise authenticated.
 */
import type { Address, Stream, TransportError } from '@peerkit/transport';

/** A stream whose reading side is produced by `read` (which must own `inner`'s iterator). */
class ReadWrapped implements Stream {
  constructor(
    private readonly inner: Stream,
    private readonly read: () => AsyncGenerator<Uint8Array, void, undefined>,
  ) {}
  get localAddress(): Address {
    return this.inner.localAddress;
  }
  get remoteAddress(): Address {
    return this.inner.remoteAddress;
  }
  get remoteIdentity(): Uint8Array | undefined {
    return this.inner.remoteIdentity;
  }
  get closed(): Promise<TransportError | undefined> {
    return this.inner.closed;
  }
  write(data: Uint8Array): Promise<void> {
    return this.inner.write(data);
  }
  end(): Promise<void> {
    return this.inner.end();
  }
  destroy(error?: Error): void {
    this.inner.destroy(error);
  }
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.read();
  }
}

async function* rest(
  iterator: AsyncIterator<Uint8Array>,
  first: Uint8Array[],
): AsyncGenerator<Uint8Array, void, undefined> {
  let done = false;
  try {
    for (const chunk of first) if (chunk.length > 0) yield chunk;
    while (true) {
      const next = await iterator.next();
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    // Leaving early (the consumer broke out) destroys the stream, as the Stream contract says.
    if (!done) await iterator.return?.();
  }
}

/**
 * Reads the selector byte; resolves with it and the remaining stream, or undefined when the
 * stream ended first.
 */
export async function readSelector(
  stream: Stream,
): Promise<{ selector: number; stream: Stream } | undefined> {
  const iterator = stream[Symbol.asyncIterator]();
  while (true) {
    const next = await iterator.next();
    if (next.done) return undefined;
    if (next.value.length === 0) continue;
    const leftover = next.value.subarray(1);
    return {
      selector: next.value[0] as number,
      stream: new ReadWrapped(stream, () => rest(iterator, [leftover])),
    };
  }
}
