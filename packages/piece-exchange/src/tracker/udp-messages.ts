/**
 * BEP 15 UDP tracker packets: connect, announce, scrape and error, requests and responses.
 * Every decoder is total: a value or `TrackerError` `INVALID_RESPONSE`, never another
 * exception. Integers are big-endian; 64-bit fields are bigint (connection id) or safe integers
 * (byte counts).
 */
import { TrackerError } from './errors';

/** BEP 15: the magic constant of a connect request. */
export const UDP_PROTOCOL_ID = 0x41727101980n;
export const ACTION_CONNECT = 0;
export const ACTION_ANNOUNCE = 1;
export const ACTION_SCRAPE = 2;
export const ACTION_ERROR = 3;
/** BEP 15: at most 74 info-hashes per scrape (the packet stays under 1 kB). */
export const MAX_SCRAPE_HASHES = 74;

/** BEP 15 announce `event`: 0 none, 1 completed, 2 started, 3 stopped. */
export type AnnounceEvent = 'none' | 'completed' | 'started' | 'stopped';
const EVENTS: readonly AnnounceEvent[] = ['none', 'completed', 'started', 'stopped'];

export interface UdpAnnounceRequest {
  connectionId: bigint;
  transactionId: number;
  infoHash: Uint8Array;
  peerId: Uint8Array;
  downloaded: number;
  left: number;
  uploaded: number;
  event: AnnounceEvent;
  /** 0: the packet's source address. */
  ip: number;
  key: number;
  /** -1: the tracker's default. */
  numWant: number;
  port: number;
}

export interface PeerAddress {
  host: string;
  port: number;
}

export type UdpRequest =
  | { action: 'connect'; transactionId: number }
  | ({ action: 'announce' } & UdpAnnounceRequest)
  | { action: 'scrape'; connectionId: bigint; transactionId: number; infoHashes: Uint8Array[] };

export interface ScrapeEntry {
  seeders: number;
  completed: number;
  leechers: number;
}

export type UdpResponse =
  | { action: 'connect'; transactionId: number; connectionId: bigint }
  | {
      action: 'announce';
      transactionId: number;
      interval: number;
      leechers: number;
      seeders: number;
      peers: PeerAddress[];
    }
  | { action: 'scrape'; transactionId: number; files: ScrapeEntry[] }
  | { action: 'error'; transactionId: number; message: string };

const invalid = (message: string) => new TrackerError('INVALID_RESPONSE', message);

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// --- requests --------------------------------------------------------------------------------

export function encodeConnectRequest(transactionId: number): Uint8Array {
  const out = new Uint8Array(16);
  const v = view(out);
  v.setBigUint64(0, UDP_PROTOCOL_ID);
  v.setUint32(8, ACTION_CONNECT);
  v.setUint32(12, transactionId >>> 0);
  return out;
}

export function encodeAnnounceRequest(r: UdpAnnounceRequest): Uint8Array {
  const out = new Uint8Array(98);
  const v = view(out);
  v.setBigUint64(0, r.connectionId);
  v.setUint32(8, ACTION_ANNOUNCE);
  v.setUint32(12, r.transactionId >>> 0);
  out.set(r.infoHash.subarray(0, 20), 16);
  out.set(r.peerId.subarray(0, 20), 36);
  v.setBigUint64(56, BigInt(r.downloaded));
  v.setBigUint64(64, BigInt(r.left));
  v.setBigUint64(72, BigInt(r.uploaded));
  v.setUint32(80, EVENTS.indexOf(r.event));
  v.setUint32(84, r.ip >>> 0);
  v.setUint32(88, r.key >>> 0);
  v.setInt32(92, r.numWant);
  v.setUint16(96, r.port);
  return out;
}

