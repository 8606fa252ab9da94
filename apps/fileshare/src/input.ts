/**
 * Turning command-line arguments into typed values: what `get` should fetch (a magnet link, a
 * .torrent file or a bare info-hash), peer addresses, ports and sizes. Every failure is a
 * `CliError` with a one-line message.
 */
import { readFile, stat } from 'node:fs/promises';
import * as kit from '@peerkit/cli-kit';
import {
  base32Decode,
  type MagnetLink,
  type MagnetPeer,
  type Metainfo,
  parseMagnet,
  parseTorrent,
} from '@peerkit/piece-exchange';
import type { Address } from '@peerkit/transport';
import { CliError, describeError, errorCode } from './errors';

/** What `get` and `info` were asked about. */
export type Target =
  | { kind: 'torrent'; path: string; bytes: Uint8Array; metainfo: Metainfo }
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
): Promise<{ bytes: Uint8Array; metainfo: Metainfo }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new CliError('MISSING_PATH', `cannot read ${path}: ${nodeReason(error)}`, {
      cause: error,
    });
  }
  return { bytes, metainfo: parseTorrentBytes(path, bytes) };
}

/**
 * Parses .torrent bytes (v1, v2-only or hybrid: all three transfer); `INVALID_TORRENT` with the
 * parser's reason when they are not a torrent.
 */
export function parseTorrentBytes(path: string, bytes: Uint8Array): Metainfo {
  try {
    return parseTorrent(bytes);
  } catch (error) {
    throw new CliError(
      'INVALID_TORRENT',
      `${path} is not a valid .torrent file: ${describeError(error)} (${errorCode(error)})`,
      { cause: error },
    );
  }
}

/**
 * Parses a magnet link; `INVALID_MAGNET` when it is malformed. `infoHash` is the 20-byte hash
 * peers know the torrent by: the v1 one, or a v2-only magnet's SHA-256 one truncated (BEP 52).
 */
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
  // parseMagnet guarantees one of the two.
  const infoHash = magnet.infoHash ?? magnet.infoHashV2!.subarray(0, 20);
  return { magnet, infoHash };
}

/** What a target argument is, from its text and whether it names a file (nothing is read). */
export async function classifyTarget(
  text: string,
): Promise<{ kind: 'magnet' } | { kind: 'torrent' } | { kind: 'info-hash'; infoHash: Uint8Array }> {
  if (/^magnet:/i.test(text)) return { kind: 'magnet' };
  const exists = await stat(text).then(
    (s) => s.isFile(),
    () => false,
  );
  if (exists) return { kind: 'torrent' };
  const infoHash = parseInfoHash(text);
  if (infoHash !== undefined) return { kind: 'info-hash', infoHash };
  if (text.endsWith('.torrent')) throw new CliError('MISSING_PATH', `no such file: ${text}`);
  throw new CliError(
    'INVALID_TARGET',
    `${JSON.stringify(text)} is not a magnet link, a .torrent file or a 40-hex/32-base32 info-hash`,
  );
}

/** A magnet link, an existing .torrent file, or a bare info-hash (hex or base32). */
export async function readTarget(text: string): Promise<Target> {
  const kind = await classifyTarget(text);
  if (kind.kind === 'magnet') return { kind: 'magnet', ...readMagnet(text) };
  if (kind.kind === 'torrent')
    return { kind: 'torrent', path: text, ...(await readTorrentFile(text)) };
  return kind;
}

/** A cli-kit usage error as this app's `CliError` (same code, same message). */
function asCliError(error: unknown, code: 'INVALID_ADDRESS' | 'INVALID_OPTION'): CliError {
  return new CliError(code, describeError(error), { cause: error });
}

/** `host:port`, `[v6]:port` or `name:port` (resolved); `INVALID_ADDRESS` otherwise. */
export async function parsePeerAddress(text: string, name = 'HOST:PORT'): Promise<Address> {
  try {
    return await kit.resolveHostPort(text, name);
  } catch (error) {
    throw asCliError(error, 'INVALID_ADDRESS');
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
  try {
    return kit.parsePort(text, name);
  } catch (error) {
    throw asCliError(error, 'INVALID_OPTION');
  }
}

/** A byte size: `262144`, `256k`, `4M`, `1.5MiB`, `1G`. */
export function parseSize(text: string, name: string): number {
  try {
    return kit.parseSize(text, name);
  } catch (error) {
    throw asCliError(error, 'INVALID_OPTION');
  }
}

/** A number > 0 (seconds, a ratio); a whole number with `integer`. */
export function parsePositive(text: string, name: string, integer = false): number {
  try {
    return kit.parsePositive(text, name, integer);
  } catch (error) {
    throw asCliError(error, 'INVALID_OPTION');
  }
}

function nodeReason(error: unknown): string {
  const code = errorCode(error);
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return describeError(error);
}
