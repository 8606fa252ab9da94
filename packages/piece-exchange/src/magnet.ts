/**
 * Magnet links (BEP 9 "magnet URI format", BEP 52 `btmh`, BEP 53 `so`, BEP 19 `ws`):
 * `magnet:?xt=urn:btih:<info-hash>&dn=<name>&tr=<tracker>&x.pe=<peer>&ws=<web seed>&so=<files>`.
 */
import { parseHex, toHex } from '@peerkit/transport';
import { MagnetError } from './errors';
import { ipv6ToBytes } from './wire/compact';

/** A peer address from `x.pe`: a literal IP (IPv6 without brackets) or a host name, and a port. */
export interface MagnetPeer {
  host: string;
  port: number;
}

/** An inclusive range of file indices from BEP 53 `so` (a single index is `[i, i]`). */
export type FileIndexRange = readonly [start: number, end: number];

export interface MagnetLink {
  /** v1 info-hash (20 bytes) from `xt=urn:btih:` (hex or base32). */
  infoHash?: Uint8Array;
  /** v2 info-hash (32-byte SHA-256) from `xt=urn:btmh:1220…`. */
  infoHashV2?: Uint8Array;
  /** `dn`: display name. */
  name?: string;
  /** `tr`: tracker URLs, in order. */
  trackers: string[];
  /** `x.pe`: peers to contact directly. */
  peers: MagnetPeer[];
  /** `ws`: BEP 19 web seeds. */
  webSeeds: string[];
  /** `so`: BEP 53 select-only file index ranges. */
  selectOnly?: FileIndexRange[];
}

export interface ParseMagnetOptions {
  /** Longest URI accepted (default 64 KiB). */
  maxLength?: number;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (no padding) of `bytes`. */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/** Decodes RFC 4648 base32 (case-insensitive, no padding), or returns undefined. */
export function base32Decode(text: string): Uint8Array | undefined {
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of text.toUpperCase()) {
    const value = BASE32.indexOf(char);
    if (value < 0) return undefined;
    buffer = ((buffer << 5) | value) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch (error) {
    throw new MagnetError(
      'INVALID_URI',
      `malformed percent-encoding in ${JSON.stringify(text.slice(0, 40))}`,
      {
        cause: error,
      },
    );
  }
}

/** `btih`: 40 hex characters or 32 base32 characters (BEP 9). */
function parseBtih(value: string): Uint8Array {
  const bytes =
    value.length === 40 ? parseHex(value) : value.length === 32 ? base32Decode(value) : undefined;
  if (bytes === undefined || bytes.length !== 20) {
    throw new MagnetError(
      'INVALID_INFO_HASH',
      `invalid btih info-hash ${JSON.stringify(value.slice(0, 80))}`,
    );
  }
  return bytes;
}

/** `btmh`: a hex multihash; BEP 52 uses SHA2-256, code 0x12 length 0x20. */
function parseBtmh(value: string): Uint8Array {
  const bytes = parseHex(value);
  if (bytes === undefined || bytes.length !== 34 || bytes[0] !== 0x12 || bytes[1] !== 0x20) {
    throw new MagnetError(
      'INVALID_INFO_HASH',
      `invalid btmh multihash ${JSON.stringify(value.slice(0, 80))}`,
    );
  }
  return bytes.subarray(2);
}

function parsePeer(value: string): MagnetPeer {
  const bad = () =>
    new MagnetError('INVALID_PEER', `invalid x.pe peer ${JSON.stringify(value.slice(0, 80))}`);
  const colon = value.lastIndexOf(':');
  if (colon <= 0) throw bad();
  let host = value.slice(0, colon);
  const portText = value.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText)) throw bad();
  const port = Number(portText);
  if (port < 1 || port > 0xffff) throw bad();
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
    if (ipv6ToBytes(host) === undefined) throw bad();
  } else if (!/^[A-Za-z0-9._-]+$/.test(host)) {
    throw bad();
  }
  return { host, port };
}

function parseSelectOnly(value: string): FileIndexRange[] {
  const bad = () =>
    new MagnetError(
      'INVALID_SELECT_ONLY',
      `invalid so (select only) ${JSON.stringify(value.slice(0, 80))}`,
    );
  const ranges: FileIndexRange[] = [];
  for (const part of value.split(',')) {
    const match = /^(\d{1,10})(?:-(\d{1,10}))?$/.exec(part);
    if (match === null) throw bad();
    const start = Number(match[1]);
    const end = match[2] === undefined ? start : Number(match[2]);
    if (start > 0xffffffff || end > 0xffffffff || end < start) throw bad();
    ranges.push([start, end]);
  }
  return ranges;
}

/**
 * Parses a magnet URI. Unknown parameters and unknown `xt` namespaces are ignored; a malformed
 * known parameter throws `MagnetError`. Parameter names may carry a `.N` suffix (`tr.1`, `xt.2`).
 */
