/**
 * @peerkit/bencode: canonical bencode (BEP 3) with strict and lenient decoding, byte spans,
 * encoding and typed errors.
 */
export { binaryToBytes, bytesToBinary } from './binary';
export { decode, decodePrefix, decodeWithSpans } from './decode';
export { encode } from './encode';
export { BencodeError, type BencodeErrorCode, isBencodeError } from './errors';
export { isBencodeDict } from './guards';
export { DEFAULT_MAX_DEPTH, DEFAULT_MAX_INTEGER_DIGITS, MAX_DEPTH_LIMIT } from './limits';
export { rawSpan, spanAt } from './spans';
export type {
  BencodeDict,
  BencodeInput,
  BencodeInputDict,
  BencodePath,
  BencodeSpan,
  BencodeValue,
  DecodeOptions,
  EncodeOptions,
} from './types';
