/**
 * Turning command-line arguments into typed values: what `get` should fetch (a magnet link, a
 * .torrent file or a bare info-hash), peer addresses, ports and sizes. Every failure is a
 * `CliError` with a one-line message.
 */
import { lookup } from 'node:dns/promises';
import { readFile, stat } from 'node:fs/promises';
import {
  base32Decode,
  type MagnetLink,
  type MagnetPeer,
  parseMagnet,
  parseTorrent,
  requireV1,
  type V1Metainfo,
} from '@peerkit/piece-exchange';
import { type Address, addressFamily, isValidPort } from '@peerkit/transport';
import { CliError, describeError, errorCode } from './errors';

/** What `get` and `info` were asked about. */
export type Target =
  | { kind: 'torrent'; path: string; bytes: Uint8Array; metainfo: V1Metainfo }
  | { kind: 'magnet'; magnet: MagnetLink; infoHash: Uint8Array }
  | { kind: 'info-hash'; infoHash: Uint8Array };

/** A 40-character hex or 32-character base32 info-hash, or undefined. */
export function parseInfoHash(text: string): Uint8Array | undefined {
  if (/^[0-9a-fA-F]{40}$/.test(text)) return Uint8Array.from(Buffer.from(text, 'hex'));
  if (/^[A-Za-z2-7]{32}$/.test(text)) {
    const bytes = base32Decode(text);
    return bytes?.length === 20 ? bytes : undefined;
  }
  return undefined;
}

/** Reads and parses a .torrent file; `MISSING_PATH` or `INVALID_TORRENT` on failure. */
export async function readTorrentFile(
  path: string,
): Promise<{ bytes: Uint8Array; metainfo: V1Metainfo }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new CliError('MISSING_PATH', `cannot read ${path}: ${nodeReason(error)}`, {
      cause: error,
    });
  }
  try {
    return { bytes, metainfo: requireV1(parseTorrent(bytes)) };
  } catch (error) {
    throw new CliError(
      'INVALID_TORRENT',
      `${path} is not a usable .torrent file: ${describeError(error)} (${errorCode(error)})`,
      {
        cause: error,
      },
    );
  }
}

/** Parses a magnet link; `INVALID_MAGNET` when it is malformed or has no v1 info-hash. */
export function readMagnet(text: string): { magnet: MagnetLink; infoHash: Uint8Array } {
  let magnet: MagnetLink;
  try {
    magnet = parseMagnet(text);
  } catch (error) {
    throw new CliError(
      'INVALID_MAGNET',
      `invalid magnet link: ${describeError(error)} (${errorCode(error)})`,
      {
        cause: error,
      },
    );
  }
  if (magnet.infoHash === undefined) {
    throw new CliError(
      'INVALID_MAGNET',
      'invalid magnet link: it has no v1 info-hash (xt=urn:btih:), only v2',
    );
  }
  return { magnet, infoHash: magnet.infoHash };
}

/** A magnet link, an existing .torrent file, or a bare info-hash (hex or base32). */
export async function readTarget(text: string): Promise<Target> {
  if (/^magnet:/i.test(text)) return { kind: 'magnet', ...readMagnet(text) };
  const exists = await stat(text).then(
    (s) => s.isFile(),
    () => false,
  );
  if (exists) return { kind: 'torrent', path: text, ...(await readTorrentFile(text)) };
  const infoHash = parseInfoHash(text);
  if (infoHash !== undefined) return { kind: 'info-hash', infoHash };
  if (text.endsWith('.torrent')) throw new CliError('MISSING_PATH', `no such file: ${text}`);
  throw new CliError(
    'INVALID_TARGET',
    `${JSON.stringify(text)} is not a magnet link, a .torrent file or a 40-hex/32-base32 info-hash`,
  );
}

/** `host:port`, `[v6]:port` or `name:port` (resolved); `INVALID_ADDRESS` otherwise. */
export async function parsePeerAddress(text: string): Promise<Address> {
  const bad = () =>
    new CliError('INVALID_ADDRESS', `not a host:port address: ${JSON.stringify(text)}`);
  const match = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:[\]]+):(\d{1,5})$/.exec(text);
  if (match === null) throw bad();
  const port = Number(match[2]);
  if (!isValidPort(port) || port === 0) throw bad();
  const host = match[1]!;
  if (addressFamily(host) !== undefined) return { host, port };
  try {
    const resolved = await lookup(host);
    return { host: resolved.address, port };
  } catch (error) {
    throw new CliError('INVALID_ADDRESS', `cannot resolve ${host}: ${nodeReason(error)}`, {
      cause: error,
    });
  }
}

/** The addresses of a magnet link's `x.pe` peers that are literal IPs or resolvable names. */
export async function magnetPeers(peers: readonly MagnetPeer[]): Promise<Address[]> {
  const out: Address[] = [];
  for (const peer of peers) {
    const host = peer.host.includes(':') ? `[${peer.host}]` : peer.host;
    try {
      out.push(await parsePeerAddress(`${host}:${peer.port}`));
    } catch {
      // An unresolvable x.pe host is skipped: the DHT and --peer may still find peers.
    }
  }
  return out;
}

/** A TCP/UDP port option: 0 (any free port) to 65535. */
export function parsePort(text: string, name: string): number {
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || !isValidPort(port)) {
    throw new CliError(
      'INVALID_OPTION',
      `${name} must be a port number 0-65535, got ${JSON.stringify(text)}`,
    );
  }
  return port;
}

/** A byte size: `262144`, `256k`, `4M`, `1.5MiB`, `1G`. */
export function parseSize(text: string, name: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?)(i?b)?$/i.exec(text.trim());
  if (match === null)
    throw new CliError(
      'INVALID_OPTION',
      `${name} must be a size like 262144, 256k or 4M, got ${JSON.stringify(text)}`,
    );
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[
    match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'
  ];
  return Math.round(Number(match[1]) * unit);
}

function nodeReason(error: unknown): string {
  const code = errorCode(error);
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return describeError(error);
}
