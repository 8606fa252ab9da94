/**
 * Peer wire messages (BEP 3 "peer messages", BEP 6 fast extension, BEP 10 extended) and their
 * encoders. Every message on the wire is `<length: uint32be><id: uint8><payload>`; a length of 0
 * is a keep-alive. The decoder for a single message body is `decodeMessage`; the streaming decoder
 * is `WireDecoder` (./decoder).
 */

/** Message ids (BEP 3, BEP 5 `port`, BEP 6, BEP 10). */
export const MessageId = {
  choke: 0,
  unchoke: 1,
  interested: 2,
  notInterested: 3,
  have: 4,
  bitfield: 5,
  request: 6,
  piece: 7,
  cancel: 8,
  /** BEP 5: the DHT port of the sender. */
  port: 9,
  /** BEP 6 fast extension. */
  suggest: 13,
  haveAll: 14,
  haveNone: 15,
  reject: 16,
  allowedFast: 17,
  /** BEP 10 extension protocol. */
  extended: 20,
} as const;

export type MessageType =
  | 'keepAlive'
  | 'choke'
  | 'unchoke'
  | 'interested'
  | 'notInterested'
  | 'have'
  | 'bitfield'
  | 'request'
  | 'piece'
  | 'cancel'
  | 'port'
  | 'suggest'
  | 'haveAll'
  | 'haveNone'
  | 'reject'
  | 'allowedFast'
  | 'extended'
  | 'unknown';

/** A zero-length message: keeps the connection open (BEP 3, sent every ~2 minutes). */
export interface KeepAliveMessage {
  type: 'keepAlive';
}
export interface ChokeMessage {
  type: 'choke';
}
export interface UnchokeMessage {
  type: 'unchoke';
}
export interface InterestedMessage {
  type: 'interested';
}
export interface NotInterestedMessage {
  type: 'notInterested';
}
/** BEP 6: the sender has every piece (replaces a bitfield right after the handshake). */
export interface HaveAllMessage {
  type: 'haveAll';
}
/** BEP 6: the sender has no piece. */
export interface HaveNoneMessage {
  type: 'haveNone';
}
/** The sender completed and verified piece `index`. */
export interface HaveMessage {
  type: 'have';
  index: number;
}
/** BEP 6: the sender suggests downloading piece `index`. */
export interface SuggestMessage {
  type: 'suggest';
  index: number;
}
/** BEP 6: piece `index` may be requested even while the receiver is choked. */
export interface AllowedFastMessage {
  type: 'allowedFast';
  index: number;
}
/**
 * The raw bitfield bytes, high bit of the first byte = piece 0. A view into the received data:
 * copy it (e.g. `Bitfield.fromBytes`) before keeping it.
 */
export interface BitfieldMessage {
  type: 'bitfield';
  bitfield: Uint8Array;
}
/** A block request: `length` bytes of piece `index` starting at `begin`. */
export interface RequestMessage {
  type: 'request';
  index: number;
  begin: number;
  length: number;
}
/** Cancels an earlier request with the same (index, begin, length). */
export interface CancelMessage {
  type: 'cancel';
  index: number;
  begin: number;
  length: number;
}
/** BEP 6: the sender will not serve this request. */
export interface RejectMessage {
  type: 'reject';
  index: number;
  begin: number;
  length: number;
}
/**
 * A block of data. `block` is a view into the received bytes whenever the message arrived in one
 * chunk (zero copy): write or copy it before the next chunk is pushed if you need to keep it.
 */
export interface PieceMessage {
  type: 'piece';
  index: number;
  begin: number;
  block: Uint8Array;
}
/** BEP 5: the UDP port of the sender's DHT node. */
export interface PortMessage {
  type: 'port';
  port: number;
}
/**
 * BEP 10: an extension message. `id` 0 is the extension handshake; other ids are the ones the
 * receiver assigned in its own handshake's `m` dictionary. `payload` is a view.
 */
export interface ExtendedMessage {
  type: 'extended';
  id: number;
  payload: Uint8Array;
}
/** A message id this package does not know (only when the decoder is told to pass them on). */
export interface UnknownMessage {
  type: 'unknown';
  id: number;
  payload: Uint8Array;
}

export type WireMessage =
  | KeepAliveMessage
  | ChokeMessage
  | UnchokeMessage
  | InterestedMessage
  | NotInterestedMessage
  | HaveAllMessage
  | HaveNoneMessage
  | HaveMessage
  | SuggestMessage
  | AllowedFastMessage
  | BitfieldMessage
  | RequestMessage
  | CancelMessage
  | RejectMessage
  | PieceMessage
  | PortMessage
  | ExtendedMessage
  | UnknownMessage;

/** Bytes of the length prefix. */
export const LENGTH_PREFIX_BYTES = 4;
/**
 * The block: the unit of `request` and `piece` (BEP 3: "All current implementations use 2^14
 * (16 kiB)"). peerkit's one home for the number; every 16 KiB in the package is this constant.
 */
export const BLOCK_LENGTH = 16384;

function header(length: number, id: number, capacity = 0): Uint8Array {
  const bytes = new Uint8Array(4 + Math.max(length, capacity));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(0, length);
  if (length > 0) bytes[4] = id;
  return bytes;
}

function emptyMessage(id: number): Uint8Array {
  return header(1, id);
}

/**
 * Prebuilt constant messages. Shared instances: never mutate them (write them to a socket as is).
 */
