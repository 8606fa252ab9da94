/**
 * BEP 9 `ut_metadata`: the info dictionary is exchanged in 16 KiB pieces. Each message is a
 * bencoded dictionary (`msg_type` 0 request, 1 data, 2 reject; `piece`; `total_size` in data)
 * and a `data` message carries the raw metadata piece *after* the dictionary.
 */
import { createHash } from 'node:crypto';
import { type BencodeValue, decodePrefix, encode, isBencodeDict } from '@peerkit/bencode';
import { WireError } from '../errors';
import { DEFAULT_MAX_METADATA_SIZE } from './extension';

/** BEP 9: "the metadata is handled in blocks of 16KiB (16384 Bytes)". */
export const METADATA_PIECE_LENGTH = 16384;

export type MetadataMessage =
  | { type: 'request'; piece: number }
  | { type: 'data'; piece: number; totalSize: number; data: Uint8Array }
  | { type: 'reject'; piece: number }
  /** BEP 9: "an unrecognized message ID MUST be ignored" — passed on so the session can ignore it. */
  | { type: 'unknown'; msgType: number; piece: number };

const MSG_TYPE = { request: 0, data: 1, reject: 2 } as const;

export interface MetadataDecodeOptions {
  /** Largest `total_size` accepted (default 16 MiB). */
  maxMetadataSize?: number;
}

/** Number of 16 KiB metadata pieces for an info dictionary of `size` bytes. */
export function metadataPieceCount(size: number): number {
  return Math.ceil(size / METADATA_PIECE_LENGTH);
}

/** Length of metadata piece `piece` for an info dictionary of `size` bytes. */
export function metadataPieceLength(size: number, piece: number): number {
  return Math.min(METADATA_PIECE_LENGTH, size - piece * METADATA_PIECE_LENGTH);
}

/** Encodes a ut_metadata message payload (the bytes after the extended message id). */
export function encodeMetadataMessage(message: MetadataMessage): Uint8Array {
  if (message.type === 'unknown') {
    return encode({ msg_type: message.msgType, piece: message.piece });
  }
  if (message.type !== 'data') {
    return encode({ msg_type: MSG_TYPE[message.type], piece: message.piece });
  }
  const dict = encode({
    msg_type: MSG_TYPE.data,
    piece: message.piece,
    total_size: message.totalSize,
  });
  const out = new Uint8Array(dict.length + message.data.length);
  out.set(dict, 0);
  out.set(message.data, dict.length);
  return out;
}

function invalid(message: string, cause?: unknown): WireError {
  return new WireError('INVALID_METADATA_MESSAGE', message, { cause });
}

/**
 * Decodes a ut_metadata payload. A `data` message must carry exactly the bytes of its piece:
 * 16 KiB, or the remainder for the last piece of `total_size` (BEP 9: "If it is not the last piece
 * of the metadata, it MUST be 16kiB"). `data` is a view into `payload`.
 */
export function decodeMetadataMessage(
  payload: Uint8Array,
  options: MetadataDecodeOptions = {},
): MetadataMessage {
  let value: BencodeValue;
  let end: number;
  try {
    ({ value, end } = decodePrefix(payload, { strict: false, maxDepth: 4 }));
  } catch (error) {
    throw invalid('ut_metadata message is not valid bencode', error);
  }
  if (!isBencodeDict(value)) throw invalid('ut_metadata message is not a dictionary');
  const dict = value;
  const msgType = dict.msg_type;
  const piece = dict.piece;
  if (typeof msgType !== 'number' || !Number.isInteger(msgType) || msgType < 0) {
    throw invalid('ut_metadata msg_type missing or not a non-negative integer');
  }
  if (typeof piece !== 'number' || !Number.isInteger(piece) || piece < 0) {
    throw invalid('ut_metadata piece missing or not a non-negative integer');
  }
  const trailing = payload.subarray(end);
  if (msgType !== MSG_TYPE.data && trailing.length > 0) {
    throw invalid('bytes after a ut_metadata request/reject dictionary');
  }
  switch (msgType) {
    case MSG_TYPE.request:
      return { type: 'request', piece };
    case MSG_TYPE.reject:
      return { type: 'reject', piece };
    case MSG_TYPE.data: {
      const totalSize = dict.total_size;
      const max = options.maxMetadataSize ?? DEFAULT_MAX_METADATA_SIZE;
      if (
        typeof totalSize !== 'number' ||
        !Number.isInteger(totalSize) ||
        totalSize < 1 ||
        totalSize > max
      ) {
        throw invalid(`ut_metadata total_size must be an integer in 1..${max}`);
      }
      if (piece >= metadataPieceCount(totalSize)) {
        throw invalid(`ut_metadata piece ${piece} beyond total_size ${totalSize}`);
      }
      const expected = metadataPieceLength(totalSize, piece);
      if (trailing.length !== expected) {
        throw invalid(
          `ut_metadata piece ${piece} has ${trailing.length} bytes, expected ${expected}`,
        );
      }
      return { type: 'data', piece, totalSize, data: trailing };
    }
    default:
      return { type: 'unknown', msgType, piece };
  }
}

/**
 * Collects the metadata pieces of a magnet download and checks the result against the info-hash
 * (BEP 9: the metadata is verified with "the info-hash"). Pure: no I/O, no timers.
 */
export class MetadataAssembler {
  readonly size: number;
  readonly pieceCount: number;
  #buffer: Uint8Array;
  #have: boolean[];
  #received = 0;

  constructor(size: number, options: MetadataDecodeOptions = {}) {
    const max = options.maxMetadataSize ?? DEFAULT_MAX_METADATA_SIZE;
    if (!Number.isInteger(size) || size < 1 || size > max) {
      throw invalid(`metadata size must be an integer in 1..${max}, got ${size}`);
    }
    this.size = size;
    this.pieceCount = metadataPieceCount(size);
    this.#buffer = new Uint8Array(size);
    this.#have = new Array<boolean>(this.pieceCount).fill(false);
  }

  /** True once every piece has arrived. */
  get complete(): boolean {
    return this.#received === this.pieceCount;
  }

  /** Indices of the pieces still missing. */
  missing(): number[] {
    const out: number[] = [];
    this.#have.forEach((have, i) => {
      if (!have) out.push(i);
    });
    return out;
  }

  /** Stores one piece; returns false when it was a duplicate. Throws on a wrong size/index. */
  add(piece: number, data: Uint8Array): boolean {
    if (!Number.isInteger(piece) || piece < 0 || piece >= this.pieceCount) {
      throw invalid(`metadata piece ${piece} out of range 0..${this.pieceCount - 1}`);
    }
    const expected = metadataPieceLength(this.size, piece);
    if (data.length !== expected) {
      throw invalid(`metadata piece ${piece} has ${data.length} bytes, expected ${expected}`);
    }
    if (this.#have[piece]) return false;
    this.#buffer.set(data, piece * METADATA_PIECE_LENGTH);
    this.#have[piece] = true;
    this.#received++;
    return true;
  }

  /**
   * The assembled info dictionary bytes if its hash equals `infoHash` (SHA-1 for a 20-byte v1
   * info-hash, SHA-256 for a 32-byte v2 one), else
   * `undefined` and every piece is dropped so they can be fetched again (from other peers).
   */
  verify(infoHash: Uint8Array): Uint8Array | undefined {
    if (!this.complete) return undefined;
    const digest = createHash(infoHash.length === 32 ? 'sha256' : 'sha1')
      .update(this.#buffer)
      .digest();
    if (Buffer.compare(digest, infoHash) === 0) return this.#buffer;
    this.#have.fill(false);
    this.#received = 0;
    return undefined;
  }
}
