/**
 * Resume data: the set of verified pieces, and the files it vouches for, so that a restarted
 * session re-fetches nothing it had verified. Format (all integers big-endian):
 *
 *   "peerkit-resume" (14 bytes) | version u8 = 3 | info-hash (20) | hash kind u8 |
 *   v2 info-hash (32) | piece count u32 | bitfield (ceil(pieces / 8), BEP 3 bit order) |
 *   directory length u16 | directory (UTF-8) | file count u32 |
 *   per file: present u8, size u64, mtime in ns u64 | SHA-1 of everything before (20)
 *
 * The hash kind (1 v1, 2 v2, 3 hybrid) and the full SHA-256 info-hash (zeros for v1) are
 * recorded because the 20-byte info-hash alone does not name a torrent: a v2-only torrent's is
 * its SHA-256 info-hash truncated (BEP 52), which a v1 or hybrid torrent's could equal. Data
 * whose kind or full hash differs from the torrent's is refused (the files are re-checked).
 * Version 2 files (no kind; written for v1 torrents only) stay readable for a v1 torrent.
 *
 * Like libtorrent's resume data it records each file's size and modification time: a piece is
 * trusted at start only when every file it touches still has the recorded stamp, in the
 * recorded directory; anything else is hashed again (./start.ts). It is written only after the
 * data it vouches for is synced, through a temporary file renamed over the old one
 * (`FileSystem.writeFileAtomic`), so a crash never marks unverified data complete.
 * `decodeResume` is total: any bytes give resume data or a `StorageError` `INVALID_RESUME`.
 */
import { createHash } from 'node:crypto';
import { isAbsolute, relative, sep } from 'node:path';
import { Bitfield, byteLengthFor } from '../bitfield';
import { ensureParents } from './confined';
import type { FileStamp, FileSystem } from './file-system';
import type { PieceStore } from './piece-store';
import { StorageError } from './storage-error';

const MAGIC = new TextEncoder().encode('peerkit-resume');
const VERSION = 3;
/** Version 2: v1 torrents only, no hash kind. */
const VERSION_V1_ONLY = 2;
const KIND_AT = MAGIC.length + 1 + 20;
const HEADER_V1_ONLY = KIND_AT + 4;
const HEADER = KIND_AT + 1 + 32 + 4;
const KINDS = ['v1', 'v2', 'hybrid'] as const;

/**
 * The torrent resume data belongs to. A bare 20-byte info-hash (where a `ResumeKey` is taken)
 * stands for a v1 torrent.
 */
export interface ResumeKey {
  /** The 20-byte info-hash: v1 SHA-1, or a v2-only torrent's SHA-256 truncated (BEP 52). */
  readonly infoHash: Uint8Array;
  /** BEP 52 hash kind: SHA-1 pieces, merkle trees, or both. */
  readonly kind: (typeof KINDS)[number];
  /** The full 32-byte SHA-256 info-hash of a v2 or hybrid torrent. */
  readonly v2InfoHash?: Uint8Array;
}

function keyOf(key: Uint8Array | ResumeKey): ResumeKey {
  return key instanceof Uint8Array ? { infoHash: key, kind: 'v1' } : key;
}
const FILE_RECORD = 1 + 8 + 8;

/** The files resume data vouches for: their directory and stamps (undefined: not on disk). */
export interface ResumeFiles {
  readonly directory: string;
  readonly stamps: readonly (FileStamp | undefined)[];
}

export interface ResumeData extends ResumeFiles {
  readonly pieces: Bitfield;
}

const NO_FILES: ResumeFiles = { directory: '', stamps: [] };

