/**
 * Helpers of the data-safety tests: hand-made .torrent files (any paths, hostile ones too), an
 * in-process seeder of them over loopback TCP, and snapshots of a directory tree that do not
 * follow symbolic links (to prove that nothing outside the download directory changed).
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { encode } from '@peerkit/bencode';
import {
  diskPaths,
  FileLayout,
  memoryFileSystem,
  parseTorrent,
  Torrent,
  torrentInfoFromMetainfo,
} from '@peerkit/piece-exchange';
import { nodeNetwork } from '@peerkit/transport';
import { throttledNetwork } from '../src/throttle';

/** Deterministic pseudo-random bytes. */
export function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2 + 1) >>> 0;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export interface CraftedFile {
  /** Path elements under the torrent's name (empty for a single-file torrent). */
  readonly path: readonly string[];
  readonly data: Uint8Array;
}

export interface CraftedTorrent {
  /** The .torrent file. */
  readonly bytes: Uint8Array;
  /** The whole content as one byte stream. */
  readonly data: Uint8Array;
  readonly pieceCount: number;
}

/** A v1 .torrent with exactly these (possibly hostile) names; single-file if `path` is []. */
export function craftTorrent(
  name: string,
  files: readonly CraftedFile[],
  pieceLength = 16_384,
): CraftedTorrent {
  const data = Buffer.concat(files.map((f) => f.data));
  const pieceCount = Math.max(1, Math.ceil(data.length / pieceLength));
  const pieces = Buffer.alloc(pieceCount * 20);
  for (let i = 0; i < pieceCount; i++) {
    createHash('sha1')
      .update(data.subarray(i * pieceLength, (i + 1) * pieceLength))
      .digest()
      .copy(pieces, i * 20);
  }
  const single = files.length === 1 && files[0]!.path.length === 0;
  const info = single
    ? { length: data.length, name, 'piece length': pieceLength, pieces }
    : {
        files: files.map((f) => ({ length: f.data.length, path: [...f.path] })),
        name,
        'piece length': pieceLength,
        pieces,
      };
  return { bytes: encode({ info }), data: new Uint8Array(data), pieceCount };
}

/**
 * Seeds `torrent` from memory (the content planted where piece-exchange stores it) on
 * 127.0.0.1, optionally at `rate` bytes per second. `close()` it.
 */
export async function seedInProcess(torrent: CraftedTorrent, rate?: number): Promise<Torrent> {
  const info = torrentInfoFromMetainfo(parseTorrent(torrent.bytes));
  const layout = new FileLayout(info.files, info.pieceLength);
  const fs = memoryFileSystem();
  for (const [i, elements] of diskPaths(layout).entries()) {
    const f = layout.files[i]!;
    fs.put(`/seed/${elements.join('/')}`, torrent.data.subarray(f.offset, f.offset + f.length));
  }
  const network = rate === undefined ? nodeNetwork() : throttledNetwork(nodeNetwork(), rate);
  return Torrent.open({
    network,
    directory: '/seed',
    info,
    fs,
    assumeComplete: true,
    resume: false,
    listen: { host: '127.0.0.1', port: 0 },
  });
}

/** Every entry under `dir` (links not followed): type, and content hash or link target. */
export async function snapshotTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (path: string, shown: string): Promise<void> => {
    const s = await lstat(path);
    if (s.isSymbolicLink()) out.set(shown, `link -> ${await readlink(path)}`);
    else if (s.isFile()) {
      const hash = createHash('sha256')
        .update(await readFile(path))
        .digest('hex');
      out.set(shown, `file ${s.size} ${hash} ${s.mtimeMs}`);
    } else if (s.isDirectory()) {
      out.set(shown, 'dir');
      for (const name of (await readdir(path)).sort())
        await walk(join(path, name), `${shown}/${name}`);
    } else out.set(shown, 'other');
  };
  await walk(dir, '.');
  return out;
}
