/**
 * Compact peer addresses (BEP 23 / BEP 11 / BEP 7): an IPv4 peer is 4 address bytes + 2 port
 * bytes, an IPv6 peer 16 + 2, all big-endian. Hosts are literal addresses as strings (IPv6 in
 * RFC 5952 form: lower case, longest zero run compressed), like `@peerkit/transport`'s `Address`.
 */
import type { Address } from '@peerkit/transport';

/** Parses a dotted-quad IPv4 literal into 4 bytes, or returns undefined. */
export function ipv4ToBytes(host: string): Uint8Array | undefined {
  const parts = host.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes[i] = value;
  }
  return bytes;
}

/** Parses an IPv6 literal (with `::` and an optional embedded IPv4 tail) into 16 bytes. */
export function ipv6ToBytes(host: string): Uint8Array | undefined {
  if (host.length === 0 || host.length > 45) return undefined;
  let text = host;
  let tail: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.slice(lastColon + 1).includes('.')) {
    tail = ipv4ToBytes(text.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups: number[] = [];
    for (const group of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
      groups.push(Number.parseInt(group, 16));
    }
    return groups;
  };
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if (head === undefined || rest === undefined) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - rest.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...rest];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return undefined;
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[i * 2] = group >> 8;
    bytes[i * 2 + 1] = group & 0xff;
  });
  if (tail !== undefined) bytes.set(tail, 12);
  return bytes;
}

/** Dotted-quad text of 4 bytes. */
export function bytesToIPv4(bytes: Uint8Array): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/** RFC 5952 text of 16 bytes: lower-case hex, the longest run (≥ 2) of zero groups as `::`. */
export function bytesToIPv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[i * 2]! << 8) | bytes[i * 2 + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLength).join(':');
  return `${left}::${right}`;
}

/** The address family of a literal host, or undefined when it is neither. */
export function hostFamily(host: string): 'IPv4' | 'IPv6' | undefined {
  if (ipv4ToBytes(host) !== undefined) return 'IPv4';
  if (ipv6ToBytes(host) !== undefined) return 'IPv6';
  return undefined;
}

/** Encodes addresses of one family as compact peer info (6 or 18 bytes each). */
export function encodeCompactPeers(peers: readonly Address[], family: 'IPv4' | 'IPv6'): Uint8Array {
  const size = family === 'IPv4' ? 6 : 18;
  const out = new Uint8Array(peers.length * size);
  peers.forEach((peer, i) => {
    const address = family === 'IPv4' ? ipv4ToBytes(peer.host) : ipv6ToBytes(peer.host);
    if (address === undefined) throw new RangeError(`not an ${family} literal: ${peer.host}`);
    if (!Number.isInteger(peer.port) || peer.port < 0 || peer.port > 0xffff) {
      throw new RangeError(`port out of range: ${peer.port}`);
    }
    out.set(address, i * size);
    out[i * size + size - 2] = peer.port >> 8;
    out[i * size + size - 1] = peer.port & 0xff;
  });
  return out;
}

/**
 * Decodes compact peer info of one family. Returns undefined when the length is not a multiple
 * of 6 (IPv4) or 18 (IPv6).
 */
export function decodeCompactPeers(
  bytes: Uint8Array,
  family: 'IPv4' | 'IPv6',
): Address[] | undefined {
  const size = family === 'IPv4' ? 6 : 18;
  if (bytes.length % size !== 0) return undefined;
  const peers: Address[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) {
    const address = bytes.subarray(offset, offset + size - 2);
    const host = family === 'IPv4' ? bytesToIPv4(address) : bytesToIPv6(address);
    const port = (bytes[offset + size - 2]! << 8) | bytes[offset + size - 1]!;
    peers.push({ host, port });
  }
  return peers;
}
