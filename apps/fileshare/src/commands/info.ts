/** `peerkit-share info <file.torrent | magnet | info-hash>`: what a torrent or magnet describes. */
import { readFile } from 'node:fs/promises';
import {
  formatMagnet,
  type MagnetLink,
  type Metainfo,
  magnetFromMetainfo,
} from '@peerkit/piece-exchange';
import { formatAddress } from '@peerkit/transport';
import { CliError, describeError } from '../errors';
import { classifyTarget, parseTorrentBytes, readMagnet } from '../input';

export interface TorrentSummary {
  kind: 'torrent' | 'magnet' | 'info-hash';
  name: string | undefined;
  infoHash: string | undefined;
  infoHashV2: string | undefined;
  version: string | undefined;
  length: number | undefined;
  pieceLength: number | undefined;
  pieces: number | undefined;
  /** Without BEP 47 padding files; `index` counts from 1 in the torrent's file order (`get --select`). */
  files: { index: number; path: string; length: number }[];
  trackers: string[];
  peers: string[];
  private: boolean | undefined;
  comment: string | undefined;
  createdBy: string | undefined;
  /** BEP 3 `creation date`, seconds since the epoch. */
  creationDate: number | undefined;
  magnet: string;
}

const hex = (bytes: Uint8Array | undefined) =>
  bytes ? Buffer.from(bytes).toString('hex') : undefined;

function fromMetainfo(m: Metainfo): TorrentSummary {
  return {
    kind: 'torrent',
    name: m.name,
    infoHash: hex(m.infoHash),
    infoHashV2: hex(m.infoHashV2),
    version: m.version,
    length: m.files.filter((f) => !f.padding).reduce((n, f) => n + f.length, 0),
    pieceLength: m.pieceLength,
    pieces: Math.ceil(m.length / m.pieceLength),
    files: m.files
      .map((f, i) => ({
        index: i + 1,
        path: f.path.join('/'),
        length: f.length,
        padding: f.padding,
      }))
      .filter((f) => !f.padding)
      .map(({ index, path, length }) => ({ index, path, length })),
    trackers: m.announce.flat(),
    peers: [],
    private: m.private,
    comment: m.comment,
    createdBy: m.createdBy,
    creationDate: m.creationDate,
    magnet: formatMagnet(magnetFromMetainfo(m)),
  };
}

function fromMagnet(m: MagnetLink): TorrentSummary {
  return {
    kind: 'magnet',
    name: m.name,
    infoHash: hex(m.infoHash),
    infoHashV2: hex(m.infoHashV2),
    version: undefined,
    length: undefined,
    pieceLength: undefined,
    pieces: undefined,
    files: [],
    trackers: m.trackers,
    peers: m.peers.map(formatAddress),
    private: undefined,
    comment: undefined,
    createdBy: undefined,
    creationDate: undefined,
    magnet: formatMagnet(m),
  };
}

/**
 * Reads a .torrent (v1, v2 or hybrid), a magnet link or an info-hash. A bad argument gets the
 * same error as from `get` (`classifyTarget`, `parseTorrentBytes`).
 */
export async function describeTarget(target: string): Promise<TorrentSummary> {
  const kind = await classifyTarget(target);
  if (kind.kind === 'magnet') return fromMagnet(readMagnet(target).magnet);
  if (kind.kind === 'info-hash')
    return fromMagnet({ infoHash: kind.infoHash, trackers: [], peers: [], webSeeds: [] });
  let bytes: Uint8Array;
  try {
    bytes = await readFile(target);
  } catch (error) {
    throw new CliError('MISSING_PATH', `cannot read ${target}: ${describeError(error)}`, {
      cause: error,
    });
  }
  return fromMetainfo(parseTorrentBytes(target, bytes));
}

/** The summary as text lines. */
export function formatSummary(s: TorrentSummary, formatBytes: (n: number) => string): string[] {
  const lines: string[] = [];
  const row = (label: string, value: string | undefined) => {
    if (value !== undefined) lines.push(`${`${label}:`.padEnd(14)}${value}`);
  };
  row('name', s.name);
  row('info-hash', s.infoHash);
  row('info-hash v2', s.infoHashV2);
  row('version', s.version);
  if (s.length !== undefined) row('size', `${formatBytes(s.length)} (${s.length} bytes)`);
  if (s.pieces !== undefined && s.pieceLength !== undefined) {
    row('pieces', `${s.pieces} × ${formatBytes(s.pieceLength)}`);
  }
  if (s.kind === 'torrent') row('private', s.private ? 'yes (BEP 27: no DHT, no PEX)' : 'no');
  row('comment', s.comment);
  row('created by', s.createdBy);
  if (s.creationDate !== undefined)
    row('created', new Date(s.creationDate * 1000).toISOString().replace('.000Z', 'Z'));
  for (const t of s.trackers) row('tracker', t);
  for (const p of s.peers) row('peer', p);
  if (s.files.length > 0) {
    row('files', String(s.files.length));
    // Numbered from 1 as `get --select` and `stream --file` take them.
    const width = String(s.files.at(-1)?.index ?? 1).length;
    for (const f of s.files.slice(0, 50))
      lines.push(`  ${String(f.index).padStart(width)}  ${f.path} (${formatBytes(f.length)})`);
    if (s.files.length > 50) lines.push(`  … and ${s.files.length - 50} more`);
  }
  row('magnet', s.magnet);
  return lines;
}
