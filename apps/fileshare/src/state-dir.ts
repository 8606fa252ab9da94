/**
 * The state directory (default `~/.peerkit-share`, or `--state-dir`):
 *
 *   dht.json                 the DHT routing table (node id and known nodes), saved on exit and
 *                            used to re-join when no `--bootstrap` is given
 *   torrents/<hash>.torrent  metainfo of every torrent this node has shared or fetched (a magnet
 *                            download saves the fetched info dictionary here, so a restart does not
 *                            need to fetch it again)
 *   resume/<hash>.resume     which pieces are verified on disk (piece-exchange resume data)
 *   shares/<key>.json        for each path `share` made a torrent for: its info-hash and the
 *                            files' sizes and modification times, so that sharing the same
 *                            unchanged content again skips hashing it
 *   locks/<hash>.lock        held by the process using a torrent's resume data (PID, start
 *                            time, command), so that two runs never share it
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { CliError, describeError } from './errors';

export interface StateDir {
  readonly root: string;
  readonly dhtPath: string;
  torrentPath(infoHashHex: string): string;
  resumePath(infoHashHex: string): string;
  /** The lock of a torrent's resume data (one process per torrent and state directory). */
  lockPath(infoHashHex: string): string;
  /** Where `share` records the torrent it made for a path (and piece length). */
  sharePath(contentPath: string, pieceLength?: number): string;
}

export function defaultStateDir(): string {
  return join(homedir(), '.peerkit-share');
}

/** Creates the directory layout (if needed) and returns its paths. */
export async function openStateDir(root: string = defaultStateDir()): Promise<StateDir> {
  const dir = resolve(root);
  try {
    await mkdir(join(dir, 'torrents'), { recursive: true });
    await mkdir(join(dir, 'resume'), { recursive: true });
    await mkdir(join(dir, 'shares'), { recursive: true });
    await mkdir(join(dir, 'locks'), { recursive: true });
  } catch (error) {
    throw new CliError('STATE_DIR', `cannot use state directory ${dir}: ${describeError(error)}`, {
      cause: error,
    });
  }
  return {
    root: dir,
    dhtPath: join(dir, 'dht.json'),
    torrentPath: (hex) => join(dir, 'torrents', `${hex}.torrent`),
    resumePath: (hex) => join(dir, 'resume', `${hex}.resume`),
    lockPath: (hex) => join(dir, 'locks', `${hex}.lock`),
    sharePath: (contentPath, pieceLength) => {
      const key = createHash('sha1').update(`${resolve(contentPath)}\0${pieceLength ?? 'default'}`);
      return join(dir, 'shares', `${key.digest('hex')}.json`);
    },
  };
}

/** Reads a file, or `undefined` when it does not exist. */
export async function readIfExists(path: string): Promise<Uint8Array | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Writes through a temporary file renamed over the target. */
export async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}
