/**
 * KRPC, the DHT's message format (BEP 5 "KRPC Protocol"): one bencoded dictionary per UDP
 * datagram with a transaction id `t`, a type `y` (`q` query, `r` response, `e` error) and
 * the query name `q` with arguments `a`, the response values `r`, or the error `e` = [code, text].
 *
 * This module maps datagrams to typed messages and back, nothing else. It keeps compact node
 * info (`nodes`, `nodes6`) and peer info (`values`) as raw bytes (see `./compact`), and BEP 44
 * values `v` as their raw bencoded bytes (needed for signatures and targets).
 *
 * Extensions carried: BEP 32 (`nodes6`, `want`), BEP 42 (top-level `ip`), BEP 43 (`ro`),
 * BEP 44 (`get`/`put` arguments and values), BEP 51 (`sample_infohashes` values `interval`,
 * `num`, `samples`), BEP 20 style client version (top-level `v`).
 *
 * `decodeMessage` is total: any bytes give a message or a `DHTError` `MALFORMED_MESSAGE` /
 * `MESSAGE_TOO_LARGE`.
 */
import {
  type BencodeDict,
  type BencodeInputDict,
  type BencodeSpan,
  type BencodeValue,
  decode,
  decodeWithSpans,
  encode,
  isBencodeDict,
} from '@peerkit/bencode';
import type { Address } from '@peerkit/transport';
import { decodeCompactPeer, encodeCompactPeer } from './compact';
import { DHTError } from './errors';
import { ID_LENGTH, type NodeId } from './node-id';

/** BEP 5 error codes, plus BEP 44's. */
export const KRPC_ERROR = {
  GENERIC: 201,
  SERVER: 202,
  PROTOCOL: 203,
  METHOD_UNKNOWN: 204,
  /** BEP 44: `v` too big. */
  MESSAGE_TOO_BIG: 205,
  /** BEP 44: invalid signature. */
  INVALID_SIGNATURE: 206,
  /** BEP 44: salt too big. */
  SALT_TOO_BIG: 207,
  /** BEP 44: CAS mismatch. */
  CAS_MISMATCH: 301,
  /** BEP 44: sequence number less than current. */
  SEQUENCE_TOO_LOW: 302,
} as const;

/** Arguments of a query (`a`). Which ones a query needs depends on its method (BEP 5, 44). */
export interface QueryArguments {
  /** `id`: the querying node. */
  id: NodeId;
  /** `target`: find_node, get (BEP 44), sample_infohashes (BEP 51). */
  target?: NodeId;
  /** `info_hash`: get_peers, announce_peer. */
  infoHash?: NodeId;
  /** `port`: announce_peer. */
  port?: number;
  /** `implied_port`: announce_peer; the UDP source port is the peer port. */
  impliedPort?: boolean;
  /** `token`: announce_peer, put. */
  token?: Uint8Array;
  /** BEP 32 `want`: `n4` and/or `n6`. */
  want?: string[];
  /** BEP 44 `v`: the raw bencoded value. */
  v?: Uint8Array;
  /** BEP 44 `k`: ed25519 public key (32 bytes). */
  k?: Uint8Array;
  /** BEP 44 `sig`: ed25519 signature (64 bytes). */
  sig?: Uint8Array;
  /** BEP 44 `seq` (put) or the minimum sequence wanted (get). */
  seq?: number;
  /** BEP 44 `cas`. */
  cas?: number;
  /** BEP 44 `salt`. */
  salt?: Uint8Array;
}

/** Values of a response (`r`). */
export interface ResponseValues {
  id: NodeId;
  /** Compact IPv4 node info, raw (26 bytes each). */
  nodes?: Uint8Array;
  /** BEP 32: compact IPv6 node info, raw (38 bytes each). */
  nodes6?: Uint8Array;
  token?: Uint8Array;
  /** Compact peer info strings (6 or 18 bytes each). */
  values?: Uint8Array[];
  /** BEP 44: raw bencoded value. */
  v?: Uint8Array;
  k?: Uint8Array;
  sig?: Uint8Array;
  seq?: number;
  /** BEP 51 `interval`: seconds before the sample changes (the BEP allows 0-21600). */
  interval?: number;
  /** BEP 51 `num`: how many info-hashes the responder stores. */
  num?: number;
  /** BEP 51 `samples`: stored info-hashes, concatenated, raw (20 bytes each). */
  samples?: Uint8Array;
}

