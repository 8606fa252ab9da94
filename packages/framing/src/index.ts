/**
 * @peerkit/framing: length-prefixed stream framing and a validated msgpack message codec.
 */
export {
  type Codec,
  type CodecOptions,
  DEFAULT_MAX_MESSAGE_SIZE,
  defineCodec,
  defineMessage,
} from './codec/codec';
export {
  type AnyArrayField,
  type AnyObjectField,
  type AnyOptionalField,
  type AnyUnionField,
  type ArrayField,
  type ArrayOptions,
  type BoolField,
  type BytesField,
  type EnumField,
  type Field,
  type Fields,
  type FloatField,
  type Infer,
  type InferFields,
  type InferUnion,
  type IntField,
  type LengthOptions,
  type LiteralField,
  type LiteralValue,
  type NumberOptions,
  type ObjectField,
  type OptionalField,
  type StringField,
  t,
  type UintField,
  type UnionField,
  type Variants,
} from './codec/schema';
export { encodeFrame, encodeFramePrefix } from './encode';
export {
  FramingError,
  type FramingErrorCode,
  isFramingError,
  isMessageError,
  MessageError,
  type MessageErrorCode,
} from './errors';
export { FrameDecoder } from './frame-decoder';
export {
  DEFAULT_MAX_FRAME_SIZE,
  type FrameOptions,
  type PrefixKind,
  prefixCapacity,
  prefixLength,
} from './prefix';
export { FrameWriter, type ReadFramesOptions, readFrames, writeFrame } from './stream';
