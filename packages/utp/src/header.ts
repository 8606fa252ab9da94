/**
 * The uTP packet: the 20-byte version 1 header, the extension chain and the payload
 * (BEP 29, "header format").
 *
 * ```
 * 0       4       8               16              24              32
 * +-------+-------+---------------+---------------+---------------+
 * | type  | ver   | extension     | connection_id                 |
 * | timestamp_microseconds                                        |
 * | timestamp_difference_microseconds                             |
 * | wnd_size                                                      |
 * | seq_nr                        | ack_nr                        |
 * +---------------+---------------+---------------+---------------+
 * ```
 *
 * All fields are big-endian. `decodePacket` is total: any bytes give a `Packet` or a `UtpError`
 * `MALFORMED_PACKET`.
 */
import { UtpError } from './errors';

/** Packet types (BEP 29, "type"). */
export const ST_DATA = 0;
export const ST_FIN = 1;
export const ST_STATE = 2;
export const ST_RESET = 3;
export const ST_SYN = 4;
export type PacketType = 0 | 1 | 2 | 3 | 4;

export const PACKET_TYPE_NAMES: readonly string[] = [
  'ST_DATA',
  'ST_FIN',
  'ST_STATE',
  'ST_RESET',
  'ST_SYN',
];

/** The protocol version this package speaks (BEP 29, "version"). */
export const VERSION = 1;
/** Size of the fixed header. */
export const HEADER_SIZE = 20;
/** Extension type of the selective ACK (BEP 29, "Selective ACK"). */
export const EXT_SELECTIVE_ACK = 1;
/** Extensions after which decoding stops trusting the chain (each costs at least 2 bytes). */
const MAX_EXTENSIONS = 64;

/** An extension other than the selective ACK, kept as raw bytes (skipped by `len`). */
export interface Extension {
  readonly type: number;
  readonly data: Uint8Array;
}

/** One decoded packet. Numbers are unsigned: u16 ids and sequence numbers, u32 timestamps. */
export interface Packet {
  readonly type: PacketType;
  readonly connectionId: number;
  /** Sender's clock when sending, microseconds modulo 2^32. */
  readonly timestampMicroseconds: number;
  /** Sender's last one-way delay sample of the reverse path, microseconds modulo 2^32. */
  readonly timestampDifferenceMicroseconds: number;
  /** Advertised receive window in bytes. */
  readonly wndSize: number;
  readonly seqNr: number;
  readonly ackNr: number;
  /** The selective ACK bitmask (bit 0 of byte 0 is ack_nr + 2), when present. */
  readonly selectiveAck: Uint8Array | undefined;
  /** Other extensions, in chain order (empty when none). */
  readonly extensions: readonly Extension[];
  readonly payload: Uint8Array;
}

/** Fields to encode; `selectiveAck`, `extensions` and `payload` are optional. */
export interface PacketFields {
  type: PacketType;
  connectionId: number;
  timestampMicroseconds: number;
  timestampDifferenceMicroseconds: number;
  wndSize: number;
  seqNr: number;
  ackNr: number;
  selectiveAck?: Uint8Array | undefined;
  extensions?: readonly Extension[];
  payload?: Uint8Array;
}

const NO_EXTENSIONS: readonly Extension[] = Object.freeze([]);
const EMPTY = new Uint8Array(0);

function malformed(message: string): never {
  throw new UtpError('MALFORMED_PACKET', message);
}

/**
 * Whether `bytes` can be a uTP packet at a glance: long enough, version 1, a known type. The
 * one-port demultiplexer uses it (a KRPC message starts with `d`, i.e. 0x64, which is never a
 * valid first byte of a uTP packet: type 6 is unknown).
 */
export function looksLikeUtp(bytes: Uint8Array): boolean {
  if (bytes.length < HEADER_SIZE) return false;
  const first = bytes[0] as number;
  return (first & 0x0f) === VERSION && first >> 4 <= ST_SYN;
}