export const KEEP_ALIVE: Uint8Array = new Uint8Array(4);
export const CHOKE: Uint8Array = emptyMessage(MessageId.choke);
export const UNCHOKE: Uint8Array = emptyMessage(MessageId.unchoke);
export const INTERESTED: Uint8Array = emptyMessage(MessageId.interested);
export const NOT_INTERESTED: Uint8Array = emptyMessage(MessageId.notInterested);
export const HAVE_ALL: Uint8Array = emptyMessage(MessageId.haveAll);
export const HAVE_NONE: Uint8Array = emptyMessage(MessageId.haveNone);

function assertUint32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${name} must be a uint32, got ${value}`);
  }
}

function indexMessage(id: number, index: number): Uint8Array {
  assertUint32('index', index);
  const bytes = header(5, id);
  new DataView(bytes.buffer).setUint32(5, index);
  return bytes;
}

function blockMessage(id: number, index: number, begin: number, length: number): Uint8Array {
  assertUint32('index', index);
  assertUint32('begin', begin);
  assertUint32('length', length);
  const bytes = header(13, id);
  const view = new DataView(bytes.buffer);
  view.setUint32(5, index);
  view.setUint32(9, begin);
  view.setUint32(13, length);
  return bytes;
}

export function encodeHave(index: number): Uint8Array {
  return indexMessage(MessageId.have, index);
}
export function encodeSuggest(index: number): Uint8Array {
  return indexMessage(MessageId.suggest, index);
}
export function encodeAllowedFast(index: number): Uint8Array {
  return indexMessage(MessageId.allowedFast, index);
}
export function encodeRequest(index: number, begin: number, length: number): Uint8Array {
  return blockMessage(MessageId.request, index, begin, length);
}
export function encodeCancel(index: number, begin: number, length: number): Uint8Array {
  return blockMessage(MessageId.cancel, index, begin, length);
}
export function encodeReject(index: number, begin: number, length: number): Uint8Array {
  return blockMessage(MessageId.reject, index, begin, length);
}

/** A `bitfield` message from raw bitfield bytes (e.g. `Bitfield.bytes`). */
export function encodeBitfield(bitfield: Uint8Array): Uint8Array {
  const bytes = header(1 + bitfield.length, MessageId.bitfield);
  bytes.set(bitfield, 5);
  return bytes;
}

/** A whole `piece` message in one buffer (copies `block`). */
export function encodePiece(index: number, begin: number, block: Uint8Array): Uint8Array {
  const bytes = encodePieceHeader(index, begin, block.length, block.length);
  bytes.set(block, 13);
  return bytes;
}

/**
 * Only the 13-byte header of a `piece` message for a block of `blockLength` bytes, so that the
 * header and the block can be written back to back without copying the block. `capacity` extra
 * bytes are allocated after the header (used by `encodePiece`).
 */
export function encodePieceHeader(
  index: number,
  begin: number,
  blockLength: number,
  capacity = 0,
): Uint8Array {
  assertUint32('index', index);
  assertUint32('begin', begin);
  if (!Number.isInteger(blockLength) || blockLength < 0 || blockLength > 0xffffffff - 9) {
    throw new RangeError(`block length out of range: ${blockLength}`);
  }
  const bytes = new Uint8Array(13 + capacity);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 9 + blockLength);
  bytes[4] = MessageId.piece;
  view.setUint32(5, index);
  view.setUint32(9, begin);
  return bytes;
}

export function encodePort(port: number): Uint8Array {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new RangeError(`port must be a uint16, got ${port}`);
  }
  const bytes = header(3, MessageId.port);
  new DataView(bytes.buffer).setUint16(5, port);
  return bytes;
}

/** A BEP 10 extended message: id 20, then the extended message id, then the payload. */
export function encodeExtended(id: number, payload: Uint8Array): Uint8Array {
  if (!Number.isInteger(id) || id < 0 || id > 255) {
    throw new RangeError(`extended message id must be a uint8, got ${id}`);
  }
  const bytes = header(2 + payload.length, MessageId.extended);
  bytes[5] = id;
  bytes.set(payload, 6);
  return bytes;
}

/** Encodes any message into one buffer. Constant messages return the shared prebuilt buffers. */
export function encodeMessage(message: WireMessage): Uint8Array {
  switch (message.type) {
    case 'keepAlive':
      return KEEP_ALIVE;
    case 'choke':
      return CHOKE;
    case 'unchoke':
      return UNCHOKE;
    case 'interested':
      return INTERESTED;
    case 'notInterested':
      return NOT_INTERESTED;
    case 'haveAll':
      return HAVE_ALL;
    case 'haveNone':
      return HAVE_NONE;
    case 'have':
      return encodeHave(message.index);
    case 'suggest':
      return encodeSuggest(message.index);
    case 'allowedFast':
      return encodeAllowedFast(message.index);
    case 'bitfield':
      return encodeBitfield(message.bitfield);
    case 'request':
      return encodeRequest(message.index, message.begin, message.length);
    case 'cancel':
      return encodeCancel(message.index, message.begin, message.length);
    case 'reject':
      return encodeReject(message.index, message.begin, message.length);
    case 'piece':
      return encodePiece(message.index, message.begin, message.block);
    case 'port':
      return encodePort(message.port);
    case 'extended':
      return encodeExtended(message.id, message.payload);
    case 'unknown': {
      if (!Number.isInteger(message.id) || message.id < 0 || message.id > 255) {
        throw new RangeError(`message id must be a uint8, got ${message.id}`);
      }
      const bytes = header(1 + message.payload.length, message.id);
      bytes.set(message.payload, 5);
      return bytes;
    }
  }
}
