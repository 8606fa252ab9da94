/**
 * Interceptors for `memoryStreamPair`: they stand for the network between two peers and
 * re-chunk, corrupt, duplicate or reorder the bytes of one direction.
 */
import type { Interceptor } from './memory-stream';

/**
 * Cuts every written chunk into pieces of the given sizes (cycled across the whole stream),
 * at most `maxPieces` per chunk, the last piece taking the rest: "chunked arbitrarily".
 * Bytes are never held back, so nothing waits on a later write.
 */
export function splitInterceptor(sizes: readonly number[], maxPieces = 8): Interceptor {
  let i = 0;
  return {
    onChunk(chunk) {
      const out: Uint8Array[] = [];
      for (let offset = 0; offset < chunk.length; ) {
        const size =
          out.length === maxPieces - 1
            ? chunk.length - offset
            : Math.max(1, sizes[i++ % sizes.length] ?? 1);
        out.push(chunk.subarray(offset, offset + size));
        offset += size;
      }
      return out;
    },
  };
}

/**
 * Cuts the byte stream back into 2-byte-length-prefixed messages (prefix included) and lets
 * `transform(frame, index)` return what to deliver in their place. Frames are copies: the
 * transform may modify them.
 */
export function frameInterceptor(
  transform: (frame: Uint8Array, index: number) => Uint8Array[],
  onEnd?: () => Uint8Array[],
): Interceptor {
  let buffer: Uint8Array = new Uint8Array(0);
  let index = 0;
  return {
    onChunk(chunk) {
      buffer = buffer.length === 0 ? new Uint8Array(chunk) : Buffer.concat([buffer, chunk]);
      const out: Uint8Array[] = [];
      for (;;) {
        if (buffer.length < 2) break;
        const length = 2 + (((buffer[0] as number) << 8) | (buffer[1] as number));
        if (buffer.length < length) break;
        const frame = buffer.slice(0, length);
        buffer = buffer.subarray(length);
        out.push(...transform(frame, index++));
      }
      return out;
    },
    onEnd: () => [...(onEnd?.() ?? []), ...(buffer.length > 0 ? [buffer] : [])],
  };
}

/** Flips bit `bit` (0 = most significant of the frame's first byte...) of frame `frameIndex`. */
export function bitFlipInterceptor(frameIndex: number, bitFraction: number): Interceptor {
  return frameInterceptor((frame, index) => {
    if (index === frameIndex) {
      const bit = Math.min(frame.length * 8 - 1, Math.floor(bitFraction * frame.length * 8));
      frame[bit >>> 3] = (frame[bit >>> 3] as number) ^ (0x80 >>> (bit & 7));
    }
    return [frame];
  });
}

/** How a frame tamper test disturbs the order of messages. */
export type FrameTamper =
  | { kind: 'duplicate'; index: number }
  | { kind: 'swap'; index: number }
  | { kind: 'replay'; index: number; later: number };

/** Duplicates, swaps with its successor, or replays later a frame (see `FrameTamper`). */
export function frameTamperInterceptor(tamper: FrameTamper): Interceptor {
  let held: Uint8Array | undefined;
  let saved: Uint8Array | undefined;
  return frameInterceptor(
    (frame, index) => {
      switch (tamper.kind) {
        case 'duplicate':
          return index === tamper.index ? [frame, frame.slice()] : [frame];
        case 'swap':
          if (index === tamper.index) {
            held = frame;
            return [];
          }
          if (index === tamper.index + 1 && held !== undefined) {
            const first = held;
            held = undefined;
            return [frame, first];
          }
          return [frame];
        case 'replay':
          if (index === tamper.index) saved = frame.slice();
          if (index === tamper.later && saved !== undefined) return [frame, saved];
          return [frame];
      }
    },
    () => (held !== undefined ? [held] : []),
  );
}
