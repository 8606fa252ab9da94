/**
 * The torrent's open files: a bounded cache of file handles, least recently used first. A
 * handle in use is never closed; an idle one past `maxOpenFiles` is synced (when written) and
 * closed, so a torrent with thousands of files never exhausts the process's descriptors.
 */
import type { StorageFile } from './file-system';
import { describeIoError, StorageError } from './storage-error';

interface OpenFile {
  file: Promise<StorageFile>;
  users: number;
  dirty: boolean;
}

export interface FileHandlesOptions {
  /** Opens file `index` of the torrent. */
  open: (index: number) => Promise<StorageFile>;
  /** Path of file `index` on disk, for error messages. */
  pathOf: (index: number) => string;
  maxOpenFiles: number;
  /** Tracks a background close, so that a flush waits for it. */
  track: <T>(promise: Promise<T>) => Promise<T>;
}

export class FileHandles {
  private readonly handles = new Map<number, OpenFile>();

  constructor(private readonly options: FileHandlesOptions) {}

  /** Number of file handles open now. */
  get size(): number {
    return this.handles.size;
  }

  /**
   * Runs `fn` on file `index`, opening it if needed; an I/O failure becomes a StorageError
   * `IO_ERROR` naming the path.
   */
  async with<T>(index: number, write: boolean, fn: (file: StorageFile) => Promise<T>): Promise<T> {
    let h = this.handles.get(index);
    if (h) {
      this.handles.delete(index); // re-insert: most recently used last
    } else {
      const file = this.options.open(index);
      file.catch(() => this.handles.delete(index)); // a failed open is tried again next time
      h = { file, users: 0, dirty: false };
    }
    this.handles.set(index, h);
    h.users++;
    try {
      const file = await h.file;
      if (write) h.dirty = true;
      return await fn(file);
    } catch (error) {
      if (error instanceof StorageError) throw error;
      const path = this.options.pathOf(index);
      throw new StorageError(
        'IO_ERROR',
        `cannot ${write ? 'write' : 'read'} ${path}: ${describeIoError(error)}`,
        { cause: error },
      );
    } finally {
      h.users--;
      this.evict();
    }
  }

  /** Syncs every file written since its last sync. */
  async syncWritten(): Promise<void> {
    for (const h of [...this.handles.values()]) {
      if (!h.dirty) continue;
      h.dirty = false;
      await (await h.file).sync();
    }
  }

  /** Syncs (when written) and closes file `index`'s handle, if open. */
  async close(index: number): Promise<void> {
    const h = this.handles.get(index);
    if (h === undefined) return;
    this.handles.delete(index);
    const file = await h.file;
    if (h.dirty) await file.sync();
    await file.close();
  }

  /** Closes every file without syncing. */
  async closeAll(): Promise<void> {
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.allSettled(handles.map(async (h) => (await h.file).close()));
  }

  /** Closes least recently used idle handles beyond `maxOpenFiles`, syncing written ones. */
  private evict(): void {
    if (this.handles.size <= this.options.maxOpenFiles) return;
    for (const [index, h] of this.handles) {
      if (this.handles.size <= this.options.maxOpenFiles) break;
      if (h.users > 0) continue;
      this.handles.delete(index);
      const closing = (async () => {
        const file = await h.file;
        if (h.dirty) await file.sync();
        await file.close();
      })();
      this.options.track(closing).catch(() => undefined);
    }
  }
}
