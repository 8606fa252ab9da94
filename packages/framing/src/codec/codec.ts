/**
 * The message codec: declared message shapes on the wire as plain msgpack, via msgpackr.
 *
 * decode = size check → structural scan (no extensions, bounded depth and values) → msgpackr
 * `unpack` → compiled validator. It returns a fully validated value or throws `MessageError`;
 * msgpackr's own exceptions are caught and converted, so nothing else escapes.
 * encode validates first (a peer never receives what it would reject), then packs.
 */
import { type Options, Packr, Unpackr } from 'msgpackr';
import { MessageError } from '../errors';
import {
  SCAN_EXTENSION,
  SCAN_MALFORMED,
  SCAN_OK,
  SCAN_TOO_DEEP,
  SCAN_TOO_LARGE,
  scanMsgpack,
} from './scan';
import {
  type Field,
  type Fields,
  type Infer,
  type InferFields,
  schemaDepth,
  schemaHasBytes,
  schemaMaxValues,
  t,
} from './schema';
import { compile, Failure } from './validate';

/**
 * Messages up to this size are decoded from a copy in a buffer the codec reuses (when nothing
 * decoded can be a view of it, see `decodeChecked`). msgpackr reads short strings and map keys
 * in JavaScript, with its key cache, only when its input ends before byte 140; from a range
 * further into a chunk it calls its native string extractor instead, which costs more than
 * the whole decode of a small message.
 */
const SMALL_MESSAGE = 128;

/** Default `maxMessageSize`: 1 MiB, the default frame limit. */
export const DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024;

export interface CodecOptions {
  /** Largest encoded message accepted by `decode` (and produced by `encode`); default 1 MiB. */
  maxMessageSize?: number;
  /**
   * Decoded `bytes` fields are views of the input by default (no copy); set `true` to copy them,
   * e.g. when the input buffer will be reused.
   */
  copyBytes?: boolean;
}

export interface Codec<T> {
  readonly schema: Field;
  /** Largest nesting depth and value count of a valid message (the structural limits). */
  readonly maxDepth: number;
  readonly maxValues: number;
  readonly maxMessageSize: number;
  /** Validates and encodes; throws `MessageError` (`WRONG_TYPE`, `TOO_LARGE`, ...). */
  encode(message: T): Uint8Array;
  /** Decodes and validates; returns a valid message or throws `MessageError`. */
  decode(bytes: Uint8Array): T;
  /**
   * Like `decode(bytes.subarray(start, end))` without making that view: for frames decoded in
   * place (`FrameDecoder.decodeEach`). Throws `RangeError` if the range is not inside `bytes`
   * (a programming error), otherwise returns a valid message or throws `MessageError`.
   */
  decodeRange(bytes: Uint8Array, start: number, end: number): T;
  /** Returns `value` typed as a message, or throws `MessageError`. */
  validate(value: unknown): T;
  /** True when `value` is a valid message. */
  is(value: unknown): value is T;
}

const SCAN_ERRORS = {
  [SCAN_MALFORMED]: ['MALFORMED', 'not a single well-formed msgpack value'],
  [SCAN_EXTENSION]: ['EXTENSION', 'msgpack extension types are not accepted'],
  [SCAN_TOO_DEEP]: ['TOO_DEEP', 'nested deeper than the schema allows'],
  [SCAN_TOO_LARGE]: ['TOO_LARGE', 'more values than the schema allows'],
} as const;

/**
 * msgpackr 2.1.4 documents `int64AsType: 'auto'` and `skipValues` (README, "Options") and
 * implements them, but its `Options` type does not list them yet.
 */
type DocumentedOptions = Omit<Options, 'int64AsType'> & {
  int64AsType?: 'bigint' | 'number' | 'string' | 'auto';
  skipValues?: unknown[];
};
function msgpackrOptions(options: DocumentedOptions): Options {
  return options as Options;
}

/**
 * The entry count of the map whose header is at `bytes[start]` (the scan has checked that the
 * header is complete), or -1 when the value is not a map.
 */
function mapEntries(bytes: Uint8Array, start: number): number {
  const head = bytes[start]!;
  if (head >= 0x80 && head < 0x90) return head & 0x0f; // fixmap
  if (head === 0xde) return (bytes[start + 1]! << 8) | bytes[start + 2]!; // map 16
  if (head === 0xdf) return readUint32(bytes, start + 1); // map 32
  return -1;
}