export function parseMagnet(uri: string, options: ParseMagnetOptions = {}): MagnetLink {
  const maxLength = options.maxLength ?? 65536;
  if (uri.length > maxLength)
    throw new MagnetError('INVALID_URI', `magnet URI longer than ${maxLength}`);
  if (!/^magnet:\?/i.test(uri)) throw new MagnetError('INVALID_URI', 'not a magnet:? URI');
  const magnet: MagnetLink = { trackers: [], peers: [], webSeeds: [] };
  const query = uri.slice('magnet:?'.length);
  for (const parameter of query.split('&')) {
    if (parameter === '') continue;
    const equals = parameter.indexOf('=');
    if (equals <= 0)
      throw new MagnetError('INVALID_URI', `parameter without a value: ${parameter.slice(0, 40)}`);
    const key = decodeComponent(parameter.slice(0, equals)).replace(/\.\d+$/, '');
    const rawValue = parameter.slice(equals + 1);
    const value = decodeComponent(key === 'dn' ? rawValue.replace(/\+/g, ' ') : rawValue);
    switch (key) {
      case 'xt': {
        const lower = value.toLowerCase();
        if (lower.startsWith('urn:btih:')) {
          const hash = parseBtih(value.slice(9));
          magnet.infoHash ??= hash;
        } else if (lower.startsWith('urn:btmh:')) {
          const hash = parseBtmh(value.slice(9));
          magnet.infoHashV2 ??= hash;
        }
        break;
      }
      case 'dn':
        magnet.name ??= value;
        break;
      case 'tr':
        magnet.trackers.push(value);
        break;
      case 'ws':
        magnet.webSeeds.push(value);
        break;
      case 'x.pe':
        magnet.peers.push(parsePeer(value));
        break;
      case 'so':
        magnet.selectOnly = [...(magnet.selectOnly ?? []), ...parseSelectOnly(value)];
        break;
      default:
        break;
    }
  }
  if (magnet.infoHash === undefined && magnet.infoHashV2 === undefined) {
    throw new MagnetError('MISSING_INFO_HASH', 'no xt=urn:btih: or xt=urn:btmh: parameter');
  }
  return magnet;
}

/**
 * Formats a magnet URI: `xt` (btih in lower-case hex, then btmh), `dn`, `tr`, `ws`, `x.pe`, `so`,
 * values percent-encoded with encodeURIComponent.
 */
export function formatMagnet(magnet: MagnetLink): string {
  const parts: string[] = [];
  if (magnet.infoHash !== undefined) {
    if (magnet.infoHash.length !== 20) throw new RangeError('infoHash must be 20 bytes');
    parts.push(`xt=urn:btih:${toHex(magnet.infoHash)}`);
  }
  if (magnet.infoHashV2 !== undefined) {
    if (magnet.infoHashV2.length !== 32) throw new RangeError('infoHashV2 must be 32 bytes');
    parts.push(`xt=urn:btmh:1220${toHex(magnet.infoHashV2)}`);
  }
  if (parts.length === 0) throw new RangeError('a magnet link needs infoHash or infoHashV2');
  if (magnet.name !== undefined) parts.push(`dn=${encodeURIComponent(magnet.name)}`);
  for (const tracker of magnet.trackers) parts.push(`tr=${encodeURIComponent(tracker)}`);
  for (const seed of magnet.webSeeds) parts.push(`ws=${encodeURIComponent(seed)}`);
  for (const peer of magnet.peers) {
    const host = peer.host.includes(':') ? `[${peer.host}]` : peer.host;
    parts.push(`x.pe=${encodeURIComponent(`${host}:${peer.port}`)}`);
  }
  if (magnet.selectOnly !== undefined && magnet.selectOnly.length > 0) {
    const ranges = magnet.selectOnly.map(([start, end]) =>
      start === end ? `${start}` : `${start}-${end}`,
    );
    parts.push(`so=${ranges.join(',')}`);
  }
  return `magnet:?${parts.join('&')}`;
}

/** True when file `index` is selected by BEP 53 `so` ranges (everything when there are none). */
export function isFileSelected(
  selectOnly: readonly FileIndexRange[] | undefined,
  index: number,
): boolean {
  if (selectOnly === undefined || selectOnly.length === 0) return true;
  return selectOnly.some(([start, end]) => index >= start && index <= end);
}

/** The magnet link of a parsed torrent: info-hashes, name, trackers and web seeds. */
export function magnetFromMetainfo(metainfo: {
  infoHash?: Uint8Array | undefined;
  infoHashV2?: Uint8Array | undefined;
  name: string;
  announce: string[][];
  urlList: string[];
}): MagnetLink {
  const magnet: MagnetLink = {
    name: metainfo.name,
    trackers: metainfo.announce.flat(),
    peers: [],
    webSeeds: [...metainfo.urlList],
  };
  if (metainfo.infoHash !== undefined) magnet.infoHash = metainfo.infoHash;
  if (metainfo.infoHashV2 !== undefined) magnet.infoHashV2 = metainfo.infoHashV2;
  return magnet;
}