export function encodeResume(
  torrent: Uint8Array | ResumeKey,
  pieces: Bitfield,
  files: ResumeFiles = NO_FILES,
): Uint8Array {
  const { infoHash, kind, v2InfoHash } = keyOf(torrent);
  if (infoHash.length !== 20) throw new RangeError('infoHash must be 20 bytes');
  if ((kind === 'v1') !== (v2InfoHash === undefined) || (v2InfoHash?.length ?? 32) !== 32)
    throw new RangeError('a v2 or hybrid torrent (only) has a 32-byte v2 info-hash');
  const directory = new TextEncoder().encode(files.directory);
  if (directory.length > 0xffff) throw new RangeError('directory path too long');
  const filesAt = HEADER + pieces.bytes.length;
  const body = filesAt + 2 + directory.length + 4 + files.stamps.length * FILE_RECORD;
  const out = new Uint8Array(body + 20);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[MAGIC.length] = VERSION;
  out.set(infoHash, MAGIC.length + 1);
  out[KIND_AT] = KINDS.indexOf(kind) + 1;
  if (v2InfoHash !== undefined) out.set(v2InfoHash, KIND_AT + 1);
  view.setUint32(HEADER - 4, pieces.length);
  out.set(pieces.bytes, HEADER);
  view.setUint16(filesAt, directory.length);
  out.set(directory, filesAt + 2);
  let at = filesAt + 2 + directory.length;
  view.setUint32(at, files.stamps.length);
  at += 4;
  for (const stamp of files.stamps) {
    out[at] = stamp === undefined ? 0 : 1;
    view.setBigUint64(at + 1, BigInt(stamp?.size ?? 0));
    view.setBigUint64(at + 9, stamp?.mtimeNs ?? 0n);
    at += FILE_RECORD;
  }
  out.set(createHash('sha1').update(out.subarray(0, body)).digest(), body);
  return out;
}

function invalid(message: string): StorageError {
  return new StorageError('INVALID_RESUME', message);
}

/** The verified pieces recorded in `bytes` for the torrent `infoHash` of `pieceCount` pieces. */
export function decodeResume(
  bytes: Uint8Array,
  torrent: Uint8Array | ResumeKey,
  pieceCount: number,
): Bitfield {
  return decodeResumeData(bytes, torrent, pieceCount).pieces;
}

/** Resume data in `bytes` for the torrent `infoHash` of `pieceCount` pieces: pieces and files. */
export function decodeResumeData(
  bytes: Uint8Array,
  torrent: Uint8Array | ResumeKey,
  pieceCount: number,
): ResumeData {
  const { infoHash, kind, v2InfoHash } = keyOf(torrent);
  const version = bytes[MAGIC.length];
  const header = version === VERSION_V1_ONLY ? HEADER_V1_ONLY : HEADER;
  const filesAt = header + byteLengthFor(pieceCount);
  if (bytes.length < filesAt + 2 + 4 + 20)
    throw invalid(`resume data of ${bytes.length} bytes is too short`);
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw invalid('not peerkit resume data');
  }
  if (version !== VERSION && version !== VERSION_V1_ONLY)
    throw invalid(`unknown resume version ${version}`);
  const body = bytes.length - 20;
  const digest = createHash('sha1').update(bytes.subarray(0, body)).digest();
  for (let i = 0; i < 20; i++)
    if (digest[i] !== bytes[body + i]) throw invalid('resume checksum mismatch');
  for (let i = 0; i < 20; i++) {
    if (bytes[MAGIC.length + 1 + i] !== infoHash[i])
      throw invalid('resume data of another torrent');
  }
  // The same 20 bytes may name a v1, a v2 and a hybrid torrent: the kind and the full v2 hash
  // must match too (a version 2 file was written for a v1 torrent).
  const recorded = version === VERSION_V1_ONLY ? 'v1' : KINDS[(bytes[KIND_AT] ?? 0) - 1];
  if (recorded !== kind)
    throw invalid(`resume data of a ${recorded ?? 'unknown'} torrent, this one is ${kind}`);
  if (version === VERSION) {
    const full = bytes.subarray(KIND_AT + 1, KIND_AT + 33);
    if (Buffer.compare(full, v2InfoHash ?? new Uint8Array(32)) !== 0)
      throw invalid('resume data of another torrent (v2 info-hash differs)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(header - 4);
  if (count !== pieceCount)
    throw invalid(`resume data for ${count} pieces, torrent has ${pieceCount}`);
  let pieces: Bitfield;
  try {
    pieces = Bitfield.fromBytes(bytes.subarray(header, filesAt), pieceCount);
  } catch (error) {
    throw new StorageError('INVALID_RESUME', 'resume bitfield is malformed', { cause: error });
  }
  const directoryLength = view.getUint16(filesAt);
  let at = filesAt + 2 + directoryLength;
  if (at + 4 > body) throw invalid('resume data is truncated');
  let directory: string;
  try {
    directory = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(filesAt + 2, at));
  } catch (error) {
    throw new StorageError('INVALID_RESUME', 'resume directory is not UTF-8', { cause: error });
  }
  const fileCount = view.getUint32(at);
  at += 4;
  if (body - at !== fileCount * FILE_RECORD) throw invalid('resume file records are malformed');
  const stamps: (FileStamp | undefined)[] = [];
  for (let i = 0; i < fileCount; i++, at += FILE_RECORD) {
    const present = bytes[at];
    if (present !== 0 && present !== 1) throw invalid('resume file record is malformed');
    const size = view.getBigUint64(at + 1);
    if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid('resume file size out of range');
    stamps.push(
      present === 1 ? { size: Number(size), mtimeNs: view.getBigUint64(at + 9) } : undefined,
    );
  }
  return { pieces, directory, stamps };
}

