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
  | 'CLOSED';

export class StorageError extends PieceExchangeError<StorageErrorCode> {
  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'StorageError';
  }
}
