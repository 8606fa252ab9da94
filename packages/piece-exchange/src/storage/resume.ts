/**
 * Resume data: the set of verified pieces, so that a restarted session re-fetches nothing it had
 * verified. Format (all integers big-endian):
 *
 *   "peerkit-resume" (14 bytes) | version u8 = 1 | info-hash (20) | piece count u32 |
 *   bitfield (ceil(pieces / 8), BEP 3 bit order) | SHA-1 of everything before (20)
 *
 * It is written only after the data it vouches for is synced, through a temporary file renamed
 * over the old one (`FileSystem.writeFileAtomic`), so a crash never marks unverified data
 * complete. `decodeResume` is total: any bytes give a `Bitfield` or a `StorageError`
 * `INVALID_RESUME`.
 */
import { createHash } from 'node:crypto';
import { Bitfield, byteLengthFor } from '../bitfield';
import type { FileSystem } from './file-system';
import type { PieceStore } from './piece-store';
import { StorageError } from './storage-error';

const MAGIC = new TextEncoder().encode('peerkit-resume');
const VERSION = 1;
const HEADER = MAGIC.length + 1 + 20 + 4;

export function encodeResume(infoHash: Uint8Array, pieces: Bitfield): Uint8Array {
  if (infoHash.length !== 20) throw new RangeError('infoHash must be 20 bytes');
  const body = HEADER + pieces.bytes.length;
  const out = new Uint8Array(body + 20);
  out.set(MAGIC, 0);
  out[MAGIC.length] = VERSION;
  out.set(infoHash, MAGIC.length + 1);
  new DataView(out.buffer).setUint32(MAGIC.length + 21, pieces.length);
  out.set(pieces.bytes, HEADER);
  out.set(createHash('sha1').update(out.subarray(0, body)).digest(), body);
  return out;
}

function invalid(message: string): StorageError {
  return new StorageError('INVALID_RESUME', message);
}

/** The verified pieces recorded in `bytes` for the torrent `infoHash` of `pieceCount` pieces. */
export function decodeResume(
  bytes: Uint8Array,
  infoHash: Uint8Array,
  pieceCount: number,
): Bitfield {
  const expected = HEADER + byteLengthFor(pieceCount) + 20;
  if (bytes.length !== expected)
    throw invalid(`resume data of ${bytes.length} bytes, expected ${expected}`);
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw invalid('not peerkit resume data');
  }
  if (bytes[MAGIC.length] !== VERSION)
    throw invalid(`unknown resume version ${bytes[MAGIC.length]}`);
  const body = expected - 20;
  const digest = createHash('sha1').update(bytes.subarray(0, body)).digest();
  for (let i = 0; i < 20; i++)
    if (digest[i] !== bytes[body + i]) throw invalid('resume checksum mismatch');
  for (let i = 0; i < 20; i++) {
    if (bytes[MAGIC.length + 1 + i] !== infoHash[i])
      throw invalid('resume data of another torrent');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(MAGIC.length + 21);
  if (count !== pieceCount)
    throw invalid(`resume data for ${count} pieces, torrent has ${pieceCount}`);
  try {
    return Bitfield.fromBytes(bytes.subarray(HEADER, body), pieceCount);
  } catch (error) {
    throw new StorageError('INVALID_RESUME', 'resume bitfield is malformed', { cause: error });
  }
}

/**
 * Persists the verified set `pieces` for a torrent stored in `store`: the set is copied first,
 * then every write is flushed and synced, then the file is replaced atomically. A piece verified
 * after the copy is simply recorded next time.
 */
export async function saveResume(
  fs: FileSystem,
  path: string,
  infoHash: Uint8Array,
  pieces: Bitfield,
  store: PieceStore,
): Promise<void> {
  const snapshot = pieces.clone();
  await store.flush();
  await fs.writeFileAtomic(path, encodeResume(infoHash, snapshot));
}

/**
 * Reads resume data: the verified set, or `undefined` when there is none. Throws `StorageError`
 * `INVALID_RESUME` for damaged data or data of another torrent (the caller re-checks instead).
 */
export async function loadResume(
  fs: FileSystem,
  path: string,
  infoHash: Uint8Array,
  pieceCount: number,
): Promise<Bitfield | undefined> {
  const bytes = await fs.readFile(path);
  if (bytes === undefined) return undefined;
  return decodeResume(bytes, infoHash, pieceCount);
}

/**
 * The pieces a session may count as verified when it starts: those its resume data lists
 * whose file ranges are all present on disk. No resume data (or `path` undefined): none.
 * Damaged resume data, or data of another torrent: a full re-check of the files.
 */
export async function verifiedAtStart(
  fs: FileSystem,
  path: string | undefined,
  infoHash: Uint8Array,
  store: PieceStore,
): Promise<Bitfield> {
  const count = store.layout.pieceCount;
  if (path === undefined) return new Bitfield(count);
  let resumed: Bitfield | undefined;
  try {
    resumed = await loadResume(fs, path, infoHash, count);
  } catch (error) {
    if (error instanceof StorageError && error.code === 'INVALID_RESUME') return store.recheck();
    throw error;
  }
  if (resumed === undefined) return new Bitfield(count);
  for (const index of [...resumed.indices()]) {
    if (!(await store.piecePresent(index))) resumed.clear(index);
  }
  return resumed;
}