function readUint32(bytes: Uint8Array, pos: number): number {
  return (
    bytes[pos]! * 0x1000000 + ((bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!)
  );
}

/** Builds the codec of a schema (any field; usually an object or a union). */
export function defineCodec<F extends Field>(schema: F, options?: CodecOptions): Codec<Infer<F>> {
  const maxMessageSize = options?.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  if (!Number.isSafeInteger(maxMessageSize) || maxMessageSize < 1) {
    throw new TypeError(`maxMessageSize must be a positive integer, got ${maxMessageSize}`);
  }
  const maxDepth = schemaDepth(schema);
  const maxValues = schemaMaxValues(schema);
  const stack = new Int32Array(maxDepth + 1);
  const fail = new Failure();
  const check = compile(schema, fail);
  // Plain msgpack only: maps as plain objects, no records, no structured clone, 64-bit integers
  // as numbers when safe (anything larger stays a bigint, which no field accepts).
  const unpackr = new Unpackr(
    msgpackrOptions({
      useRecords: false,
      mapsAsObjects: true,
      structuredClone: false,
      moreTypes: false,
      int64AsType: 'auto',
      copyBuffers: options?.copyBytes ?? false,
    }),
  );
  // `skipValues` leaves `undefined` fields out (they are absent), and writes the smallest map
  // headers; validated values are only numbers, strings, booleans, bytes, arrays and maps.
  const packr = new Packr(
    msgpackrOptions({
      useRecords: false,
      structuredClone: false,
      moreTypes: false,
      skipValues: [undefined],
    }),
  );

  /*
   * msgpackr caches a DataView on each input it sees. Frames arrive as fresh views of the chunk
   * they came in, so handing it each view would build a DataView per message (and a hidden-class
   * change); that alone costs more than the whole validation. Instead the codec hands msgpackr
   * one view over the entire underlying buffer, with the message as a start/end range: all the
   * messages of a chunk share that view. msgpackr is also markedly slower (about 0.2 us) on
   * an input object it has not seen before, so the views of the two most recent buffers are
   * kept (and with them those buffers: at most two chunks' worth of memory).
   */
  let lastBuffer: ArrayBufferLike | undefined;
  let lastWhole: Uint8Array = new Uint8Array(0);
  let previousBuffer: ArrayBufferLike | undefined;
  let previousWhole: Uint8Array = lastWhole;
  const range = { start: 0, end: 0 };
  // The last input seen and its offset in `lastBuffer`: messages decoded in place from one
  // chunk (`decodeRange`) skip the `buffer` / `byteOffset` getters (about 15 ns).
  let lastBytes: Uint8Array | undefined;
  let lastOffset = 0;
  // The reusable copy for small messages. Only when no valid message holds a view of its input:
  // the schema has no bytes fields, or they are copied (`copyBytes`). A message that carries
  // bytes anyway fails validation and is dropped.
  const copySmall = !schemaHasBytes(schema) || (options?.copyBytes ?? false);
  const small = new Uint8Array(SMALL_MESSAGE);
  const smallRange = { start: 0, end: 0 };

  function validate(value: unknown): Infer<F> {
    if (!check(value)) throw fail.toError();
    return value as Infer<F>;
  }

  /** Decodes `bytes[start, end)`; the caller has checked the range. */
  function decodeChecked(bytes: Uint8Array, start: number, end: number): Infer<F> {
    if (end - start > maxMessageSize) {
      throw new MessageError(
        'TOO_LARGE',
        `message of ${end - start} bytes exceeds maxMessageSize ${maxMessageSize}`,
      );
    }
    const scanned = scanMsgpack(bytes, start, end, maxDepth, maxValues, stack);
    if (scanned !== SCAN_OK) {
      const [code, message] = SCAN_ERRORS[scanned];
      throw new MessageError(code, message);
    }
    const length = end - start;
    if (copySmall && length <= SMALL_MESSAGE) {
      for (let i = 0; i < length; i++) small[i] = bytes[start + i]!;
      smallRange.end = length;
      return unpackAndCheck(small, smallRange, bytes, start);
    }
    if (bytes !== lastBytes) {
      const buffer = bytes.buffer;
      if (buffer !== lastBuffer) {
        // Two buffers are remembered: a frame that spanned chunks comes in a copy of its own,
        // and the frames after it come from the chunk's buffer again.
        const whole = buffer === previousBuffer ? previousWhole : new Uint8Array(buffer);
        previousBuffer = lastBuffer;
        previousWhole = lastWhole;
        lastBuffer = buffer;
        lastWhole = whole;
      }
      lastBytes = bytes;
      lastOffset = bytes.byteOffset;
    }
    range.start = lastOffset + start;
    range.end = lastOffset + end; // > start: the scan rejected empty input
    return unpackAndCheck(lastWhole, range, bytes, start);
  }

  /** msgpackr, then the validator; `bytes[start]` is the message's first byte. */
  function unpackAndCheck(
    source: Uint8Array,
    sourceRange: { start: number; end: number },
    bytes: Uint8Array,
    start: number,
  ): Infer<F> {
    let value: unknown;
    try {
      value = unpackr.unpack(source, sourceRange);
    } catch (error) {
      // E.g. a map key that is not a string or number.
      throw new MessageError('MALFORMED', 'msgpackr rejected the message', '', { cause: error });
    }
    if (!check(value, mapEntries(bytes, start))) throw fail.toError();
    return value as Infer<F>;
  }

  return {
    schema,
    maxDepth,
    maxValues,
    maxMessageSize,
    encode(message: Infer<F>): Uint8Array {
      validate(message);
      let bytes: Uint8Array;
      try {
        bytes = packr.pack(message);
      } catch (error) {
        throw new MessageError('WRONG_TYPE', 'msgpackr could not encode the message', '', {
          cause: error,
        });
      }
      if (bytes.length > maxMessageSize) {
        throw new MessageError(
          'TOO_LARGE',
          `encoded message of ${bytes.length} bytes exceeds maxMessageSize ${maxMessageSize}`,
        );
      }
      return bytes;
    },
    decode(bytes: Uint8Array): Infer<F> {
      return decodeChecked(bytes, 0, bytes.length);
    },
    decodeRange(bytes: Uint8Array, start: number, end: number): Infer<F> {
      if (
        !(
          Number.isInteger(start) &&
          Number.isInteger(end) &&
          0 <= start &&
          start <= end &&
          end <= bytes.length
        )
      ) {
        throw new RangeError(`range [${start}, ${end}) is not inside ${bytes.length} bytes`);
      }
      return decodeChecked(bytes, start, end);
    },
    validate,
    is(value: unknown): value is Infer<F> {
      return check(value);
    },
  };
}

/** Shorthand: the codec of `t.object(fields)`. */
export function defineMessage<const S extends Fields>(
  fields: S,
  options?: CodecOptions,
): Codec<InferFields<S>> {
  return defineCodec(t.object(fields), options);
}
