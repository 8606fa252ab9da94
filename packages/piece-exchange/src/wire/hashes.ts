/**
 * BEP 52 "hash request" (21), "hashes" (22) and "hash reject" (23) messages: a file's merkle
 * tree nodes asked for and sent over the peer wire. All three start with the same 48 bytes:
 *
 *   <pieces root: 32><base layer: u32><index: u32><length: u32><proof layers: u32>
 *
 * and `hashes` continues with `length` nodes of the base layer followed by the uncle hashes
 * (the lowest first). BEP 52: "Index MUST be a multiple of length", "Length MUST be
 * equal-to-or-greater-than two and a power of two", "SHOULD NOT be greater than 512".
 */
import { WireError } from '../errors';

export const HASH_REQUEST_ID = 21;
export const HASHES_ID = 22;
export const HASH_REJECT_ID = 23;

/** Most hashes asked for in one request (BEP 52 "SHOULD NOT be greater than 512"). */
export const MAX_HASH_REQUEST_LENGTH = 512;
/** A merkle tree of a 2^43-byte file has 2^29 leaves: no request names a deeper layer. */
const MAX_LAYERS = 64;
const HEADER_LENGTH = 48;
const HASH = 32;

/** The fields every hash message carries. */
export interface HashRequestFields {
  /** `pieces root` of the file whose tree is meant (32 bytes). */
  piecesRoot: Uint8Array;
  /** Layers above the leaves of the first hash asked for: 0 = leaf hashes. */
  baseLayer: number;
  /** Offset, in hashes of the base layer, of the first one asked for. */
  index: number;
  /** Number of base-layer hashes (a power of two ≥ 2, a divisor of `index`). */
  length: number;
  /** Number of ancestor layers to include uncle hashes of. */
  proofLayers: number;
}

export interface HashRequestMessage extends HashRequestFields {
  type: 'hashRequest';
}
export interface HashRejectMessage extends HashRequestFields {
  type: 'hashReject';
}
export interface HashesMessage extends HashRequestFields {
  type: 'hashes';
  /** The `length` base-layer hashes (views into the message). */
  hashes: Uint8Array[];
  /** The uncle hashes, the lowest layer first (views). */
  uncles: Uint8Array[];
}

export type HashMessage = HashRequestMessage | HashesMessage | HashRejectMessage;

/** True for the three BEP 52 message ids. */
export function isHashMessageId(id: number): boolean {
  return id === HASH_REQUEST_ID || id === HASHES_ID || id === HASH_REJECT_ID;
}

function invalid(message: string): WireError {
  return new WireError('INVALID_HASH_MESSAGE', message);
}

function u32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at);
}

/** Checks the request fields BEP 52 constrains; throws `INVALID_HASH_MESSAGE`. */
export function checkHashRequest(fields: HashRequestFields): void {
  const { baseLayer, index, length, proofLayers } = fields;
  if (fields.piecesRoot.length !== HASH) throw invalid('pieces root must be 32 bytes');
  if (length < 2 || length > MAX_HASH_REQUEST_LENGTH || (length & (length - 1)) !== 0)
    throw invalid(`hash request length ${length} is not a power of two in 2..512`);
  if (index % length !== 0)
    throw invalid(`hash request index ${index} is not a multiple of ${length}`);
  if (baseLayer >= MAX_LAYERS || proofLayers >= MAX_LAYERS)
    throw invalid(`hash request layers out of range (${baseLayer}, ${proofLayers})`);
}

/**
 * Uncle hashes a `hashes` answer carries: one per proof layer, except the first log2(length) − 1
 * layers (which the base-layer hashes themselves cover, BEP 52 "A proof layer is omitted if the
 * requested hashes include the entire child layer").
 */
export function unclesInAnswer(length: number, proofLayers: number): number {
  return Math.max(0, proofLayers - (Math.log2(length) - 1));
}

/**
 * Decodes the body (id + payload) of a message with id 21, 22 or 23. Total: returns the message
 * or throws `WireError` `INVALID_HASH_MESSAGE`.
 */
export function decodeHashMessage(id: number, payload: Uint8Array): HashMessage {
  if (!isHashMessageId(id)) throw invalid(`message id ${id} is not a hash message`);
  if (payload.length < HEADER_LENGTH)
    throw invalid(`hash message of ${payload.length} bytes (at least ${HEADER_LENGTH})`);
  const fields: HashRequestFields = {
    piecesRoot: payload.subarray(0, HASH),
    baseLayer: u32(payload, 32),
    index: u32(payload, 36),
    length: u32(payload, 40),
    proofLayers: u32(payload, 44),
  };
  checkHashRequest(fields);
  if (id !== HASHES_ID) {
    if (payload.length !== HEADER_LENGTH)
      throw invalid(`hash ${id === HASH_REQUEST_ID ? 'request' : 'reject'} must be 48 bytes`);
    return { type: id === HASH_REQUEST_ID ? 'hashRequest' : 'hashReject', ...fields };
  }
  const rest = payload.length - HEADER_LENGTH;
  // Fewer uncles than asked for are fine: a tree lower than the request needs fewer.
  const maxUncles = unclesInAnswer(fields.length, fields.proofLayers);
  const uncleCount = rest / HASH - fields.length;
  if (rest % HASH !== 0 || uncleCount < 0 || uncleCount > maxUncles)
    throw invalid(
      `hashes message with ${rest} bytes of hashes for ${fields.length} + ≤ ${maxUncles}`,
    );
  const node = (i: number) =>
    payload.subarray(HEADER_LENGTH + i * HASH, HEADER_LENGTH + (i + 1) * HASH);
  const hashes = Array.from({ length: fields.length }, (_, i) => node(i));
  const uncles = Array.from({ length: uncleCount }, (_, i) => node(fields.length + i));
  return { type: 'hashes', ...fields, hashes, uncles };
}

/** Encodes a whole hash message, length prefix included. */
export function encodeHashMessage(message: HashMessage): Uint8Array {
  checkHashRequest(message);
  const nodes = message.type === 'hashes' ? [...message.hashes, ...message.uncles] : [];
  if (message.type === 'hashes') {
    const most = message.length + unclesInAnswer(message.length, message.proofLayers);
    if (message.hashes.length !== message.length || nodes.length > most)
      throw new RangeError('hashes message with the wrong number of hashes');
  }
  const body = 1 + HEADER_LENGTH + nodes.length * HASH;
  const bytes = new Uint8Array(4 + body);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, body);
  bytes[4] =
    message.type === 'hashRequest'
      ? HASH_REQUEST_ID
      : message.type === 'hashes'
        ? HASHES_ID
        : HASH_REJECT_ID;
  bytes.set(message.piecesRoot, 5);
  view.setUint32(37, message.baseLayer);
  view.setUint32(41, message.index);
  view.setUint32(45, message.length);
  view.setUint32(49, message.proofLayers);
  nodes.forEach((n, i) => {
    if (n.length !== HASH) throw new RangeError('hashes must be 32 bytes');
    bytes.set(n, 53 + i * HASH);
  });
  return bytes;
}