/**
 * Persists the verified set `pieces` for a torrent stored in `store`: the set is copied first,
 * then every write is flushed and synced, then the file is replaced atomically. A piece verified
 * after the copy is simply recorded next time.
 */
export async function saveResume(
  fs: FileSystem,
  path: string,
  torrent: Uint8Array | ResumeKey,
  pieces: Bitfield,
  store: PieceStore,
): Promise<void> {
  const snapshot = pieces.clone();
  await confineResumePath(fs, path, store.directory);
  await store.flush();
  // Stamps taken after the data is synced: a later write (ours or anyone's) changes them.
  const stamps = await store.fileStamps();
  await fs.writeFileAtomic(
    path,
    encodeResume(torrent, snapshot, { directory: store.directory, stamps }),
  );
}

/**
 * Resume data inside the download directory (the default `<directory>/.peerkit/…`) is written
 * under the same rule as the torrent's files: no symbolic link is followed on the way.
 */
async function confineResumePath(fs: FileSystem, path: string, directory: string): Promise<void> {
  const inside = relative(directory, path);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return;
  const elements = inside.split(sep);
  await ensureParents(fs, directory, elements);
  for (const candidate of [path, `${path}.tmp`]) {
    if ((await fs.lstat(candidate))?.type === 'symlink') {
      throw new StorageError(
        'UNSAFE_PATH',
        `${candidate} is a symbolic link: refusing to write resume data through it`,
      );
    }
  }
}

/**
 * Reads resume data: the verified set, or `undefined` when there is none. Throws `StorageError`
 * `INVALID_RESUME` for damaged data or data of another torrent (the caller re-checks instead).
 */
export async function loadResume(
  fs: FileSystem,
  path: string,
  torrent: Uint8Array | ResumeKey,
  pieceCount: number,
): Promise<Bitfield | undefined> {
  return (await loadResumeData(fs, path, torrent, pieceCount))?.pieces;
}

/** Reads resume data with its file records (see `loadResume`). */
export async function loadResumeData(
  fs: FileSystem,
  path: string,
  torrent: Uint8Array | ResumeKey,
  pieceCount: number,
): Promise<ResumeData | undefined> {
  const bytes = await fs.readFile(path);
  if (bytes === undefined) return undefined;
  return decodeResumeData(bytes, torrent, pieceCount);
}
