/**
 * `peerkit-share share <path>`: seed a file or folder. With `--torrent` the given .torrent
 * describes it (its pieces are re-checked on the first run); otherwise a torrent is made on the
 * fly, saved in the state directory, and since the content was just hashed, the session starts
 * as a seed without hashing it again (piece-exchange's `assumeComplete`). Sharing the same path
 * again, with no file changed (sizes and modification times), reuses that torrent the same way.
 *
 * Content that does not match its `--torrent` (a file missing, of another size, or pieces that
 * fail their hash) is refused with one line naming how much matches, unless `--seed-valid`
 * asks to seed the pieces that do. While seeding, a piece whose file changed on disk is hashed
 * again before it is served (piece-exchange's storage) and not served if it no longer matches.
 */
import { lstat, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import {
  diskPaths,
  FileLayout,
  type Metainfo,
  parseTorrent,
  StorageError,
  torrentFilesFromPath,
  torrentInfoFromMetainfo,
} from '@peerkit/piece-exchange';
import { CliError } from '../errors';
import { readTorrentFile } from '../input';
import { type ShareNode, type ShareNodeOptions, startShareNode } from '../node';
import { readIfExists, type StateDir, writeAtomic } from '../state-dir';
import { makeTorrent } from './create';

export interface ShareOptions
  extends Omit<ShareNodeOptions, 'info' | 'infoHash' | 'directory' | 'displayName'> {
  /** The file or folder to seed. */
  path: string;
  /** An existing .torrent describing `path`. */
  torrentFile?: string;
  /** Piece length of a torrent made on the fly. */
  pieceLength?: number;
  /** With `torrentFile`: seed the pieces that match even when others do not. */
  seedValid?: boolean;
  /** Stops hashing a torrent made on the fly (Ctrl-C); `runShare` rejects with its reason. */
  signal?: AbortSignal;
}

/** What `share` remembers about a path it made a torrent for. */
interface ShareRecord {
  infoHash: string;
  files: FileFingerprint[];
}

interface FileFingerprint {
  path: string;
  size: number;
  mtimeMs: number;
}

/** Every file under `path` (or `path` itself) with its size and modification time. */
async function fingerprintOf(path: string): Promise<FileFingerprint[]> {
  const { files } = await torrentFilesFromPath(path);
  const root = (await stat(path)).isFile();
  const out: FileFingerprint[] = [];
  for (const file of files) {
    const full = root ? path : join(path, ...file.path);
    const s = await stat(full);
    out.push({ path: full, size: s.size, mtimeMs: s.mtimeMs });
  }
  return out;
}

/**
 * Same paths and sizes, modification times within a millisecond (what `touch` and `utimes` can
 * set back, and what survives the float conversions of `mtimeMs`).
 */
function sameFiles(a: readonly FileFingerprint[], b: readonly FileFingerprint[]): boolean {
  return (
    a.length === b.length &&
    a.every((f, i) => {
      const g = b[i]!;
      return f.path === g.path && f.size === g.size && Math.abs(f.mtimeMs - g.mtimeMs) < 1;
    })
  );
}

/** The torrent recorded for these exact files, when its .torrent still exists. */
async function loadShareRecord(
  recordPath: string,
  state: StateDir,
  fingerprint: FileFingerprint[],
): Promise<Metainfo | undefined> {
  try {
    const bytes = await readIfExists(recordPath);
    if (bytes === undefined) return undefined;
    const record = JSON.parse(Buffer.from(bytes).toString('utf8')) as ShareRecord;
    if (!sameFiles(record.files, fingerprint)) return undefined;
    const torrent = await readIfExists(state.torrentPath(record.infoHash));
    if (torrent === undefined) return undefined;
    const metainfo = parseTorrent(torrent);
    return hexOf(metainfo) === record.infoHash ? metainfo : undefined;
  } catch {
    // An unreadable record is as good as none: the content is hashed again.
    return undefined;
  }
}

/** The hex of the 20-byte info-hash peers know `m` by (a v2-only torrent's truncated SHA-256). */
function hexOf(m: Metainfo): string {
  return Buffer.from(torrentInfoFromMetainfo(m).infoHash).toString('hex');
}

/** The first file of `metainfo` that is missing under `directory` or has another size. */
async function firstMismatch(metainfo: Metainfo, directory: string): Promise<string | undefined> {
  const layout = new FileLayout(
    metainfo.files.map((f) => ({ path: f.path, length: f.length, padding: f.padding })),
    metainfo.pieceLength,
  );
  for (const [i, elements] of diskPaths(layout).entries()) {
    const file = layout.files[i]!;
    if (file.padding) continue;
    const path = join(directory, ...elements);
    const s = await lstat(path).catch(() => undefined);
    if (s === undefined) return `${path} is missing`;
    if (!s.isFile()) return `${path} is not a regular file`;
    if (s.size !== file.length)
      return `${path} has ${s.size} bytes, the torrent says ${file.length}`;
  }
  return undefined;
}

/** Starts seeding `path`; resolves with the running node (its `magnet` is the link to share). */
export async function runShare(options: ShareOptions): Promise<ShareNode> {
  let path = resolve(options.path);
  try {
    await stat(path);
    // The path you name is yours to choose: a symbolic link there is followed once, here (the
    // storage never follows one below it). Links inside a shared folder are left out.
    if ((await lstat(path)).isSymbolicLink()) path = await realpath(path);
  } catch (error) {
    throw new CliError('MISSING_PATH', `no such file or directory: ${options.path}`, {
      cause: error,
    });
  }
  let metainfo: Metainfo;
  let recheck = options.recheck ?? false;
  // The content was hashed into this torrent by `share` itself (now or, files unchanged, before).
  let assumeComplete = false;
  if (options.torrentFile !== undefined) {
    metainfo = (await readTorrentFile(options.torrentFile)).metainfo;
    if (metainfo.name !== basename(path)) {
      throw new CliError(
        'CONTENT_MISMATCH',
        `${options.torrentFile} describes "${metainfo.name}", but the path is "${basename(path)}" (rename one of them)`,
      );
    }
    const mismatch = await firstMismatch(metainfo, dirname(path));
    if (mismatch !== undefined && !options.seedValid) {
      throw new CliError(
        'CONTENT_MISMATCH',
        `${options.path} does not match ${options.torrentFile}: ${mismatch} (seed what matches with --seed-valid)`,
      );
    }
    // First time this torrent is seeded from here: verify the content against it.
    if ((await readIfExists(options.state.resumePath(hexOf(metainfo)))) === undefined)
      recheck = true;
    const bytes = (await readTorrentFile(options.torrentFile)).bytes;
    await writeAtomic(options.state.torrentPath(hexOf(metainfo)), bytes);
  } else {
    // Shared before, and no file changed since (same sizes and modification times): reuse that
    // torrent and its resume data instead of hashing everything again.
    const recordPath = options.state.sharePath(path, options.pieceLength);
    const fingerprint = await fingerprintOf(path);
    const previous = await loadShareRecord(recordPath, options.state, fingerprint);
    assumeComplete = true;
    if (previous !== undefined) {
      metainfo = previous;
    } else {
      const made = await makeTorrent({
        path,
        ...(options.pieceLength !== undefined ? { pieceLength: options.pieceLength } : {}),
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
        onProgress: (p) => options.onEvent?.({ type: 'hashing', ...p }),
      });
      metainfo = made.metainfo;
      // A file that changed while it was hashed: the torrent would not describe it.
      if (!sameFiles(fingerprint, await fingerprintOf(path))) {
        throw new CliError(
          'CONTENT_MISMATCH',
          `${options.path} changed while it was being hashed: run the command again once it is stable`,
        );
      }
      await writeAtomic(options.state.torrentPath(hexOf(metainfo)), made.bytes);
      const record: ShareRecord = { infoHash: hexOf(metainfo), files: fingerprint };
      await writeAtomic(recordPath, Buffer.from(`${JSON.stringify(record)}\n`));
    }
  }
  const pieces = Math.ceil(metainfo.length / metainfo.pieceLength);
  let node: ShareNode;
  try {
    node = await startShareNode({
      ...options,
      info: torrentInfoFromMetainfo(metainfo),
      directory: dirname(path),
      recheck,
      assumeComplete,
      trackers: [...(options.trackers ?? []), ...metainfo.announce],
      // BEP 27: private torrents are not announced on the DHT.
      dht: metainfo.private ? false : options.dht,
    });
  } catch (error) {
    if (error instanceof StorageError && error.code === 'FILE_EXISTS' && options.torrentFile) {
      throw new CliError(
        'CONTENT_MISMATCH',
        `${options.path} does not match ${options.torrentFile}: 0 of ${pieces} pieces are valid`,
        { cause: error },
      );
    }
    throw error;
  }
  const verified = node.torrent.stats().verifiedPieces;
  if (verified < pieces && !options.seedValid) {
    await node.close('error');
    throw new CliError(
      'CONTENT_MISMATCH',
      `${options.path} does not match ${options.torrentFile ?? 'its torrent'}: only ${verified} of ${pieces} pieces are valid (seed them anyway with --seed-valid)`,
    );
  }
  return node;
}