/** BEP 51: one info-hash in `samples` is 20 bytes. */
export const SAMPLE_BYTES = ID_LENGTH;

interface Common {
  /** `t`: transaction id, echoed in the response. */
  t: Uint8Array;
  /** Top-level `v`: client version string (BEP 20 style), if sent. */
  version?: Uint8Array;
}

export interface KrpcQuery extends Common {
  y: 'q';
  /** `q`: the method, e.g. `find_node`. */
  q: string;
  a: QueryArguments;
  /** BEP 43 `ro`: the sender is read-only; do not add it to routing tables. */
  ro?: boolean;
}

export interface KrpcResponse extends Common {
  y: 'r';
  r: ResponseValues;
  /** BEP 42 `ip`: the address the responder saw us at. */
  ip?: Address;
}

export interface KrpcErrorMessage extends Common {
  y: 'e';
  e: { code: number; message: string };
  ip?: Address;
}

export type KrpcMessage = KrpcQuery | KrpcResponse | KrpcErrorMessage;

export interface DecodeMessageOptions {
  /** Reject datagrams longer than this (default 8,192 bytes). */
  maxMessageBytes?: number;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 8192;
/** Nesting allowed in a KRPC message: dict > dict > BEP 44 value (which may nest a bit). */
const MAX_DEPTH = 16;
const MAX_ITEMS = 2048;

const textDecoder = new TextDecoder();

function malformed(message: string): DHTError {
  return new DHTError('MALFORMED_MESSAGE', message);
}

/** Decodes one KRPC datagram. Unknown keys are ignored; known keys must have their type. */
export function decodeMessage(data: Uint8Array, options: DecodeMessageOptions = {}): KrpcMessage {
  const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (data.length > max) throw new DHTError('MESSAGE_TOO_LARGE', `${data.length} bytes`);
  let root: BencodeValue;
  let span: BencodeSpan | undefined;
  // Lenient: real clients send unsorted keys now and then; BEP 44 values are checked strictly
  // where it matters (put), from their raw bytes.
  const options_ = {
    strict: false,
    maxDepth: MAX_DEPTH,
    maxItems: MAX_ITEMS,
    maxIntegerDigits: 80,
  };
  try {
    root = decode(data, options_);
    // Spans (the raw bytes of a BEP 44 `v`) only when there is a `v` to keep.
    if (isBencodeDict(root) && (hasKey(root.a, 'v') || hasKey(root.r, 'v'))) {
      span = decodeWithSpans(data, options_).span;
    }
  } catch (e) {
    throw new DHTError('MALFORMED_MESSAGE', 'not bencode', { cause: e });
  }
  if (!isBencodeDict(root)) throw malformed('not a dictionary');
  const t = bytes(root.t, 't');
  if (t === undefined) throw malformed('missing t');
  const y = text(root.y, 'y');
  const version = bytes(root.v, 'v');
  const common: Common = version === undefined ? { t } : { t, version };
  const raw = (key: 'a' | 'r', field: string): Uint8Array | undefined => {
    const s = span?.entries?.[key]?.entries?.[field];
    return s ? new Uint8Array(data.subarray(s.start, s.end)) : undefined;
  };
  if (y === 'q') {
    const q = text(root.q, 'q');
    if (q === undefined) throw malformed('missing q');
    const a = dict(root.a, 'a');
    const msg: KrpcQuery = { ...common, y: 'q', q, a: decodeArguments(a, raw('a', 'v')) };
    const ro = int(root.ro, 'ro');
    if (ro !== undefined) msg.ro = ro !== 0;
    return msg;
  }
  if (y === 'r') {
    const r = dict(root.r, 'r');
    const msg: KrpcResponse = { ...common, y: 'r', r: decodeValues(r, raw('r', 'v')) };
    const ip = compactIp(root.ip);
    if (ip) msg.ip = ip;
    return msg;
  }
  if (y === 'e') {
    const e = root.e;
    if (!Array.isArray(e) || e.length < 2) throw malformed('e must be [code, message]');
    const code = int(e[0], 'error code');
    const message = bytes(e[1], 'error message');
    if (code === undefined || message === undefined) throw malformed('e must be [code, message]');
    const msg: KrpcErrorMessage = {
      ...common,
      y: 'e',
      e: { code, message: textDecoder.decode(message) },
    };
    const ip = compactIp(root.ip);
    if (ip) msg.ip = ip;
    return msg;
  }
  throw malformed('y must be q, r or e');
}

function hasKey(v: BencodeValue | undefined, key: string): boolean {
  return isBencodeDict(v) && Object.hasOwn(v, key);
}

function decodeArguments(a: BencodeDict, rawV: Uint8Array | undefined): QueryArguments {
  const args: QueryArguments = { id: id20(a.id, 'id', true)! };
  const target = id20(a.target, 'target');
  if (target) args.target = target;
  const infoHash = id20(a.info_hash, 'info_hash');
  if (infoHash) args.infoHash = infoHash;
  const port = int(a.port, 'port');
  if (port !== undefined) {
    if (port < 0 || port > 65535) throw malformed('port out of range');
    args.port = port;
  }
  const implied = int(a.implied_port, 'implied_port');
  if (implied !== undefined) args.impliedPort = implied !== 0;
  const token = bytes(a.token, 'token');
  if (token) args.token = token;
  if (a.want !== undefined) {
    if (!Array.isArray(a.want)) throw malformed('want must be a list');
    args.want = a.want.map((w) => text(w, 'want')!).filter((w) => w !== undefined);
  }
  if (rawV) args.v = rawV;
  decodeItemFields(a, args);
  const cas = int(a.cas, 'cas');
  if (cas !== undefined) args.cas = cas;
  const salt = bytes(a.salt, 'salt');
  if (salt) args.salt = salt;
  return args;
}

function decodeValues(r: BencodeDict, rawV: Uint8Array | undefined): ResponseValues {
  const values: ResponseValues = { id: id20(r.id, 'id', true)! };
  const nodes = bytes(r.nodes, 'nodes');
  if (nodes) values.nodes = nodes;
  const nodes6 = bytes(r.nodes6, 'nodes6');
  if (nodes6) values.nodes6 = nodes6;
  const token = bytes(r.token, 'token');
  if (token) values.token = token;
  if (r.values !== undefined) {
    if (!Array.isArray(r.values)) throw malformed('values must be a list');
    values.values = r.values.map((v) => bytes(v, 'values entry')!);
  }
  if (rawV) values.v = rawV;
  decodeItemFields(r, values);
  decodeSampleFields(r, values);
  return values;
}

/** BEP 51 "message format": `samples` is N x 20 bytes; `interval` and `num` are integers. */
function decodeSampleFields(r: BencodeDict, into: ResponseValues) {
  const samples = bytes(r.samples, 'samples');
  if (samples) {
    if (samples.length % SAMPLE_BYTES !== 0) {
      throw malformed(`samples is ${samples.length} bytes, not a multiple of ${SAMPLE_BYTES}`);
    }
    into.samples = samples;
  }
  const num = int(r.num, 'num');
  if (num !== undefined) {
    if (num < 0) throw malformed('num is negative');
    into.num = num;
  }
  const interval = int(r.interval, 'interval');
  if (interval !== undefined) {
    if (interval < 0) throw malformed('interval is negative');
    into.interval = interval;
  }
}

function decodeItemFields(
  d: BencodeDict,
  into: { k?: Uint8Array; sig?: Uint8Array; seq?: number },
) {
  const k = bytes(d.k, 'k');
  if (k) into.k = k;
  const sig = bytes(d.sig, 'sig');
  if (sig) into.sig = sig;
  const seq = int(d.seq, 'seq');
  if (seq !== undefined) into.seq = seq;
}

function bytes(v: BencodeValue | undefined, what: string): Uint8Array | undefined {
  if (v === undefined) return undefined;
  if (!(v instanceof Uint8Array)) throw malformed(`${what} must be a byte string`);
  return v;
}

function text(v: BencodeValue | undefined, what: string): string | undefined {
  const b = bytes(v, what);
  return b === undefined ? undefined : textDecoder.decode(b);
}

function int(v: BencodeValue | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number') throw malformed(`${what} must be a (safe) integer`);
  return v;
}

function dict(v: BencodeValue | undefined, what: string): BencodeDict {
  if (!isBencodeDict(v)) throw malformed(`${what} must be a dictionary`);
  return v;
}

function id20(v: BencodeValue | undefined, what: string, required = false): NodeId | undefined {
  const b = bytes(v, what);
  if (b === undefined) {
    if (required) throw malformed(`missing ${what}`);
    return undefined;
  }
  if (b.length !== ID_LENGTH) throw malformed(`${what} must be 20 bytes`);
  return b;
}

function compactIp(v: BencodeValue | undefined): Address | undefined {
  // BEP 42 `ip` is advisory: a malformed one is ignored rather than failing the message.
  if (!(v instanceof Uint8Array) || (v.length !== 6 && v.length !== 18)) return undefined;
  return decodeCompactPeer(v);
}

/** Encodes a message as one bencoded dictionary (keys sorted, BEP 3). */
export function encodeMessage(message: KrpcMessage): Uint8Array {
  const out: Record<string, BencodeInputDict[string]> = { t: message.t, y: message.y };
  if (message.version) out.v = message.version;
  if (message.y === 'q') {
    out.q = message.q;
    out.a = encodeArguments(message.a);
    if (message.ro !== undefined) out.ro = message.ro ? 1 : 0;
  } else if (message.y === 'r') {
    out.r = encodeValues(message.r);
    if (message.ip) out.ip = encodeCompactPeer(message.ip);
  } else {
    out.e = [message.e.code, message.e.message];
    if (message.ip) out.ip = encodeCompactPeer(message.ip);
  }
  return encode(out);
}

function rawValue(v: Uint8Array): BencodeValue {
  // BEP 44 values travel as canonical bencode; re-encoding the decoded value gives the same bytes.
  try {
    return decode(v);
  } catch (e) {
    throw new DHTError('INVALID_ARGUMENT', 'v is not canonical bencode', { cause: e });
  }
}

function encodeArguments(a: QueryArguments): BencodeInputDict {
  return {
    id: a.id,
    target: a.target,
    info_hash: a.infoHash,
    port: a.port,
    implied_port: a.impliedPort === undefined ? undefined : a.impliedPort ? 1 : 0,
    token: a.token,
    want: a.want,
    v: a.v === undefined ? undefined : rawValue(a.v),
    k: a.k,
    sig: a.sig,
    seq: a.seq,
    cas: a.cas,
    salt: a.salt,
  };
}

function encodeValues(r: ResponseValues): BencodeInputDict {
  return {
    id: r.id,
    nodes: r.nodes,
    nodes6: r.nodes6,
    token: r.token,
    values: r.values,
    v: r.v === undefined ? undefined : rawValue(r.v),
    k: r.k,
    sig: r.sig,
    seq: r.seq,
    interval: r.interval,
    num: r.num,
    samples: r.samples,
  };
}

/**
 * Best effort for a datagram `decodeMessage` rejected: if it still looks like a query with a
 * transaction id, returns that id so the node can answer with error 203 (BEP 5 "Protocol Error").
 */
export function peekQueryTransaction(data: Uint8Array): Uint8Array | undefined {
  try {
    const root = decode(data, { strict: false, maxDepth: MAX_DEPTH, maxItems: MAX_ITEMS });
    if (!isBencodeDict(root)) return undefined;
    const t = root.t;
    const y = root.y;
    if (t instanceof Uint8Array && y instanceof Uint8Array && y.length === 1 && y[0] === 0x71) {
      return t;
    }
  } catch {
    // Not bencode at all: nothing to answer.
  }
  return undefined;
}
