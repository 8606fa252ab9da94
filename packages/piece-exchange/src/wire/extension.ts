/**
 * BEP 10 extension protocol: the extension handshake (extended message id 0), whose payload is a
 * bencoded dictionary: `m` (extension name → the id the sender wants to receive it under; 0
 * disables), `v` (client name), `p` (listen port), `reqq` (request queue depth), `yourip`,
 * `ipv4`/`ipv6`, and BEP 9's `metadata_size`.
 */
import {
  type BencodeDict,
  type BencodeInputDict,
  type BencodeValue,
  decode,
  encode,
  isBencodeDict,
} from '@peerkit/bencode';
import { WireError } from '../errors';

/** Extended message id of the extension handshake. */
export const EXTENSION_HANDSHAKE_ID = 0;
/** Names of the extensions this package implements (BEP 9, BEP 11). */
export const UT_METADATA = 'ut_metadata';
export const UT_PEX = 'ut_pex';
/** Largest `metadata_size` accepted by default (libtorrent's limit is 30 MiB; 16 MiB is plenty). */
export const DEFAULT_MAX_METADATA_SIZE = 16 * 1024 * 1024;

export interface ExtensionHandshake {
  /**
   * Extension name → extended message id (1..255) the sender of this handshake wants to receive
   * that extension's messages under; 0 means "disabled". Names are binary (latin1) strings as
   * in `@peerkit/bencode`, so ASCII names read naturally.
   */
  m: Record<string, number>;
  /** Client name and version (UTF-8). */
  v?: string;
  /** The sender's TCP listen port. */
  p?: number;
  /** How many outstanding requests the sender accepts (libtorrent default 250). */
  reqq?: number;
  /** BEP 9: size of the info dictionary in bytes. */
  metadataSize?: number;
  /** The receiver's address as the sender sees it (4 or 16 bytes). */
  yourip?: Uint8Array;
  /** The sender's IPv4 address (4 bytes). */
  ipv4?: Uint8Array;
  /** The sender's IPv6 address (16 bytes). */
  ipv6?: Uint8Array;
  /** BEP 21: the sender is a seed / will only upload (`upload_only` = 1). */
  uploadOnly?: boolean;
}

export interface ExtensionDecodeOptions {
  /** Largest `metadata_size` accepted (default 16 MiB); larger gives INVALID_EXTENSION_MESSAGE. */
  maxMetadataSize?: number;
}

/** Encodes the handshake dictionary (the payload of extended message 0). */
export function encodeExtensionHandshake(handshake: ExtensionHandshake): Uint8Array {
  const m: Record<string, number> = Object.create(null);
  for (const [name, id] of Object.entries(handshake.m)) {
    if (!Number.isInteger(id) || id < 0 || id > 255) {
      throw new RangeError(`extension id for ${name} must be 0..255, got ${id}`);
    }
    m[name] = id;
  }
  const dict: BencodeInputDict = {
    m,
    v: handshake.v,
    p: handshake.p,
    reqq: handshake.reqq,
    metadata_size: handshake.metadataSize,
    yourip: handshake.yourip,
    ipv4: handshake.ipv4,
    ipv6: handshake.ipv6,
    upload_only: handshake.uploadOnly === undefined ? undefined : handshake.uploadOnly ? 1 : 0,
  };
  return encode(dict);
}

function invalid(message: string, cause?: unknown): WireError {
  return new WireError('INVALID_EXTENSION_MESSAGE', message, { cause });
}

/** Decodes a bencoded dictionary payload leniently (unsorted keys accepted, as clients send them). */
export function decodeExtensionDict(payload: Uint8Array, what: string): BencodeDict {
  let value: BencodeValue;
  try {
    value = decode(payload, { strict: false, maxDepth: 8 });
  } catch (error) {
    throw invalid(`${what} is not valid bencode`, error);
  }
  if (!isBencodeDict(value)) throw invalid(`${what} is not a dictionary`);
  return value;
}

const utf8 = new TextDecoder();

function optionalInteger(dict: BencodeDict, key: string, min: number, max: number) {
  const value = dict[key];
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
    ? value
    : undefined;
}

function optionalBytes(dict: BencodeDict, key: string, lengths: readonly number[]) {
  const value = dict[key];
  return value instanceof Uint8Array && lengths.includes(value.length) ? value.slice() : undefined;
}

/**
 * Decodes an extension handshake payload. Unknown keys, and known optional keys of the wrong type
 * or out of range, are ignored (BEP 10: "Any unknown names should be ignored"); a payload that is
 * not a bencoded dictionary, an `m` that is not a dictionary, or a `metadata_size` that is not in
 * 1..maxMetadataSize throws `INVALID_EXTENSION_MESSAGE`.
 */
export function decodeExtensionHandshake(
  payload: Uint8Array,
  options: ExtensionDecodeOptions = {},
): ExtensionHandshake {
  const dict = decodeExtensionDict(payload, 'extension handshake');
  const m: Record<string, number> = Object.create(null);
  const rawM = dict.m;
  if (rawM !== undefined) {
    if (!isBencodeDict(rawM)) throw invalid('extension handshake `m` is not a dictionary');
    for (const [name, id] of Object.entries(rawM)) {
      if (typeof id === 'number' && Number.isInteger(id) && id >= 0 && id <= 255) m[name] = id;
    }
  }
  const handshake: ExtensionHandshake = { m };
  if (dict.v instanceof Uint8Array) handshake.v = utf8.decode(dict.v);
  const p = optionalInteger(dict, 'p', 1, 0xffff);
  if (p !== undefined) handshake.p = p;
  const reqq = optionalInteger(dict, 'reqq', 1, Number.MAX_SAFE_INTEGER);
  if (reqq !== undefined) handshake.reqq = reqq;
  if (dict.metadata_size !== undefined) {
    const max = options.maxMetadataSize ?? DEFAULT_MAX_METADATA_SIZE;
    const size = optionalInteger(dict, 'metadata_size', 1, max);
    if (size === undefined) throw invalid(`metadata_size must be an integer in 1..${max}`);
    handshake.metadataSize = size;
  }
  const yourip = optionalBytes(dict, 'yourip', [4, 16]);
  if (yourip !== undefined) handshake.yourip = yourip;
  const ipv4 = optionalBytes(dict, 'ipv4', [4]);
  if (ipv4 !== undefined) handshake.ipv4 = ipv4;
  const ipv6 = optionalBytes(dict, 'ipv6', [16]);
  if (ipv6 !== undefined) handshake.ipv6 = ipv6;
  if (typeof dict.upload_only === 'number') handshake.uploadOnly = dict.upload_only !== 0;
  return handshake;
}
