/** Frame encoding: prefix + payload in one buffer. */
import { FramingError } from './errors';
import {
  type FrameOptions,
  type PrefixKind,
  prefixLength,
  type ResolvedFrameOptions,
  resolveFrameOptions,
  writePrefix,
} from './prefix';

/**
 * Encodes one frame: the length prefix followed by `payload`, as one new `Uint8Array`
 * (one allocation, one copy of the payload). Throws `FramingError` `FRAME_TOO_LARGE` when the
 * payload is longer than `maxFrameSize`.
 */
export function encodeFrame(payload: Uint8Array, options?: FrameOptions): Uint8Array {
  return encodeFrameResolved(payload, resolveFrameOptions(options));
}

/** The bytes of a prefix alone, for callers that write the payload separately. */
export function encodeFramePrefix(length: number, options?: FrameOptions): Uint8Array {
  const { prefix, maxFrameSize } = resolveFrameOptions(options);
  checkLength(length, maxFrameSize);
  const out = new Uint8Array(prefixLength(prefix, length));
  writePrefix(prefix, length, out, 0);
  return out;
}

/** @internal {@link encodeFrame} with options already checked (used by `FrameWriter`). */
export function encodeFrameResolved(
  payload: Uint8Array,
  options: ResolvedFrameOptions,
): Uint8Array {
  const length = payload.length;
  checkLength(length, options.maxFrameSize);
  const prefix: PrefixKind = options.prefix;
  const out = new Uint8Array(prefixLength(prefix, length) + length);
  out.set(payload, writePrefix(prefix, length, out, 0));
  return out;
}

function checkLength(length: number, maxFrameSize: number): void {
  if (!Number.isSafeInteger(length) || length < 0 || length > maxFrameSize) {
    throw new FramingError(
      'FRAME_TOO_LARGE',
      `frame of ${length} bytes exceeds maxFrameSize ${maxFrameSize}`,
    );
  }
}
