/**
 * Binary (latin1) strings: one char per byte, char code = byte value. Dictionary keys are
 * binary strings (see `BencodeDict`); these helpers convert between them and bytes.
 */

const CHUNK = 0x2000;

/** The binary string of `bytes[start..end)`: char i is `String.fromCharCode(bytes[start + i])`. */
export function bytesToBinary(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const n = end - start;
  if (n <= 16) {
    // Short keys ("info", "length", "path", "id"...) are the common case: a direct loop
    // avoids creating a subarray view and the cost of a spread call.
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i] as number);
    return s;
  }
  let s = '';
  for (let i = start; i < end; i += CHUNK) {
    const view = bytes.subarray(i, Math.min(end, i + CHUNK));
    s += String.fromCharCode.apply(null, view as unknown as number[]);
  }
  return s;
}

/**
 * The bytes of a binary string. Returns `undefined` if a char is above U+00FF (such a string
 * names no byte string).
 */
export function binaryToBytes(binary: string): Uint8Array | undefined {
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) {
    const c = binary.charCodeAt(i);
    if (c > 0xff) return undefined;
    out[i] = c;
  }
  return out;
}
