/**
 * The first, straightforward version of the codec's structural scan, kept as the reference
 * model for the optimised `scanMsgpack` (test/scan.prop.test.ts checks that both agree).
 */
import {
  SCAN_EXTENSION,
  SCAN_MALFORMED,
  SCAN_OK,
  SCAN_TOO_DEEP,
  SCAN_TOO_LARGE,
  type ScanResult,
} from '../src/codec/scan';

/**
 * Checks that `bytes[start, end)` hold exactly one well-formed, extension-free msgpack value.
 * `stack` must have at least `maxDepth + 1` entries; it is scratch space (no allocation here).
 * The caller guarantees `0 <= start <= end <= bytes.length`.
 */
export function scanMsgpackReference(
  bytes: Uint8Array,
  start: number,
  end: number,
  maxDepth: number,
  maxValues: number,
  stack: Int32Array,
): ScanResult {
  let pos = start;
  let depth = 0;
  let values = 0;
  // stack[d]: values still to read in the container open at depth d (depth 0: the message).
  stack[0] = 1;
  for (;;) {
    while (stack[depth] === 0) {
      if (depth === 0) return pos === end ? SCAN_OK : SCAN_MALFORMED;
      depth--;
    }
    stack[depth]!--;
    if (pos >= end) return SCAN_MALFORMED;
    if (++values > maxValues) return SCAN_TOO_LARGE;
    const b = bytes[pos++]!;
    let children: number;
    if (b < 0x80 || b >= 0xe0) continue; // positive / negative fixint
    if (b < 0x90) {
      children = (b & 0x0f) * 2; // fixmap: key and value per entry
    } else if (b < 0xa0) {
      children = b & 0x0f; // fixarray
    } else if (b < 0xc0) {
      pos += b & 0x1f; // fixstr
      if (pos > end) return SCAN_MALFORMED;
      continue;
    } else {
      switch (b) {
        case 0xc0: // nil
        case 0xc2: // false
        case 0xc3: // true
          continue;
        case 0xc1:
          return SCAN_MALFORMED;
        case 0xc4: // bin 8
        case 0xd9: // str 8
          if (pos + 1 > end) return SCAN_MALFORMED;
          pos += 1 + bytes[pos]!;
          if (pos > end) return SCAN_MALFORMED;
          continue;
        case 0xc5: // bin 16
        case 0xda: // str 16
          if (pos + 2 > end) return SCAN_MALFORMED;
          pos += 2 + ((bytes[pos]! << 8) | bytes[pos + 1]!);
          if (pos > end) return SCAN_MALFORMED;
          continue;
        case 0xc6: // bin 32
        case 0xdb: // str 32
          if (pos + 4 > end) return SCAN_MALFORMED;
          pos += 4 + readUint32(bytes, pos);
          if (pos > end) return SCAN_MALFORMED;
          continue;
        case 0xcc: // uint 8
        case 0xd0: // int 8
          pos += 1;
          if (pos > end) return SCAN_MALFORMED;
          continue;
        case 0xcd: // uint 16
        case 0xd1: // int 16
          pos += 2;
          if (pos > end) return SCAN_MALFORMED;
          continue;
        case 0xca: // float 32
        case 0xce: // uint 32
        case 0xd2: // int 32
          pos += 4;
          if (pos > end) return SCAN_MALFORMED;
          continue;
        case 0xcb: // float 64
        case 0xcf: // uint 64
        case 0xd3: // int 64
          pos += 8;
          if (pos > end) return SCAN_MALFORMED;
          continue;
        case 0xdc: // array 16
          if (pos + 2 > end) return SCAN_MALFORMED;
          children = (bytes[pos]! << 8) | bytes[pos + 1]!;
          pos += 2;
          break;
        case 0xdd: // array 32
          if (pos + 4 > end) return SCAN_MALFORMED;
          children = readUint32(bytes, pos);
          pos += 4;
          break;
        case 0xde: // map 16
          if (pos + 2 > end) return SCAN_MALFORMED;
          children = ((bytes[pos]! << 8) | bytes[pos + 1]!) * 2;
          pos += 2;
          break;
        case 0xdf: // map 32
          if (pos + 4 > end) return SCAN_MALFORMED;
          children = readUint32(bytes, pos) * 2;
          pos += 4;
          break;
        default:
          return SCAN_EXTENSION; // 0xc7-0xc9 ext 8/16/32, 0xd4-0xd8 fixext 1-16
      }
    }
    if (children === 0) continue;
    // Every value takes at least one byte: a count beyond what remains can never be satisfied.
    if (children > end - pos) return SCAN_MALFORMED;
    if (depth >= maxDepth) return SCAN_TOO_DEEP;
    stack[++depth] = children;
  }
}

function readUint32(bytes: Uint8Array, pos: number): number {
  return (
    bytes[pos]! * 0x1000000 + ((bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!)
  );
}
