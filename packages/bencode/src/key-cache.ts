/**
 * Dictionary keys repeat: every file entry of a torrent has `length` and `path`, every KRPC
 * message `t`, `y`, `id`. A small cache, indexed by a cheap hash of the key bytes, hands back
 * the string built last time when the bytes match (a byte-by-byte check, so a hash collision
 * only costs a rebuild). That saves building and internalising the same string again and makes
 * key decoding about three times faster. The cache holds at most 512 short strings.
 */
import { bytesToBinary } from './binary';

const SIZE = 512;
const MAX_CACHED_LENGTH = 32;
const cache: string[] = new Array<string>(SIZE).fill('');

/** The binary string of `bytes[start..end)`, reusing an equal cached string when there is one. */
export function keyString(bytes: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n === 0) return '';
  if (n > MAX_CACHED_LENGTH) return bytesToBinary(bytes, start, end);
  const first = bytes[start] as number;
  const last = bytes[end - 1] as number;
  const middle = bytes[start + (n >> 1)] as number;
  const slot = (n * 61 + first * 7 + last * 3 + middle) & (SIZE - 1);
  const cached = cache[slot] as string;
  if (cached.length === n) {
    let i = 0;
    while (i < n && cached.charCodeAt(i) === bytes[start + i]) i++;
    if (i === n) return cached;
  }
  const key = bytesToBinary(bytes, start, end);
  cache[slot] = key;
  return key;
}
