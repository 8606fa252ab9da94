/**
 * Reading files from disk for `createTorrent` (an I/O edge: the rest of the metainfo code is pure).
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { TorrentInputFile } from './create';

/**
 * The files under `fsPath` (a file, or a directory walked recursively in name order) as
 * `createTorrent` input, content streamed from disk when hashed, and the name to give the torrent.
 * Symlinks and special files are skipped.
 */
export async function torrentFilesFromPath(
  fsPath: string,
): Promise<{ name: string; files: TorrentInputFile[] }> {
  const info = await stat(fsPath);
  const name = basename(fsPath);
  const fileAt = (full: string, path: string[], length: number): TorrentInputFile => ({
    path,
    length,
    content: () => createReadStream(full, { highWaterMark: 1024 * 1024 }),
  });
  if (info.isFile()) return { name, files: [fileAt(fsPath, [name], info.size)] };
  const files: TorrentInputFile[] = [];
  const walk = async (dir: string, prefix: string[]): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full, [...prefix, entry.name]);
      else if (entry.isFile())
        files.push(fileAt(full, [...prefix, entry.name], (await stat(full)).size));
    }
  };
  await walk(fsPath, []);
  return { name, files };
}
