/**
 * Decoding peer wire messages: `decodeMessage` for one message body (id + payload) and
 * `WireDecoder`, a streaming decoder that waits until the next length prefix, then the next whole
 * message, is buffered and parses it (the approach of webtorrent's bittorrent-protocol). A `piece`
 * block is a zero-copy view whenever its message arrived inside one pushed chunk.
 *
 * Every input gives messages or a `WireError`; the session turns an error into a disconnect.
 * Validation is syntactic plus, once the torrent is known (`torrent` option / `setTorrent`), piece
 * indices and block ranges. Which message is allowed when (e.g. `bitfield` only first, fast messages
 * only after the fast bit) is the session's decision: aria2 sends `bitfield`/`have all` mid-
 * connection and libtorrent tolerates it, so this decoder never refuses a message for its position.
 */
import { byteLengthFor } from '../bitfield';
import { WireError } from '../errors';
import {
  checkProtocolHeader,
  decodeHandshake,
  HANDSHAKE_LENGTH,
  type Handshake,
} from './handshake';
import { BLOCK_LENGTH, MessageId, type WireMessage } from './messages';

/** The piece geometry the decoder checks indices and offsets against. */
export interface TorrentGeometry {
  pieceCount: number;
  pieceLength: number;
  /** Length of the last piece (total length − (pieceCount − 1) × pieceLength). */
  lastPieceLength: number;
}

/** The geometry of a torrent of `totalLength` bytes in pieces of `pieceLength`. */
export function torrentGeometry(totalLength: number, pieceLength: number): TorrentGeometry {
  const pieceCount = Math.ceil(totalLength / pieceLength);
  const lastPieceLength = pieceCount === 0 ? 0 : totalLength - (pieceCount - 1) * pieceLength;
  return { pieceCount, pieceLength, lastPieceLength };
}

export interface MessageValidationOptions {
  /**
   * Largest `length` accepted in `request`, `cancel` and `reject` (default 16384, BEP 3's block
   * size; libtorrent and aria2 refuse larger requests too).
   */
  maxRequestLength?: number;
  /** Largest block accepted in a `piece` message (default: `maxRequestLength`). */
  maxBlockLength?: number;
  /** Known torrent geometry: indices and block ranges are checked against it. */
  torrent?: TorrentGeometry;
  /** Accept bitfields with spare bits set (default false: `BITFIELD_SPARE_BITS`). */
  allowSpareBits?: boolean;
  /** What to do with an unknown message id: pass it on as `unknown` (default) or fail. */
  unknownMessages?: 'emit' | 'error';
}

export interface WireDecoderOptions extends MessageValidationOptions {
  /** Expect the 68-byte handshake before the first message (default true). */
  handshake?: boolean;
  /**
   * Largest length prefix accepted (default 1 MiB + 13: room for the bitfield of a torrent with
   * 8 million pieces and any 16 KiB block or ut_metadata piece).
   */
  maxMessageLength?: number;
}

export const DEFAULT_MAX_MESSAGE_LENGTH = 1024 * 1024 + 13;

/** The handshake as an item of the decoder's output. */
export interface HandshakeFrame extends Handshake {
  type: 'handshake';
}

export type WireFrame = HandshakeFrame | WireMessage;

function u32(body: Uint8Array, offset: number): number {
  return (
    body[offset]! * 0x1000000 +
    ((body[offset + 1]! << 16) | (body[offset + 2]! << 8) | body[offset + 3]!)
  );
}

function expectLength(body: Uint8Array, length: number, name: string): void {
  if (body.length !== length) {
    throw new WireError(
      'INVALID_MESSAGE_LENGTH',
      `${name} message must be ${length} bytes long, got ${body.length}`,
    );
  }
}

function pieceSize(torrent: TorrentGeometry, index: number): number {
  return index === torrent.pieceCount - 1 ? torrent.lastPieceLength : torrent.pieceLength;
}

function checkIndex(index: number, options: MessageValidationOptions): void {
  const torrent = options.torrent;
  if (torrent !== undefined && index >= torrent.pieceCount) {
    throw new WireError(
      'INDEX_OUT_OF_RANGE',
      `piece index ${index} out of range (${torrent.pieceCount} pieces)`,
    );
  }
}

function checkBlock(
  index: number,
  begin: number,
  length: number,
  options: MessageValidationOptions,
) {
  checkIndex(index, options);
  const torrent = options.torrent;
  if (torrent !== undefined && begin + length > pieceSize(torrent, index)) {
    throw new WireError(
      'OFFSET_OUT_OF_RANGE',
      `block ${begin}+${length} does not fit in piece ${index} of ${pieceSize(torrent, index)} bytes`,
    );
  }
}

