/**
 * Hex text of bytes, peerkit's one copy: for map keys, logs, saved state and the hex forms that
 * users type (info-hashes, node ids, public keys). Packages wrap `parseHex` to throw their own
 * typed error.
 */

/** Lowercase hex of `bytes` (only the view's own bytes, never the rest of its buffer). */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** The bytes of `text` (even length, hex digits in either case), or undefined for anything else. */
export function parseHex(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'hex'));
}
