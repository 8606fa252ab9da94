/**
 * Byte spans: where a value sits in the input, so that its original bytes can be hashed or
 * verified as they came (the BEP 3 info-hash, a BEP 44 `v` value), whatever the decoder mode.
 */
import { bytesToBinary } from './binary';
import { decodeSpanAt } from './decode';
import type { BencodePath, BencodeSpan, DecodeOptions } from './types';

/**
 * Follows `path` (dictionary keys and list indexes) down a span tree from `decodeWithSpans`.
 * Returns `undefined` when the path does not exist.
 */
export function spanAt(span: BencodeSpan, path: BencodePath): BencodeSpan | undefined {
  let node: BencodeSpan | undefined = span;
  for (const step of path) {
    if (node === undefined) return undefined;
    if (typeof step === 'number') {
      node = node.items?.[step];
    } else {
      const key = typeof step === 'string' ? step : bytesToBinary(step);
      // Own keys only: `entries` has a null prototype, and `Object.hasOwn` keeps it that way.
      node = node.entries && Object.hasOwn(node.entries, key) ? node.entries[key] : undefined;
    }
  }
  return node;
}

/**
 * Decodes `bytes` (the whole input must be one valid value under `options`) and returns the
 * span `[start, end)` of the value at `path`, or `undefined` if there is none. Only `start` and
 * `end` are set (no `items`/`entries`); only the path is tracked, so this runs at `decode` speed.
 *
 * @example
 * const info = rawSpan(torrent, ['info'], { strict: false });
 * if (info) infoHash = sha1(torrent.subarray(info.start, info.end));
 */
export function rawSpan(
  bytes: Uint8Array,
  path: BencodePath,
  options?: DecodeOptions,
): BencodeSpan | undefined {
  const target = path.map((step) => (step instanceof Uint8Array ? bytesToBinary(step) : step));
  return decodeSpanAt(bytes, target, options);
}
