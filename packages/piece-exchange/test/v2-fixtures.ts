/** v2-only and hybrid test torrents made with `createTorrentV2`, and netsim helpers for them. */
import { replayHint, type SimHost, Simulation } from '@peerkit/netsim';
import { createTorrentV2 } from '../src/metainfo/create-v2';
import type { Metainfo } from '../src/metainfo/types';
import { type MemoryFileSystem, memoryFileSystem } from '../src/storage/file-system';
import { Torrent } from '../src/torrent';
import { type TorrentInfo, torrentInfoFromMetainfo } from '../src/torrent-info';
import type { TorrentOptions } from '../src/torrent-options';
import { content } from './fixtures';

export const PORT = 6881;

export interface V2Fixture {
  info: TorrentInfo;
  metainfo: Metainfo;
  torrent: Uint8Array;
  /** File contents by path (joined with '/', the torrent name first for multi-file). */
  files: Map<string, Uint8Array>;
}

/** A v2-only or hybrid torrent of files `file<i>.bin` of the given sizes (one: single-file). */
export async function makeV2Torrent(
  name: string,
  sizes: number[],
  pieceLength: number,
  version: 'v2' | 'hybrid',
  seed = 1,
): Promise<V2Fixture> {
  const single = sizes.length === 1;
  const files = new Map<string, Uint8Array>();
  const input = sizes.map((length, i) => {
    const bytes = content(length, seed + i);
    const path = single ? [name] : [`file${i}.bin`];
    files.set(single ? name : `${name}/${path[0]}`, bytes);
    return { path, length, content: bytes };
  });
  const created = await createTorrentV2(input, {
    pieceLength,
    hybrid: version === 'hybrid',
    ...(single ? {} : { name }),
  });
  return {
    info: torrentInfoFromMetainfo(created.metainfo),
    metainfo: created.metainfo,
    torrent: created.torrent,
    files,
  };
}

export function plantV2(fs: MemoryFileSystem, dir: string, fixture: V2Fixture): void {
  for (const [path, bytes] of fixture.files) fs.put(`${dir}/${path}`, bytes);
}

export function verifiedV2(fs: MemoryFileSystem, fixture: V2Fixture): boolean {
  for (const [path, bytes] of fixture.files) {
    const got = fs.snapshot(`/data/${path}`);
    if (got === undefined || !Buffer.from(got).equals(Buffer.from(bytes))) return false;
  }
  return true;
}

export async function withSeed(
  name: string,
  seed: number,
  body: (sim: Simulation) => Promise<void>,
): Promise<void> {
  const sim = new Simulation({ seed, link: { latency: 20, jitter: 10 } });
  try {
    await sim.run(() => body(sim), { maxTimeMs: 30 * 60_000 });
  } catch (error) {
    console.error(`${name} failed; replay with ${replayHint(seed)}`);
    throw error;
  }
}

export function openV2(
  host: SimHost,
  fs: MemoryFileSystem,
  options: Partial<TorrentOptions> & ({ info: TorrentInfo } | { magnet: string }),
): Promise<Torrent> {
  return Torrent.open({
    network: host.network,
    directory: '/data',
    fs,
    listen: { host: host.address, port: PORT },
    resumeIntervalMs: 500,
    limits: { requestTimeoutMs: 5000 },
    ...options,
  });
}

/** A seeder of `fixture` on `host`: its files planted, checked at open. */
export async function seedV2(
  host: SimHost,
  fixture: V2Fixture,
  info: TorrentInfo = fixture.info,
): Promise<Torrent> {
  const fs = memoryFileSystem();
  plantV2(fs, '/data', fixture);
  return openV2(host, fs, { info, recheck: true });
}
