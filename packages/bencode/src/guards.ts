import type { BencodeDict, BencodeValue } from './types';

/** True for a decoded dictionary (not a list, byte string or integer). */
export function isBencodeDict(value: BencodeValue | undefined): value is BencodeDict {
  return typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array);
}
