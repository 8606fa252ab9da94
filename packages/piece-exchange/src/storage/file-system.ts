/**
 * The file system seam of storage: the few operations piece storage needs, so that the same
 * code runs on disk (`nodeFileSystem`, node:fs/promises) and in memory (`memoryFileSystem`, for
 * simulations and crash tests: its `crash()` drops every write that was not synced).
 */
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface StorageFile {
  /** Reads into `buffer` from `position`; returns the bytes read (fewer at end of file). */
  read(buffer: Uint8Array, position: number): Promise<number>;
  write(data: Uint8Array, position: number): Promise<void>;
  /** Writes `buffers` back to back from `position` (one gathered write where supported). */
  writev(buffers: readonly Uint8Array[], position: number): Promise<void>;
  /** Makes every write so far durable (fdatasync). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface FileSystem {
  /** Opens a file for reading and writing, creating it (and its directories) when missing. */
  open(path: string): Promise<StorageFile>;
  /** The size of a file, or undefined when it does not exist. */
  size(path: string): Promise<number | undefined>;
  /** The whole file, or undefined when it does not exist. */
  readFile(path: string): Promise<Uint8Array | undefined>;
  /**
   * Replaces a file atomically: write a temporary file, sync it, rename it over `path`. After a
   * crash the file holds either the old or the new contents, never a mix.
   */
  writeFileAtomic(path: string, data: Uint8Array): Promise<void>;
}

function isNotFound(error: unknown): boolean {
  return (error as { code?: string } | undefined)?.code === 'ENOENT';
}

/** Files on disk through node:fs/promises. */
export function nodeFileSystem(): FileSystem {
  return {
    async open(path) {
      let handle: Awaited<ReturnType<typeof open>>;
      try {
        handle = await open(path, 'r+');
      } catch (error) {
        if (!isNotFound(error)) throw error;
        await mkdir(dirname(path), { recursive: true });
        handle = await open(path, 'a+');
        await handle.close();
        handle = await open(path, 'r+');
      }
      return {
        async read(buffer, position) {
          let done = 0;
          while (done < buffer.length) {
            const { bytesRead } = await handle.read(
              buffer,
              done,
              buffer.length - done,
              position + done,
            );
            if (bytesRead === 0) break;
            done += bytesRead;
          }
          return done;
        },
        async write(data, position) {
          let done = 0;
          while (done < data.length) {
            const { bytesWritten } = await handle.write(
              data,
              done,
              data.length - done,
              position + done,
            );
            done += bytesWritten;
          }
        },
        async writev(buffers, position) {
          let list = [...buffers];
          let at = position;
          while (list.length > 0) {
            const { bytesWritten } = await handle.writev(list, at);
            at += bytesWritten;
            // Partial write: drop what was written and go on with the rest.
            let left = bytesWritten;
            while (list.length > 0 && left >= list[0]!.length) left -= list.shift()!.length;
            if (left > 0 && list.length > 0) list = [list[0]!.subarray(left), ...list.slice(1)];
          }
        },
        sync: () => handle.datasync(),
        close: () => handle.close(),
      };
    },
    async size(path) {
      try {
        return (await stat(path)).size;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async readFile(path) {
      try {
        return new Uint8Array(await readFile(path));
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async writeFileAtomic(path, data) {
      await mkdir(dirname(path), { recursive: true });
      const temp = `${path}.tmp`;
      const handle = await open(temp, 'w');
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await rename(temp, path);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
    },
  };
}

interface MemoryEntry {
  /** What a reader sees now: `buffer` up to `length`. */
  buffer: Uint8Array;
  length: number;
  /** What survives a crash (the contents at the last sync). */
  durable: Uint8Array;
}

/** An in-memory file system whose `crash()` keeps only synced data, like a power cut. */
export interface MemoryFileSystem extends FileSystem {
  /** Drops every unsynced write (files never synced become empty). */
  crash(): void;
  /** A copy of the current contents. */
  snapshot(path: string): Uint8Array | undefined;
  /** Replaces a file's contents (durably), e.g. to plant data or corruption. */
  put(path: string, data: Uint8Array): void;
  /** Files currently open. */
  readonly openFiles: number;
}

export function memoryFileSystem(): MemoryFileSystem {
  const files = new Map<string, MemoryEntry>();
  let openFiles = 0;
  const current = (entry: MemoryEntry): Uint8Array => entry.buffer.subarray(0, entry.length);
  const fromBytes = (data: Uint8Array): MemoryEntry => ({
    buffer: data.slice(),
    length: data.length,
    durable: data.slice(),
  });
  const fs: MemoryFileSystem = {
    get openFiles() {
      return openFiles;
    },
    async open(path) {
      let entry = files.get(path);
      if (!entry) {
        entry = fromBytes(new Uint8Array(0));
        files.set(path, entry);
      }
      const e = entry;
      let closed = false;
      openFiles++;
      const check = (): void => {
        if (closed) throw new Error('file is closed');
      };
      const write = (data: Uint8Array, position: number): void => {
        check();
        const end = position + data.length;
        if (e.buffer.length < end) {
          const next = new Uint8Array(Math.max(end, e.buffer.length * 2));
          next.set(current(e));
          e.buffer = next;
        }
        e.buffer.set(data, position);
        e.length = Math.max(e.length, end);
      };
      return {
        async read(buffer, position) {
          check();
          const part = current(e).subarray(position, position + buffer.length);
          buffer.set(part);
          return part.length;
        },
        async write(data, position) {
          write(data, position);
        },
        async writev(buffers, position) {
          let at = position;
          for (const b of buffers) {
            write(b, at);
            at += b.length;
          }
        },
        async sync() {
          check();
          e.durable = current(e).slice();
        },
        async close() {
          if (closed) return;
          closed = true;
          openFiles--;
        },
      };
    },
    async size(path) {
      return files.get(path)?.length;
    },
    async readFile(path) {
      const entry = files.get(path);
      return entry ? current(entry).slice() : undefined;
    },
    async writeFileAtomic(path, data) {
      files.set(path, fromBytes(data));
    },
    crash() {
      for (const entry of files.values()) {
        entry.buffer = entry.durable.slice();
        entry.length = entry.durable.length;
      }
    },
    snapshot(path) {
      const entry = files.get(path);
      return entry ? current(entry).slice() : undefined;
    },
    put(path, data) {
      files.set(path, fromBytes(data));
    },
  };
  return fs;
}
