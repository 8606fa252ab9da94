import { createHash } from 'node:crypto';
import { encode } from '@peerkit/bencode';
import { nodeNetwork } from '@peerkit/transport';
import { type MemoryFileSystem, memoryFileSystem } from '../src/storage/file-system';
import { Torrent } from '../src/torrent';
import type { TorrentInfo } from '../src/torrent-info';
import type { TorrentOptions } from '../src/torrent-options';

/** Deterministic pseudo-random content. */
export function content(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export interface Fixture {
  info: TorrentInfo;
  /** File contents, by path joined with '/'. */
  files: Map<string, Uint8Array>;
  /** The whole torrent as one byte stream. */
  data: Uint8Array;
  /** A complete .torrent file (announce optional). */
  torrentFile(announce?: string): Uint8Array;
}

/** A v1 torrent (single-file when one file is given) with its content. */
export function makeTorrent(name: string, sizes: number[], pieceLength: number, seed = 1): Fixture {
  const total = sizes.reduce((a, b) => a + b, 0);
  const data = content(total, seed);
  const pieces = new Uint8Array(Math.ceil(total / pieceLength) * 20);
  for (let i = 0; i * pieceLength < total; i++) {
    pieces.set(
      createHash('sha1')
        .update(data.subarray(i * pieceLength, (i + 1) * pieceLength))
        .digest(),
      i * 20,
    );
  }
  const single = sizes.length === 1;
  const infoDict = single
    ? { length: total, name, 'piece length': pieceLength, pieces }
    : {
        files: sizes.map((length, i) => ({ length, path: [`file${i}.bin`] })),
        name,
        'piece length': pieceLength,
        pieces,
      };
  const infoBytes = encode(infoDict);
  const infoHash = new Uint8Array(createHash('sha1').update(infoBytes).digest());
  const files = new Map<string, Uint8Array>();
  let offset = 0;
  const layoutFiles = sizes.map((length, i) => {
    const path = single ? [name] : [name, `file${i}.bin`];
    files.set(path.join('/'), data.subarray(offset, offset + length));
    offset += length;
    return { path, length };
  });
  return {
    info: { infoHash, name, pieceLength, pieceHashes: pieces, files: layoutFiles, infoBytes },
    files,
    data,
    torrentFile(announce?: string) {
      return encode(announce ? { announce, info: infoDict } : { info: infoDict });
    },
  };
}

/** Stores a fixture's files in a memory file system under `dir`. */
export function plant(fs: MemoryFileSystem, dir: string, fixture: Fixture): void {
  for (const [path, bytes] of fixture.files) fs.put(`${dir}/${path}`, bytes);
}

/**
 * A seeder of `fixture` on 127.0.0.1 over real TCP: the data planted in a fresh memory file
 * system under `/seed`; `options` adds to or overrides that (e.g. `recheck`, `listen`).
 */
export function openSeeder(
  fixture: Fixture,
  options: Partial<TorrentOptions> = {},
): Promise<Torrent> {
  const fs = memoryFileSystem();
  plant(fs, '/seed', fixture);
  return Torrent.open({
    network: nodeNetwork(),
    directory: '/seed',
    info: fixture.info,
    fs,
    listen: { host: '127.0.0.1' },
    ...options,
  });
}
