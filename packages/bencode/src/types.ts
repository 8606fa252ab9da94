/**
 * A decoded bencode value (BEP 3 "bencoding"):
 * - integers are `number`, or `bigint` when beyond ±(2^53 - 1) (BEP 3: "Integers have no size limitation");
 * - byte strings are `Uint8Array` views into the input (no copy);
 * - lists are arrays;
 * - dictionaries are {@link BencodeDict}.
 */
export type BencodeValue = number | bigint | Uint8Array | BencodeValue[] | BencodeDict;

/**
 * A decoded dictionary: a null-prototype object whose property names are the raw key bytes as
 * *binary* strings (latin1: one char per byte, char code = byte value).
 *
 * Why binary strings: the mapping is lossless for any key bytes (keys are arbitrary byte
 * strings in BEP 3, even `61 00 62`), sorts exactly like the raw bytes, and reads naturally for
 * the ASCII keys every BitTorrent and KRPC message uses: `dict.info`, `dict['piece length']`,
 * `msg.y`. The null prototype means a key such as `__proto__` or `constructor` is just a key.
 */
export interface BencodeDict {
  [key: string]: BencodeValue;
}

/**
 * What `encode` accepts: everything {@link BencodeValue} is, plus JS strings (written as UTF-8),
 * any integer-valued bigint, and `Map`s keyed by binary strings or `Uint8Array`s. Entries of a
 * dictionary (object or Map) whose value is `undefined` are left out.
 */
export type BencodeInput =
  | number
  | bigint
  | string
  | Uint8Array
  | readonly BencodeInput[]
  | ReadonlyMap<string | Uint8Array, BencodeInput | undefined>
  | BencodeInputDict;

/** A plain object to encode as a dictionary; property names are binary strings (chars ≤ U+00FF). */
export interface BencodeInputDict {
  readonly [key: string]: BencodeInput | undefined;
}

export interface DecodeOptions {
  /**
   * Strict (the default) accepts only canonical BEP 3 bencode: sorted, unique keys; no leading
   * zeros in integers or string lengths; no `i-0e`. `strict: false` accepts those forms (as real
   * torrents and clients produce them) and still rejects malformed syntax.
   */
  strict?: boolean;
  /** Maximum nesting of lists and dictionaries (`le` has depth 1). Default 64, at most 1024 (`MAX_DEPTH_LIMIT`). */
  maxDepth?: number;
  /** Maximum number of values (integers, strings, lists, dictionaries; not keys). Default: unlimited. */
  maxItems?: number;
  /** Maximum number of digits of one integer (bounds bigint parsing). Default 1024. */
  maxIntegerDigits?: number;
}

export interface EncodeOptions {
  /** Maximum nesting of lists and dictionaries; also stops cyclic structures. Default 64, at most 1024. */
  maxDepth?: number;
}

/**
 * The exact byte range `[start, end)` of one value in the input, with the ranges of its
 * children: `items` for a list, `entries` (keyed like the decoded dictionary) for a dictionary.
 */
export interface BencodeSpan {
  readonly start: number;
  readonly end: number;
  readonly items?: readonly BencodeSpan[];
  readonly entries?: { readonly [key: string]: BencodeSpan };
}

/** A path to a value: dictionary keys (binary strings or bytes) and list indexes. */
export type BencodePath = readonly (string | Uint8Array | number)[];
