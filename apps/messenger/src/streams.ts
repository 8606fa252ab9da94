/**
 * Small `Stream` adapters used where connections are set up:
 *
 * - `readSelector` takes the first byte of a stream (the selector) and gives back a stream that
 *   yields everything after it, including the rest of the chunk the byte came in.
 * - `bindGossipHello` checks that the peer id in gossip's hello frame (gossip's wire spec: a
 *   uint32be-framed msgpack map, the first frame of the stream) is the identity the Noise
 *   handshake authenticated, so a peer cannot claim another peer's id to gossip.
 */
import { Buffer } from 'node:buffer';
import { FrameDecoder } from '@peerkit/framing';
import { WireCodec } from '@peerkit/gossip';
import { equalKeys } from '@peerkit/noise';
import type { Address, Stream, TransportError } from '@peerkit/transport';
import { ChatError } from './errors';

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

const helloCodec = new WireCodec();

/**
 * Wraps a secure stream that carries gossip: the remote's hello must name `remoteIdentity`,
 * else the stream is destroyed with `ChatError` `AUTHOR_MISMATCH` before gossip sees it.
 */
export function bindGossipHello(stream: Stream, remoteIdentity: Uint8Array): Stream {
  return new ReadWrapped(stream, () => checkHello(stream, remoteIdentity));
}

async function* checkHello(
  stream: Stream,
  remoteIdentity: Uint8Array,
): AsyncGenerator<Uint8Array, void, undefined> {
  const iterator = stream[Symbol.asyncIterator]();
  const decoder = new FrameDecoder({
    prefix: 'uint32be',
    maxFrameSize: helloCodec.limits.maxRpcSize,
  });
  const held: Uint8Array[] = [];
  while (true) {
    const next = await iterator.next();
    if (next.done) {
      for (const c of held) yield c; // gossip reports the truncated hello itself
      return;
    }
    const chunk = Buffer.from(next.value); // a copy: the decoder may keep views
    held.push(chunk);
    let frame: Uint8Array | undefined;
    try {
      decoder.push(chunk);
      frame = decoder.next();
    } catch {
      break; // malformed: hand it to gossip, which rejects it with its own error
    }
    if (frame === undefined) continue;
    let ok = false;
    try {
      const hello = helloCodec.decode(frame);
      ok = hello.type !== 'hello' || equalKeys(hello.id, remoteIdentity);
    } catch {
      ok = true; // not decodable: gossip closes the connection with BAD_HELLO
    }
    if (!ok) {
      const error = new ChatError(
        'AUTHOR_MISMATCH',
        'gossip hello names another peer than the secure channel authenticated',
      );
      stream.destroy(error);
      throw error;
    }
    break;
  }
  yield* rest(iterator, held);
}
