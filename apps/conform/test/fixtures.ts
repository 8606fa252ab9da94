/** Test fixtures: a torrent on disk and peerkit nodes to run the suites against. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTorrent, type V1Metainfo } from '@peerkit/piece-exchange';

/** Deterministic pseudo-random bytes. */
export function content(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export interface TorrentOnDisk {
  /** The directory that holds the file (the seeders' download directory). */
  directory: string;
  /** The .torrent file's path. */
  torrentPath: string;
  torrent: Uint8Array;
  metainfo: V1Metainfo;
  data: Uint8Array;
  remove(): void;
}

/** A single-file v1 torrent of `length` bytes in pieces of `pieceLength`, written to a temp dir. */
export async function torrentOnDisk(
  name: string,
  length: number,
  pieceLength: number,
  seed = 1,
): Promise<TorrentOnDisk> {
  const root = mkdtempSync(join(tmpdir(), 'peerkit-conform-'));
  const directory = join(root, 'data');
  const data = content(length, seed);
  const { torrent, metainfo } = await createTorrent([{ path: [name], length, content: data }], {
    pieceLength,
  });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(directory);
  writeFileSync(join(directory, name), data);
  const torrentPath = join(root, `${name}.torrent`);
  writeFileSync(torrentPath, torrent);
  return {
    directory,
    torrentPath,
    torrent,
    metainfo,
    data,
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
