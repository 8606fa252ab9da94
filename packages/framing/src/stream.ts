/**
 * Framing over a transport `Stream` (@peerkit/transport): an async iterable of frames for
 * reading, and a writer that sends each frame as one write and honours backpressure.
 */
import type { Stream } from '@peerkit/transport';
import { encodeFrameResolved } from './encode';
import { FramingError } from './errors';
import { FrameDecoder } from './frame-decoder';
import { type FrameOptions, type ResolvedFrameOptions, resolveFrameOptions } from './prefix';

export interface ReadFramesOptions extends FrameOptions {
  /**
   * Destroy the stream (with the error) when its bytes cannot be framed: an oversized or
   * malformed prefix, or the stream ending inside a frame. Default `true`: a peer that breaks
   * framing is disconnected.
   */
  destroyOnError?: boolean;
}

/**
 * Reads `stream` as a sequence of frames. Ends when the stream ends after a whole frame;
 * throws `FramingError` (`TRUNCATED` if it ends inside a frame, `FRAME_TOO_LARGE`,
 * `BAD_VARINT`) or the stream's own `TransportError`.
 *
 * Frames may be views of the chunks the stream delivered (see `FrameDecoder`).
 */
export async function* readFrames(
  stream: Stream,
  options?: ReadFramesOptions,
): AsyncGenerator<Uint8Array, void, undefined> {
  const decoder = new FrameDecoder(options);
  const destroyOnError = options?.destroyOnError ?? true;
  try {
    for await (const chunk of stream) {
      decoder.push(chunk);
      for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) yield frame;
    }
    decoder.end();
  } catch (error) {
    if (destroyOnError && error instanceof FramingError) stream.destroy(error);
    throw error;
  }
}

/**
 * Writes frames to a stream. Each frame (prefix + payload) goes out as one `stream.write`, and
 * `write` resolves when the stream can take more, so `await writer.write(...)` in a loop never
 * queues more than the stream's buffer.
 */
export class FrameWriter {
  readonly stream: Stream;
  private readonly options: ResolvedFrameOptions;

  constructor(stream: Stream, options?: FrameOptions) {
    this.stream = stream;
    this.options = resolveFrameOptions(options);
  }

  /**
   * Sends one frame. Throws `FramingError` `FRAME_TOO_LARGE` (nothing is written) or rejects
   * with the stream's `TransportError`.
   */
  write(payload: Uint8Array): Promise<void> {
    let frame: Uint8Array;
    try {
      frame = encodeFrameResolved(payload, this.options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.stream.write(frame);
  }

  /** Half-closes the stream once everything queued is sent. */
  end(): Promise<void> {
    return this.stream.end();
  }
}

/** Sends one frame on `stream` (see {@link FrameWriter.write}). */
export function writeFrame(
  stream: Stream,
  payload: Uint8Array,
  options?: FrameOptions,
): Promise<void> {
  let frame: Uint8Array;
  try {
    frame = encodeFrameResolved(payload, resolveFrameOptions(options));
  } catch (error) {
    return Promise.reject(error);
  }
  return stream.write(frame);
}