export function encodeScrapeRequest(
  connectionId: bigint,
  transactionId: number,
  infoHashes: readonly Uint8Array[],
): Uint8Array {
  if (infoHashes.length > MAX_SCRAPE_HASHES) throw new RangeError('at most 74 info-hashes');
  const out = new Uint8Array(16 + 20 * infoHashes.length);
  const v = view(out);
  v.setBigUint64(0, connectionId);
  v.setUint32(8, ACTION_SCRAPE);
  v.setUint32(12, transactionId >>> 0);
  infoHashes.forEach((h, i) => {
    out.set(h.subarray(0, 20), 16 + 20 * i);
  });
  return out;
}

/** The tracker side: a request packet, or `INVALID_RESPONSE` (the server drops it). */
export function decodeUdpRequest(packet: Uint8Array): UdpRequest {
  if (packet.length < 16) throw invalid(`request of ${packet.length} bytes`);
  const v = view(packet);
  const action = v.getUint32(8);
  const transactionId = v.getUint32(12);
  if (action === ACTION_CONNECT) {
    if (v.getBigUint64(0) !== UDP_PROTOCOL_ID) throw invalid('connect without the protocol id');
    return { action: 'connect', transactionId };
  }
  const connectionId = v.getBigUint64(0);
  if (action === ACTION_ANNOUNCE) {
    // BEP 41 options may follow the 98 bytes; they are ignored.
    if (packet.length < 98) throw invalid(`announce of ${packet.length} bytes`);
    const event = EVENTS[v.getUint32(80)];
    if (event === undefined) throw invalid(`announce event ${v.getUint32(80)}`);
    return {
      action: 'announce',
      connectionId,
      transactionId,
      infoHash: packet.slice(16, 36),
      peerId: packet.slice(36, 56),
      downloaded: Number(v.getBigUint64(56)),
      left: Number(v.getBigUint64(64)),
      uploaded: Number(v.getBigUint64(72)),
      event,
      ip: v.getUint32(84),
      key: v.getUint32(88),
      numWant: v.getInt32(92),
      port: v.getUint16(96),
    };
  }
  if (action === ACTION_SCRAPE) {
    const n = (packet.length - 16) / 20;
    if (!Number.isInteger(n) || n < 1 || n > MAX_SCRAPE_HASHES)
      throw invalid(`scrape of ${packet.length} bytes`);
    const infoHashes: Uint8Array[] = [];
    for (let i = 0; i < n; i++) infoHashes.push(packet.slice(16 + 20 * i, 36 + 20 * i));
    return { action: 'scrape', connectionId, transactionId, infoHashes };
  }
  throw invalid(`unknown action ${action}`);
}

// --- responses -------------------------------------------------------------------------------

export function encodeUdpResponse(r: UdpResponse, ipv6 = false): Uint8Array {
  switch (r.action) {
    case 'connect': {
      const out = new Uint8Array(16);
      const v = view(out);
      v.setUint32(0, ACTION_CONNECT);
      v.setUint32(4, r.transactionId >>> 0);
      v.setBigUint64(8, r.connectionId);
      return out;
    }
    case 'announce': {
      const size = ipv6 ? 18 : 6;
      const out = new Uint8Array(20 + size * r.peers.length);
      const v = view(out);
      v.setUint32(0, ACTION_ANNOUNCE);
      v.setUint32(4, r.transactionId >>> 0);
      v.setUint32(8, r.interval);
      v.setUint32(12, r.leechers);
      v.setUint32(16, r.seeders);
      r.peers.forEach((p, i) => {
        out.set(compactPeer(p, ipv6), 20 + size * i);
      });
      return out;
    }
    case 'scrape': {
      const out = new Uint8Array(8 + 12 * r.files.length);
      const v = view(out);
      v.setUint32(0, ACTION_SCRAPE);
      v.setUint32(4, r.transactionId >>> 0);
      r.files.forEach((f, i) => {
        v.setUint32(8 + 12 * i, f.seeders);
        v.setUint32(12 + 12 * i, f.completed);
        v.setUint32(16 + 12 * i, f.leechers);
      });
      return out;
    }
    case 'error': {
      const text = new TextEncoder().encode(r.message);
      const out = new Uint8Array(8 + text.length);
      const v = view(out);
      v.setUint32(0, ACTION_ERROR);
      v.setUint32(4, r.transactionId >>> 0);
      out.set(text, 8);
      return out;
    }
  }
}

