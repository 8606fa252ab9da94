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
  schemaMaxValues,
  t,
} from './schema';
import { compile, Failure } from './validate';

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
   * messages of a chunk share that view. Only the most recent buffer is remembered.
   */
  let lastBuffer: ArrayBufferLike | undefined;
  let lastWhole: Uint8Array = new Uint8Array(0);
  const range = { start: 0, end: 0 };
  function wholeBuffer(bytes: Uint8Array): Uint8Array {
    if (bytes.buffer !== lastBuffer) {
      lastBuffer = bytes.buffer;
      lastWhole = new Uint8Array(bytes.buffer);
    }
    range.start = bytes.byteOffset;
    range.end = bytes.byteOffset + bytes.length; // > start: the scan rejected empty input
    return lastWhole;
  }

  function validate(value: unknown): Infer<F> {
    if (!check(value)) throw fail.toError();
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
      if (bytes.length > maxMessageSize) {
        throw new MessageError(
          'TOO_LARGE',
          `message of ${bytes.length} bytes exceeds maxMessageSize ${maxMessageSize}`,
        );
      }
      const scanned = scanMsgpack(bytes, maxDepth, maxValues, stack);
      if (scanned !== SCAN_OK) {
        const [code, message] = SCAN_ERRORS[scanned];
        throw new MessageError(code, message);
      }
      let value: unknown;
      try {
        value = unpackr.unpack(wholeBuffer(bytes), range);
      } catch (error) {
        // E.g. a map key that is not a string or number.
        throw new MessageError('MALFORMED', 'msgpackr rejected the message', '', { cause: error });
      }
      return validate(value);
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
