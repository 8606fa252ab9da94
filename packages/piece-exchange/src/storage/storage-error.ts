import { PieceExchangeError } from '../errors';

export type StorageErrorCode =
  /** A read or write of a torrent file failed (the `cause` is the file system's error). */
  | 'IO_ERROR'
  /** A block or piece outside the torrent. */
  | 'OUT_OF_RANGE'
  /** A read past the end of a file that should hold the data (missing or truncated file). */
  | 'MISSING_DATA'
  /** Resume data that is not ours, not for this torrent, or damaged. */
  | 'INVALID_RESUME'
  /** The storage was closed. */
  | 'CLOSED'
  /** Two of the torrent's paths are one on some file system, or a file sits where a directory must. */
  | 'PATH_CONFLICT'
  /** A symbolic link or a special file where the torrent's file or directory goes: not followed. */
  | 'UNSAFE_PATH'
  /** A file is there that is not this torrent's data (or is longer): it is not overwritten. */
  | 'FILE_EXISTS'
  /** A verified piece's file changed on disk and the piece no longer matches its hash. */
  | 'DATA_CHANGED'
  /** Another process holds the lock on these files. */
  | 'LOCKED'
  /** BEP 52 hybrid: a piece matches one of its two hashes (v1, v2) and not the other. */
  | 'HASH_CONFLICT';

export class StorageError extends PieceExchangeError<StorageErrorCode> {
  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'StorageError';
  }
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'name too long',
  ENOTDIR: 'a path component is not a directory',
  EISDIR: 'is a directory',
  ENOENT: 'no such file or directory',
  ELOOP: 'is a symbolic link',
  EEXIST: 'already exists',
  EIO: 'input/output error',
};

/** A file system error in words (`no space left on device`), from its `code`. */
export function describeIoError(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && REASONS[code] !== undefined) return `${REASONS[code]} (${code})`;
  return error instanceof Error ? error.message : String(error);
}

/** The file system error code (`ENOSPC`, ...) behind a storage error, if any. */
export function systemCode(error: unknown): string | undefined {
  for (
    let e: unknown = error;
    e !== undefined && e !== null;
    e = (e as { cause?: unknown }).cause
  ) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('E') && code !== 'EINVAL') return code;
    if (!(e instanceof Error)) break;
  }
  return undefined;
}