function blockFields(body: Uint8Array, name: string, options: MessageValidationOptions) {
  expectLength(body, 13, name);
  const index = u32(body, 1);
  const begin = u32(body, 5);
  const length = u32(body, 9);
  const max = options.maxRequestLength ?? BLOCK_LENGTH;
  if (length === 0 || length > max) {
    throw new WireError('INVALID_REQUEST_LENGTH', `${name} length ${length} outside 1..${max}`);
  }
  checkBlock(index, begin, length, options);
  return { index, begin, length };
}

/**
 * Decodes one message body: the id byte and its payload, without the length prefix (an empty body
 * is a keep-alive). Returned byte fields are views into `body`.
 */
export function decodeMessage(
  body: Uint8Array,
  options: MessageValidationOptions = {},
): WireMessage {
  if (body.length === 0) return { type: 'keepAlive' };
  const id = body[0]!;
  switch (id) {
    case MessageId.choke:
      expectLength(body, 1, 'choke');
      return { type: 'choke' };
    case MessageId.unchoke:
      expectLength(body, 1, 'unchoke');
      return { type: 'unchoke' };
    case MessageId.interested:
      expectLength(body, 1, 'interested');
      return { type: 'interested' };
    case MessageId.notInterested:
      expectLength(body, 1, 'not interested');
      return { type: 'notInterested' };
    case MessageId.haveAll:
      expectLength(body, 1, 'have all');
      return { type: 'haveAll' };
    case MessageId.haveNone:
      expectLength(body, 1, 'have none');
      return { type: 'haveNone' };
    case MessageId.have:
    case MessageId.suggest:
    case MessageId.allowedFast: {
      const type =
        id === MessageId.have ? 'have' : id === MessageId.suggest ? 'suggest' : 'allowedFast';
      expectLength(body, 5, type);
      const index = u32(body, 1);
      checkIndex(index, options);
      return { type, index };
    }
    case MessageId.bitfield: {
      const bitfield = body.subarray(1);
      const torrent = options.torrent;
      if (torrent !== undefined) {
        // BEP 3: the bitfield has ceil(pieces / 8) bytes and its spare bits are zero.
        const expected = byteLengthFor(torrent.pieceCount);
        if (bitfield.length !== expected) {
          throw new WireError(
            'INVALID_BITFIELD_LENGTH',
            `bitfield has ${bitfield.length} bytes, expected ${expected}`,
          );
        }
        const used = torrent.pieceCount & 7;
        if (
          used !== 0 &&
          !options.allowSpareBits &&
          (bitfield[expected - 1]! & (0xff >>> used)) !== 0
        ) {
          throw new WireError('BITFIELD_SPARE_BITS', 'bitfield has spare bits set');
        }
      }
      return { type: 'bitfield', bitfield };
    }
    case MessageId.request:
      return { type: 'request', ...blockFields(body, 'request', options) };
    case MessageId.cancel:
      return { type: 'cancel', ...blockFields(body, 'cancel', options) };
    case MessageId.reject:
      return { type: 'reject', ...blockFields(body, 'reject', options) };
    case MessageId.piece: {
      if (body.length < 9) {
        throw new WireError('INVALID_MESSAGE_LENGTH', `piece message of ${body.length} bytes`);
      }
      const index = u32(body, 1);
      const begin = u32(body, 5);
      const block = body.subarray(9);
      const max = options.maxBlockLength ?? options.maxRequestLength ?? BLOCK_LENGTH;
      if (block.length > max) {
        throw new WireError(
          'INVALID_REQUEST_LENGTH',
          `piece block of ${block.length} bytes > ${max}`,
        );
      }
      checkBlock(index, begin, block.length, options);
      return { type: 'piece', index, begin, block };
    }
    case MessageId.port:
      expectLength(body, 3, 'port');
      return { type: 'port', port: (body[1]! << 8) | body[2]! };
    case MessageId.extended:
      if (body.length < 2) {
        throw new WireError('INVALID_MESSAGE_LENGTH', 'extended message without an extended id');
      }
      return { type: 'extended', id: body[1]!, payload: body.subarray(2) };
    default:
      if (options.unknownMessages === 'error') {
        throw new WireError('UNKNOWN_MESSAGE', `unknown message id ${id}`);
      }
      return { type: 'unknown', id, payload: body.subarray(1) };
  }
}

/**
 * Streaming decoder for one connection. Feed it received chunks with `push`, then call `next`
 * until it returns `undefined` (or use `decode(chunk)`, which does both). After it has thrown a
 * `WireError` it stays failed: every later call throws `DECODER_CLOSED`.
 */