/** Decodes one packet; throws `UtpError` `MALFORMED_PACKET` for anything else. */
export function decodePacket(bytes: Uint8Array): Packet {
  if (bytes.length < HEADER_SIZE) malformed(`${bytes.length} bytes, shorter than the header`);
  const first = bytes[0] as number;
  const version = first & 0x0f;
  const type = first >> 4;
  if (version !== VERSION) malformed(`version ${version}, expected ${VERSION}`);
  if (type > ST_SYN) malformed(`unknown packet type ${type}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let next = bytes[1] as number;
  let offset = HEADER_SIZE;
  let selectiveAck: Uint8Array | undefined;
  let extensions: Extension[] | undefined;
  let count = 0;
  // BEP 29 "extension": a linked list; each link is (next type, len) followed by len bytes.
  while (next !== 0) {
    if (++count > MAX_EXTENSIONS) malformed('too many extensions');
    if (offset + 2 > bytes.length) malformed('extension header past the end of the packet');
    const type = next;
    next = bytes[offset] as number;
    const len = bytes[offset + 1] as number;
    offset += 2;
    if (offset + len > bytes.length) malformed(`extension ${type} of ${len} bytes past the end`);
    const data = bytes.subarray(offset, offset + len);
    offset += len;
    if (type === EXT_SELECTIVE_ACK) {
      // BEP 29 says "at least 4, and in multiples of 4", but libtorrent sends masks of any
      // whole number of bytes (ceil(span / 8)): accept every non-empty mask, send only
      // multiples of 4.
      if (len === 0) malformed('empty selective ACK');
      if (selectiveAck !== undefined) malformed('two selective ACK extensions');
      selectiveAck = data;
    } else {
      extensions ??= [];
      extensions.push({ type, data });
    }
  }
  return {
    type: type as PacketType,
    connectionId: view.getUint16(2),
    timestampMicroseconds: view.getUint32(4),
    timestampDifferenceMicroseconds: view.getUint32(8),
    wndSize: view.getUint32(12),
    seqNr: view.getUint16(16),
    ackNr: view.getUint16(18),
    selectiveAck,
    extensions: extensions ?? NO_EXTENSIONS,
    payload: offset === bytes.length ? EMPTY : bytes.subarray(offset),
  };
}

/** The encoded size of a packet with these parts. */
export function packetSize(fields: PacketFields): number {
  let size = HEADER_SIZE + (fields.payload?.length ?? 0);
  if (fields.selectiveAck !== undefined) size += 2 + fields.selectiveAck.length;
  for (const e of fields.extensions ?? NO_EXTENSIONS) size += 2 + e.data.length;
  return size;
}

/** Encodes a packet into a new buffer; throws `UtpError` `INVALID_ARGUMENT` for bad fields. */
export function encodePacket(fields: PacketFields): Uint8Array {
  const out = new Uint8Array(packetSize(fields));
  const extensions = fields.extensions ?? NO_EXTENSIONS;
  const sack = fields.selectiveAck;
  if (sack !== undefined && (sack.length < 4 || sack.length % 4 !== 0 || sack.length > 255)) {
    throw new UtpError('INVALID_ARGUMENT', `selective ACK of ${sack.length} bytes`);
  }
  // The chain: the selective ACK first, then the others in order.
  const chain: { type: number; data: Uint8Array }[] = [];
  if (sack !== undefined) chain.push({ type: EXT_SELECTIVE_ACK, data: sack });
  for (const e of extensions) {
    if (!Number.isInteger(e.type) || e.type < 1 || e.type > 255 || e.data.length > 255) {
      throw new UtpError('INVALID_ARGUMENT', `extension ${e.type} of ${e.data.length} bytes`);
    }
    if (e.type === EXT_SELECTIVE_ACK) {
      throw new UtpError('INVALID_ARGUMENT', 'pass the selective ACK as selectiveAck');
    }
    chain.push(e);
  }
  writeHeader(out, fields, chain[0]?.type ?? 0);
  let offset = HEADER_SIZE;
  for (let i = 0; i < chain.length; i++) {
    const e = chain[i] as Extension;
    out[offset] = chain[i + 1]?.type ?? 0;
    out[offset + 1] = e.data.length;
    out.set(e.data, offset + 2);
    offset += 2 + e.data.length;
  }
  if (fields.payload !== undefined) out.set(fields.payload, offset);
  return out;
}

function checkField(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new UtpError('INVALID_ARGUMENT', `${name} ${value} out of range [0, ${max}]`);
  }
}

/** Writes the 20-byte header at the start of `out` with `extension` as the first link. */
export function writeHeader(out: Uint8Array, fields: PacketFields, extension: number): void {
  checkField('type', fields.type, ST_SYN);
  checkField('connectionId', fields.connectionId, 0xffff);
  checkField('timestampMicroseconds', fields.timestampMicroseconds, 0xffffffff);
  checkField('timestampDifferenceMicroseconds', fields.timestampDifferenceMicroseconds, 0xffffffff);
  checkField('wndSize', fields.wndSize, 0xffffffff);
  checkField('seqNr', fields.seqNr, 0xffff);
  checkField('ackNr', fields.ackNr, 0xffff);
  writeHeaderUnchecked(
    out,
    fields.type,
    extension,
    fields.connectionId,
    fields.timestampMicroseconds,
    fields.timestampDifferenceMicroseconds,
    fields.wndSize,
    fields.seqNr,
    fields.ackNr,
  );
}

/** The hot path's header writer: no checks, no allocation (callers pass valid u16/u32 values). */
export function writeHeaderUnchecked(
  out: Uint8Array,
  type: number,
  extension: number,
  connectionId: number,
  timestamp: number,
  timestampDifference: number,
  wndSize: number,
  seqNr: number,
  ackNr: number,
): void {
  out[0] = (type << 4) | VERSION;
  out[1] = extension;
  out[2] = connectionId >>> 8;
  out[3] = connectionId & 0xff;
  writeU32(out, 4, timestamp);
  writeU32(out, 8, timestampDifference);
  writeU32(out, 12, wndSize);
  out[16] = seqNr >>> 8;
  out[17] = seqNr & 0xff;
  out[18] = ackNr >>> 8;
  out[19] = ackNr & 0xff;
}

export function writeU32(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value >>> 24;
  out[offset + 1] = (value >>> 16) & 0xff;
  out[offset + 2] = (value >>> 8) & 0xff;
  out[offset + 3] = value & 0xff;
}
