/**
 * Typed errors of @peerkit/piece-exchange. Every decoder in this package either returns a value
 * or throws one of these; each carries a machine-readable `code`.
 */

/** Base class: every error this package throws on bad input is a `PieceExchangeError`. */
export class PieceExchangeError<Code extends string = string> extends Error {
  readonly code: Code;
  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PieceExchangeError';
    this.code = code;
  }
}

/**
 * Metainfo (.torrent) errors. The codes follow libtorrent's `errors::` names (test vectors in
 * shared/vectors/torrents record them), so a reader can map one to the other.
 */
export type MetainfoErrorCode =
  /** The bytes are not valid bencode (or a v2 info dict is not canonical bencode). */
  | 'INVALID_BENCODING'
  /** The root value is not a dictionary. */
  | 'NOT_A_DICTIONARY'
  /** `info` is missing or not a dictionary. */
  | 'MISSING_INFO'
  /** `name` is missing (or not a string). */
  | 'MISSING_NAME'
  /** `name` or a path element is unusable (e.g. `..`, a path list that is not a list). */
  | 'INVALID_NAME'
  /** `piece length` is missing, not a power of two, too small, or otherwise unusable. */
  | 'MISSING_PIECE_LENGTH'
  /** `pieces` is missing or its length is not a multiple of 20 / does not match the content. */
  | 'INVALID_PIECES'
  /** A file length is missing, negative, or the total is zero / too large. */
  | 'INVALID_LENGTH'
  /** More pieces than the configured limit. */
  | 'TOO_MANY_PIECES'
  /** `files` is empty. */
  | 'NO_FILES'
  /** A file entry (v1 `files` or v2 `file tree`) cannot be parsed. */
  | 'FILE_PARSE_FAILED'
  /** In a hybrid torrent the v1 and v2 file lists describe different content. */
  | 'INCONSISTENT_FILES'
  /** A v2 file entry has no (or an all-zero) `pieces root`. */
  | 'MISSING_PIECES_ROOT'
  /** A BEP 52 piece layer is missing, has a bad length, or does not hash to its root. */
  | 'INVALID_PIECE_LAYER'
  /** `meta version` is a version this implementation does not know. */
  | 'UNSUPPORTED_META_VERSION'
  /** A v2-only torrent where v1 piece hashes are required (`requireV1`, `parseTorrentV1`). */
  | 'V2_ONLY_UNSUPPORTED'
  /** A metadata buffer is larger than the configured limit. */
  | 'TOO_LARGE'
  /** createTorrent: invalid input files or options. */
  | 'INVALID_OPTIONS';

export class MetainfoError extends PieceExchangeError<MetainfoErrorCode> {
  constructor(code: MetainfoErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'MetainfoError';
  }
}

/** Magnet URI errors (BEP 9 magnet format, BEP 53 `so`, BEP 52 `btmh`). */
export type MagnetErrorCode =
  /** Not a `magnet:?` URI, or malformed percent-encoding / parameter syntax. */
  | 'INVALID_URI'
  /** No usable `xt=urn:btih:` or `xt=urn:btmh:` parameter. */
  | 'MISSING_INFO_HASH'
  /** An `xt` info-hash that is neither 40 hex nor 32 base32 characters (or a bad multihash). */
  | 'INVALID_INFO_HASH'
  /** An `x.pe` peer address that is not `host:port`. */
  | 'INVALID_PEER'
  /** A `so` (BEP 53) selection that is not a list of indices/ranges. */
  | 'INVALID_SELECT_ONLY';

export class MagnetError extends PieceExchangeError<MagnetErrorCode> {
  constructor(code: MagnetErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'MagnetError';
  }
}

/**
 * Peer wire errors (BEP 3, 6, 9, 10, 11). A session that receives one of these from the decoder
 * disconnects the peer.
 */
export type WireErrorCode =
  /** The handshake does not start with `\x13BitTorrent protocol`. */
  | 'INVALID_HANDSHAKE'
  /** The handshake's info-hash is not the expected one. */
  | 'INFO_HASH_MISMATCH'
  /** A length prefix larger than the decoder's `maxMessageLength`. */
  | 'MESSAGE_TOO_LARGE'
  /** A message whose length does not fit its id (e.g. `have` that is not 5 bytes). */
  | 'INVALID_MESSAGE_LENGTH'
  /** A message id this decoder does not know and was told to refuse. */
  | 'UNKNOWN_MESSAGE'
  /** A `request`/`reject`/`cancel`/`allowed fast` length of 0 or above `maxRequestLength`. */
  | 'INVALID_REQUEST_LENGTH'
  /** A piece index at or beyond the torrent's piece count. */
  | 'INDEX_OUT_OF_RANGE'
  /** A block (begin, length) that does not fit inside its piece. */
  | 'OFFSET_OUT_OF_RANGE'
  /** A bitfield whose byte length is not ceil(pieceCount / 8). */
  | 'INVALID_BITFIELD_LENGTH'
  /** A bitfield with one of its spare (trailing) bits set. */
  | 'BITFIELD_SPARE_BITS'
  /** A BEP 10 extension payload that is not valid bencode or has fields of the wrong type. */
  | 'INVALID_EXTENSION_MESSAGE'
  /** A BEP 9 ut_metadata message that is malformed. */
  | 'INVALID_METADATA_MESSAGE'
  /** A BEP 11 ut_pex message that is malformed. */
  | 'INVALID_PEX_MESSAGE'
  /** A BEP 52 hash request / hashes / hash reject that is malformed. */
  | 'INVALID_HASH_MESSAGE'
  /** The decoder was fed after it failed or ended. */
  | 'DECODER_CLOSED';

export class WireError extends PieceExchangeError<WireErrorCode> {
  constructor(code: WireErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'WireError';
  }
}

/** True when `error` is any error thrown by this package. */
export function isPieceExchangeError(error: unknown): error is PieceExchangeError {
  return error instanceof PieceExchangeError;
}