export class WireDecoder {
  #options: WireDecoderOptions;
  #maxMessageLength: number;
  #chunks: Uint8Array[] = [];
  #offset = 0; // read offset in #chunks[0]
  #buffered = 0;
  #expectHandshake: boolean;
  #bodyLength = -1; // -1: waiting for a length prefix
  #failed: Error | undefined;

  constructor(options: WireDecoderOptions = {}) {
    this.#options = { ...options };
    this.#maxMessageLength = options.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH;
    this.#expectHandshake = options.handshake ?? true;
  }

  /** Bytes received but not yet decoded. */
  get buffered(): number {
    return this.#buffered;
  }

  /** True while the handshake has not been decoded yet. */
  get awaitingHandshake(): boolean {
    return this.#expectHandshake;
  }

  /** Sets (or replaces) the torrent geometry, e.g. once a magnet's metadata has arrived. */
  setTorrent(torrent: TorrentGeometry | undefined): void {
    this.#options.torrent = torrent;
  }

  /** Adds received bytes. The chunk is kept (not copied) until it has been decoded. */
  push(chunk: Uint8Array): void {
    this.#checkOpen();
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /** The next decoded handshake or message, or `undefined` when more bytes are needed. */
  next(): WireFrame | undefined {
    this.#checkOpen();
    try {
      return this.#next();
    } catch (error) {
      // Only WireErrors come out of #next (see the properties in test/wire.prop.test.ts); either
      // way the decoder is done: drop what is buffered and refuse further input.
      this.#failed = error instanceof Error ? error : new Error(String(error));
      this.#chunks = [];
      this.#buffered = 0;
      throw error;
    }
  }

  /** Pushes `chunk` and returns every item that is now complete. */
  decode(chunk: Uint8Array): WireFrame[] {
    this.push(chunk);
    const out: WireFrame[] = [];
    for (let item = this.next(); item !== undefined; item = this.next()) out.push(item);
    return out;
  }

  #checkOpen(): void {
    if (this.#failed !== undefined) {
      throw new WireError('DECODER_CLOSED', `decoder failed earlier: ${this.#failed.message}`);
    }
  }

  #next(): WireFrame | undefined {
    if (this.#expectHandshake) {
      if (this.#buffered < HANDSHAKE_LENGTH) {
        // Refuse a wrong (e.g. MSE-encrypted) handshake as soon as its first bytes arrive.
        checkProtocolHeader(this.#peek(Math.min(this.#buffered, 20)));
        return undefined;
      }
      const handshake = decodeHandshake(this.#take(HANDSHAKE_LENGTH));
      this.#expectHandshake = false;
      return { type: 'handshake', ...handshake };
    }
    if (this.#bodyLength < 0) {
      if (this.#buffered < 4) return undefined;
      const prefix = this.#take(4);
      const length = u32(prefix, 0);
      if (length > this.#maxMessageLength) {
        throw new WireError(
          'MESSAGE_TOO_LARGE',
          `message of ${length} bytes exceeds the limit of ${this.#maxMessageLength}`,
        );
      }
      this.#bodyLength = length;
    }
    if (this.#buffered < this.#bodyLength) return undefined;
    const body = this.#take(this.#bodyLength);
    this.#bodyLength = -1;
    return decodeMessage(body, this.#options);
  }

  /** The next `n` buffered bytes without consuming them (n ≤ buffered). */
  #peek(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first === undefined || n === 0) return new Uint8Array(0);
    if (first.length - this.#offset >= n) return first.subarray(this.#offset, this.#offset + n);
    const out = new Uint8Array(n);
    let filled = 0;
    let offset = this.#offset;
    for (const chunk of this.#chunks) {
      const part = chunk.subarray(offset, offset + (n - filled));
      out.set(part, filled);
      filled += part.length;
      offset = 0;
      if (filled === n) break;
    }
    return out;
  }

  /** Consumes the next `n` buffered bytes: a view when they lie in one chunk, else a copy. */
  #take(n: number): Uint8Array {
    this.#buffered -= n;
    if (n === 0) return new Uint8Array(0);
    const first = this.#chunks[0]!;
    const available = first.length - this.#offset;
    if (available >= n) {
      const view = first.subarray(this.#offset, this.#offset + n);
      this.#offset += n;
      if (this.#offset === first.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
      return view;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0]!;
      const part = chunk.subarray(this.#offset, this.#offset + (n - filled));
      out.set(part, filled);
      filled += part.length;
      this.#offset += part.length;
      if (this.#offset === chunk.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
    }
    return out;
  }
}
