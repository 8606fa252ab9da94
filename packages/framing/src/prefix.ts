/**
 * Length prefixes: how many bytes the next frame's payload has.
 *
 * - `uint32be`: 4 bytes, big-endian (BitTorrent peer wire, BEP 3 "length-prefixed messages").
 * - `uint16be`: 2 bytes, big-endian (Noise Protocol Framework, section 3 / transport framing:
 *   a Noise message is at most 65535 bytes).
 * - `varint`: unsigned LEB128 (as in Protocol Buffers and multiformats' unsigned-varint):
 *   7 bits per byte, least significant group first, high bit set on every byte but the last.
 *   peerkit caps it at 5 bytes / 2^32-1 and rejects non-minimal encodings (a final 0x00 byte
 *   after a continuation), so that every length has exactly one encoding.
 */
import { FramingError } from './errors';

export type PrefixKind = 'uint32be' | 'uint16be' | 'varint';

/** The safe default for `maxFrameSize`: 1 MiB (64 KiB - 1 for `uint16be`). */
export const DEFAULT_MAX_FRAME_SIZE = 1024 * 1024;

/** Largest varint peerkit accepts: 5 bytes carry 35 bits, the top 3 must be zero. */
export const MAX_VARINT_BYTES = 5;

/** The largest frame length a prefix can express. */
export function prefixCapacity(prefix: PrefixKind): number {
  return prefix === 'uint16be' ? 0xffff : 0xffffffff;
}

/** Number of bytes the prefix for a frame of `length` bytes takes. */
export function prefixLength(prefix: PrefixKind, length: number): number {
  if (prefix === 'uint32be') return 4;
  if (prefix === 'uint16be') return 2;
  if (length < 0x80) return 1;
  if (length < 0x4000) return 2;
  if (length < 0x200000) return 3;
  if (length < 0x10000000) return 4;
  return 5;
}

/** Writes the prefix for `length` at `offset`; returns the offset after it. */
export function writePrefix(
  prefix: PrefixKind,
  length: number,
  target: Uint8Array,
  offset: number,
): number {
  let o = offset;
  if (prefix === 'uint32be') {
    target[o++] = length >>> 24;
    target[o++] = (length >>> 16) & 0xff;
    target[o++] = (length >>> 8) & 0xff;
    target[o++] = length & 0xff;
    return o;
  }
  if (prefix === 'uint16be') {
    target[o++] = length >>> 8;
    target[o++] = length & 0xff;
    return o;
  }
  let n = length;
  while (n >= 0x80) {
    target[o++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  target[o++] = n;
  return o;
}

export interface FrameOptions {
  /** Length prefix encoding; default `'uint32be'`. */
  prefix?: PrefixKind;
  /**
   * Largest accepted payload in bytes; default 1 MiB (65535 for `uint16be`). A larger prefix
   * gives `FramingError` `FRAME_TOO_LARGE` before any memory for the frame is taken.
   */
  maxFrameSize?: number;
}

export interface ResolvedFrameOptions {
  prefix: PrefixKind;
  maxFrameSize: number;
}

export function resolveFrameOptions(options: FrameOptions | undefined): ResolvedFrameOptions {
  const prefix = options?.prefix ?? 'uint32be';
  if (prefix !== 'uint32be' && prefix !== 'uint16be' && prefix !== 'varint') {
    throw new FramingError('INVALID_OPTION', `unknown prefix ${String(prefix)}`);
  }
  const capacity = prefixCapacity(prefix);
  const maxFrameSize = options?.maxFrameSize ?? Math.min(DEFAULT_MAX_FRAME_SIZE, capacity);
  if (!Number.isSafeInteger(maxFrameSize) || maxFrameSize < 0 || maxFrameSize > capacity) {
    throw new FramingError(
      'INVALID_OPTION',
      `maxFrameSize must be an integer in [0, ${capacity}] for prefix ${prefix}, got ${maxFrameSize}`,
    );
  }
  return { prefix, maxFrameSize };
}
