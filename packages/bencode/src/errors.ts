/**
 * Every failure of `decode`, `encode` and the span helpers is a `BencodeError` whose `code`
 * says what went wrong and whose `offset` says where.
 *
 * - Decoding: `offset` is the index in the input of the byte where the problem was found
 *   (for `UNEXPECTED_END`, the input length: the place where more bytes were needed).
 * - Encoding: `offset` is the index in the output where the offending value would have started.
 */
export type BencodeErrorCode =
  // --- decoding: malformed syntax (rejected in strict and lenient mode) ---
  /** The input ended inside a value (this includes empty input and string lengths past the end). */
  | 'UNEXPECTED_END'
  /** A byte that cannot start a value (a value starts with `i`, `l`, `d` or a digit). */
  | 'EXPECTED_VALUE'
  /** An integer or a string length holds something other than decimal digits (`ie`, `i-e`, `i1-2e`). */
  | 'EXPECTED_DIGIT'
  /** A string length is not followed by `:`. */
  | 'EXPECTED_COLON'
  /** A dictionary key is not a byte string (BEP 3: "keys must be strings"). */
  | 'KEY_NOT_STRING'
  /** Bytes follow the one top-level value (`decodePrefix` allows them). */
  | 'TRAILING_DATA'
  // --- decoding: non-canonical forms (rejected in strict mode only) ---
  /** An integer (`i03e`) or a string length (`03:abc`) with a leading zero (BEP 3). */
  | 'LEADING_ZERO'
  /** `i-0e` (BEP 3: "i-0e is invalid"). */
  | 'NEGATIVE_ZERO'
  /** Dictionary keys not in ascending raw-byte order (BEP 3: "Keys must be strings and appear in sorted order"). */
  | 'UNSORTED_KEYS'
  /** The same key twice in one dictionary. */
  | 'DUPLICATE_KEY'
  // --- limits (decode and encode) ---
  /** Lists/dictionaries nested deeper than `maxDepth` (also catches cycles when encoding). */
  | 'DEPTH_LIMIT'
  /** More values than `maxItems` in one input. */
  | 'ITEM_LIMIT'
  /** An integer with more digits than `maxIntegerDigits`. */
  | 'INTEGER_LIMIT'
  // --- encoding ---
  /** A value bencode cannot represent: boolean, null, undefined in a list, function, symbol, class instance... */
  | 'UNSUPPORTED_TYPE'
  /** A number that is not a safe integer (fractions, NaN, Infinity, beyond 2^53: use a bigint). */
  | 'INVALID_INTEGER'
  /** A dictionary key string with a character above U+00FF (keys are binary strings, one byte per char). */
  | 'INVALID_KEY';

export class BencodeError extends Error {
  override readonly name = 'BencodeError';
  readonly code: BencodeErrorCode;
  readonly offset: number;

  constructor(code: BencodeErrorCode, offset: number, message: string) {
    super(`${message} (${code} at offset ${offset})`);
    this.code = code;
    this.offset = offset;
  }
}

/** True when `e` is a `BencodeError` (with the given `code`, if one is given). */
export function isBencodeError(e: unknown, code?: BencodeErrorCode): e is BencodeError {
  return e instanceof BencodeError && (code === undefined || e.code === code);
}
