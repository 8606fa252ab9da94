/**
 * The BEP 3 handshake: `\x13BitTorrent protocol`, 8 reserved bytes, the 20-byte info-hash and the
 * 20-byte peer id (68 bytes in all). Reserved bits in use:
 * - BEP 10 extension protocol: byte 5, bit 0x10;
 * - BEP 6 fast extension: byte 7, bit 0x04;
 * - BEP 5 DHT (`port` message): byte 7, bit 0x01.
 */
import { WireError } from '../errors';

export const PROTOCOL_NAME = 'BitTorrent protocol';
/** `\x13BitTorrent protocol`: the 20 bytes every handshake starts with. */
export const PROTOCOL_HEADER: Uint8Array = new Uint8Array([
  19,
  ...Array.from(PROTOCOL_NAME, (c) => c.charCodeAt(0)),
]);
export const HANDSHAKE_LENGTH = 68;
export const RESERVED_LENGTH = 8;

/** Extensions a peer announces through the reserved bytes. */
export interface HandshakeExtensions {
  /** BEP 10 extension protocol (reserved byte 5, 0x10). */
  extended: boolean;
  /** BEP 6 fast extension (reserved byte 7, 0x04). */
  fast: boolean;
  /** BEP 5 DHT, i.e. the peer sends `port` messages (reserved byte 7, 0x01). */
  dht: boolean;
  /** BEP 52 v2 support (reserved byte 7, 0x10); read it with `supportsV2`. */
  v2?: boolean;
}

export interface Handshake {
  /** The 8 reserved bytes as received (unknown bits kept). */
  reserved: Uint8Array;
  /** 20 bytes. */
  infoHash: Uint8Array;
  /** 20 bytes. */
  peerId: Uint8Array;
}

/** Reads the known extension bits from 8 reserved bytes. */
export function readExtensions(reserved: Uint8Array): HandshakeExtensions {
  return {
    extended: ((reserved[5] ?? 0) & 0x10) !== 0,
    fast: ((reserved[7] ?? 0) & 0x04) !== 0,
    dht: ((reserved[7] ?? 0) & 0x01) !== 0,
  };
}

/** BEP 52: the peer supports v2 torrents (reserved byte 7, 0x10). */
export function supportsV2(reserved: Uint8Array): boolean {
  return ((reserved[7] ?? 0) & 0x10) !== 0;
}

/** 8 reserved bytes with the given extension bits set. */
export function reservedBytes(extensions: Partial<HandshakeExtensions>): Uint8Array {
  const reserved = new Uint8Array(RESERVED_LENGTH);
  if (extensions.extended) reserved[5]! |= 0x10;
  if (extensions.fast) reserved[7]! |= 0x04;
  if (extensions.dht) reserved[7]! |= 0x01;
  // BEP 52: "the 4th most significant bit in the last byte of the reserved bytes".
  if (extensions.v2) reserved[7]! |= 0x10;
  return reserved;
}

export interface HandshakeInit {
  infoHash: Uint8Array;
  peerId: Uint8Array;
  /** Either the raw reserved bytes or the extensions to announce (default: none). */
  reserved?: Uint8Array;
  extensions?: Partial<HandshakeExtensions>;
}

/** The 68-byte handshake. */
export function encodeHandshake(init: HandshakeInit): Uint8Array {
  if (init.infoHash.length !== 20) throw new RangeError('infoHash must be 20 bytes');
  if (init.peerId.length !== 20) throw new RangeError('peerId must be 20 bytes');
  const reserved = init.reserved ?? reservedBytes(init.extensions ?? {});
  if (reserved.length !== RESERVED_LENGTH) throw new RangeError('reserved must be 8 bytes');
  const bytes = new Uint8Array(HANDSHAKE_LENGTH);
  bytes.set(PROTOCOL_HEADER, 0);
  bytes.set(reserved, 20);
  bytes.set(init.infoHash, 28);
  bytes.set(init.peerId, 48);
  return bytes;
}

/**
 * Checks as many leading bytes as are available against `\x13BitTorrent protocol`, so that a
 * connection that starts with anything else (e.g. an MSE/PE encrypted handshake) is refused after
 * its first byte. Throws `WireError` `INVALID_HANDSHAKE`.
 */
export function checkProtocolHeader(prefix: Uint8Array): void {
  const n = Math.min(prefix.length, PROTOCOL_HEADER.length);
  for (let i = 0; i < n; i++) {
    if (prefix[i] !== PROTOCOL_HEADER[i]) {
      throw new WireError(
        'INVALID_HANDSHAKE',
        i === 0
          ? `handshake starts with byte ${prefix[0]}, not 19 (encrypted or not BitTorrent?)`
          : 'handshake protocol string is not "BitTorrent protocol"',
      );
    }
  }
}

/** Decodes exactly 68 handshake bytes (the fields are copies). */
export function decodeHandshake(bytes: Uint8Array): Handshake {
  if (bytes.length !== HANDSHAKE_LENGTH) {
    throw new WireError('INVALID_HANDSHAKE', `handshake is ${bytes.length} bytes, expected 68`);
  }
  checkProtocolHeader(bytes);
  return {
    reserved: bytes.slice(20, 28),
    infoHash: bytes.slice(28, 48),
    peerId: bytes.slice(48, 68),
  };
}