/**
 * The client side: a response packet. Announce peers are 6 bytes each (IPv4) or, when the
 * tracker was reached over IPv6 (`ipv6`), 18 bytes (BEP 15 "IPv6").
 */
export function decodeUdpResponse(packet: Uint8Array, ipv6 = false): UdpResponse {
  if (packet.length < 8) throw invalid(`response of ${packet.length} bytes`);
  const v = view(packet);
  const action = v.getUint32(0);
  const transactionId = v.getUint32(4);
  switch (action) {
    case ACTION_CONNECT:
      if (packet.length < 16) throw invalid(`connect response of ${packet.length} bytes`);
      return { action: 'connect', transactionId, connectionId: v.getBigUint64(8) };
    case ACTION_ANNOUNCE: {
      const size = ipv6 ? 18 : 6;
      if (packet.length < 20 || (packet.length - 20) % size !== 0)
        throw invalid(`announce response of ${packet.length} bytes`);
      const peers: PeerAddress[] = [];
      for (let at = 20; at < packet.length; at += size)
        peers.push(parseCompactPeer(packet.subarray(at, at + size)));
      return {
        action: 'announce',
        transactionId,
        interval: v.getUint32(8),
        leechers: v.getUint32(12),
        seeders: v.getUint32(16),
        peers,
      };
    }
    case ACTION_SCRAPE: {
      if ((packet.length - 8) % 12 !== 0)
        throw invalid(`scrape response of ${packet.length} bytes`);
      const files: ScrapeEntry[] = [];
      for (let at = 8; at < packet.length; at += 12)
        files.push({
          seeders: v.getUint32(at),
          completed: v.getUint32(at + 4),
          leechers: v.getUint32(at + 8),
        });
      return { action: 'scrape', transactionId, files };
    }
    case ACTION_ERROR:
      return {
        action: 'error',
        transactionId,
        message: new TextDecoder('utf-8', { fatal: false }).decode(packet.subarray(8)),
      };
    default:
      throw invalid(`unknown action ${action}`);
  }
}

// --- compact peers (BEP 23 / BEP 7 form) ---------------------------------------------------

export function compactPeer(p: PeerAddress, ipv6: boolean): Uint8Array {
  const out = new Uint8Array(ipv6 ? 18 : 6);
  if (!ipv6) {
    const parts = p.host.split('.').map(Number);
    parts.forEach((n, i) => {
      out[i] = n & 0xff;
    });
  } else {
    const groups = expandIpv6(p.host);
    groups.forEach((g, i) => {
      out[2 * i] = g >> 8;
      out[2 * i + 1] = g & 0xff;
    });
  }
  out[out.length - 2] = p.port >> 8;
  out[out.length - 1] = p.port & 0xff;
  return out;
}

export function parseCompactPeer(bytes: Uint8Array): PeerAddress {
  const port = (bytes[bytes.length - 2]! << 8) | bytes[bytes.length - 1]!;
  if (bytes.length === 6) return { host: Array.from(bytes.subarray(0, 4)).join('.'), port };
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return { host: groups.join(':'), port };
}

function expandIpv6(host: string): number[] {
  const [head = '', tail] = host.split('::');
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)));
  const a = parse(head);
  const b = tail === undefined ? [] : parse(tail);
  const zeros = new Array<number>(Math.max(0, 8 - a.length - b.length)).fill(0);
  return [...a, ...zeros, ...b].slice(0, 8).map((n) => (Number.isFinite(n) ? n & 0xffff : 0));
}
