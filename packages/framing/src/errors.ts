/**
 * Typed errors of @peerkit/framing. Every failure caused by input bytes surfaces as one of
 * these two classes (never another exception), each with a machine-readable `code`.
 */

export type FramingErrorCode =
  /** A length prefix announced a frame larger than `maxFrameSize` (checked before allocating). */
  | 'FRAME_TOO_LARGE'
  /** A varint prefix was longer than 5 bytes, above 2^32-1, or not minimally encoded. */
  | 'BAD_VARINT'
  /** The stream ended inside a length prefix or a frame body. */
  | 'TRUNCATED'
  /** An option was out of range (programming error, e.g. `maxFrameSize` above the prefix's capacity). */
  | 'INVALID_OPTION'
  /** `push()` after `end()` (programming error). */
  | 'ENDED';

/** A frame-level failure: the byte stream cannot be split into frames. */
export class FramingError extends Error {
  override readonly name = 'FramingError';
  readonly code: FramingErrorCode;

  constructor(code: FramingErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export type MessageErrorCode =
  /** Not well-formed msgpack: truncated, the reserved byte 0xc1, or bytes after the value. */
  | 'MALFORMED'
  /** A msgpack extension type (ext/fixext); the codec accepts none. */
  | 'EXTENSION'
  /** Containers nested deeper than any valid message of the schema. */
  | 'TOO_DEEP'
  /** More bytes than `maxMessageSize`, or more values than any valid message of the schema holds. */
  | 'TOO_LARGE'
  /** A value of the wrong kind (e.g. a string where a uint belongs, a non-plain object). */
  | 'WRONG_TYPE'
  /** A required field is absent. */
  | 'MISSING_FIELD'
  /** A field the schema does not declare. */
  | 'UNKNOWN_FIELD'
  /** A number outside its declared range, or not an integer where one is required. */
  | 'OUT_OF_RANGE'
  /** A string, byte string or array longer than its declared maximum. */
  | 'TOO_LONG'
  /** A string, byte string or array shorter than its declared minimum. */
  | 'TOO_SHORT'
  /** A value that is not one of the allowed literals or enum members. */
  | 'BAD_VALUE'
  /** A union's tag names no declared variant. */
  | 'UNKNOWN_VARIANT';

/**
 * A message-level failure: the frame holds bytes that are not a valid message of the schema
 * (decode), or a value handed to `encode` does not match the schema.
 */
export class MessageError extends Error {
  override readonly name = 'MessageError';
  readonly code: MessageErrorCode;
  /** Where in the message the problem is, e.g. `peers[2].id`; `''` for the message itself. */
  readonly path: string;

  constructor(code: MessageErrorCode, message: string, path = '', options?: { cause?: unknown }) {
    super(path === '' ? message : `${path}: ${message}`, options);
    this.code = code;
    this.path = path;
  }
}

export function isFramingError(e: unknown, code?: FramingErrorCode): e is FramingError {
  return e instanceof FramingError && (code === undefined || e.code === code);
}

export function isMessageError(e: unknown, code?: MessageErrorCode): e is MessageError {
  return e instanceof MessageError && (code === undefined || e.code === code);
}
