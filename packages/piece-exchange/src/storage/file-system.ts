/**
 * The file system seam of storage: the few operations piece storage needs, so that the same
 * code runs on disk (`nodeFileSystem`, node:fs/promises) and in memory (`memoryFileSystem`, for
 * simulations and crash tests: its `crash()` drops every write that was not synced).
 *
 * Confinement (./confined.ts) is built on `lstat`, one-level `mkdir` and the `create` and
 * `existing` open modes, which never follow a symbolic link at the last path component.
 */
import { constants } from 'node:fs';
import { mkdir, lstat as nodeLstat, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/** What a path is, without following a symbolic link (`lstat`). */
export type EntryType = 'file' | 'directory' | 'symlink' | 'other';

/**
 * A file's size and modification time, as libtorrent's resume data records them: content whose
 * stamp changed since it was checked is checked again.
 */
export interface FileStamp {
  readonly size: number;
  /** Modification time in nanoseconds (whatever resolution the file system keeps). */
  readonly mtimeNs: bigint;
}

export interface EntryStat extends FileStamp {
  readonly type: EntryType;
  /** Hard links to the file (1 for a file that has no other name). */
  readonly links: number;
}

/**
 * How `open` treats the path: `create` makes a new file and fails (`EEXIST`) if anything is
 * there, even a dangling symbolic link; `existing` opens a regular file that is there and fails
 * on a symbolic link (`ELOOP`) or a missing file; `any` (the default) opens or creates the file
 * and its directories, following links (for paths the caller owns, e.g. resume data).
 */
export type OpenMode = 'create' | 'existing' | 'any';

export interface StorageFile {
  /** Reads into `buffer` from `position`; returns the bytes read (fewer at end of file). */
  read(buffer: Uint8Array, position: number): Promise<number>;
  write(data: Uint8Array, position: number): Promise<void>;
  /** Writes `buffers` back to back from `position` (one gathered write where supported). */
  writev(buffers: readonly Uint8Array[], position: number): Promise<void>;
  /** Makes every write so far durable (fdatasync). */
  sync(): Promise<void>;
  /** Cuts or extends the file to `length` bytes. */
  truncate(length: number): Promise<void>;
  /** The open file's size and modification time (`fstat`). */
  stat(): Promise<FileStamp>;
  close(): Promise<void>;
}

export interface FileSystem {
  /**
   * Opens a file for reading and writing (read-only when writing is not permitted: writes then
   * fail). See `OpenMode`.
   */
  open(path: string, mode?: OpenMode): Promise<StorageFile>;
  /** What is at `path` without following a symbolic link, or undefined when nothing is. */
  lstat(path: string): Promise<EntryStat | undefined>;
  /** Creates one directory (its parent must exist); fails with `EEXIST` if anything is there. */
  mkdir(path: string): Promise<void>;
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

function codeOf(error: unknown): string | undefined {
  return (error as { code?: string } | undefined)?.code;
}

function fsError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

type Handle = Awaited<ReturnType<typeof open>>;

/**
 * Opens `path` without following a symbolic link at its last component: `O_NOFOLLOW` where the
 * platform has it (Linux, macOS), and on every platform an `fstat` of the opened handle that
 * must be a regular file. Falls back to read-only when writing is not permitted.
 */
async function openNoFollow(path: string, create: boolean): Promise<Handle> {
  const noFollow = constants.O_NOFOLLOW ?? 0;
  const base = create ? constants.O_CREAT | constants.O_EXCL : 0;
  let handle: Handle;
  try {
    handle = await open(path, base | constants.O_RDWR | noFollow, 0o644);
  } catch (error) {
    const code = codeOf(error);
    if (create || (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS')) throw error;
    handle = await open(path, constants.O_RDONLY | noFollow);
  }
  const s = await handle.stat();
  if (!s.isFile()) {
    await handle.close();
    throw fsError('EINVAL', `${path} is not a regular file`);
  }
  return handle;
}

/** Files on disk through node:fs/promises. */
export function nodeFileSystem(): FileSystem {
  return {
    async open(path, mode = 'any') {
      let handle: Handle;
      if (mode !== 'any') {
        handle = await openNoFollow(path, mode === 'create');
      } else {
        try {
          handle = await open(path, 'r+');
        } catch (error) {
          if (!isNotFound(error)) throw error;
          await mkdir(dirname(path), { recursive: true });
          handle = await open(path, 'a+');
          await handle.close();
          handle = await open(path, 'r+');
        }
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
        truncate: (length) => handle.truncate(length),
        async stat() {
          const s = await handle.stat({ bigint: true });
          return { size: Number(s.size), mtimeNs: s.mtimeNs };
        },
        close: () => handle.close(),
      };
    },
    async lstat(path) {
      try {
        const s = await nodeLstat(path, { bigint: true });
        const type: EntryType = s.isSymbolicLink()
          ? 'symlink'
          : s.isDirectory()
            ? 'directory'
            : s.isFile()
              ? 'file'
              : 'other';
        return { type, size: Number(s.size), mtimeNs: s.mtimeNs, links: Number(s.nlink) };
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async mkdir(path) {
      await mkdir(path);
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
  /** A logical clock: bumped by every change (the memory file system's modification time). */
  mtime: bigint;
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
  const directories = new Set<string>();
  let openFiles = 0;
  let clock = 0n;
  const tick = (): bigint => ++clock;
  const current = (entry: MemoryEntry): Uint8Array => entry.buffer.subarray(0, entry.length);
  const fromBytes = (data: Uint8Array): MemoryEntry => ({
    buffer: data.slice(),
    length: data.length,
    durable: data.slice(),
    mtime: tick(),
  });
  const isDirectory = (path: string): boolean => {
    if (directories.has(path)) return true;
    for (const key of files.keys()) if (key.startsWith(`${path}/`)) return true;
    return false;
  };
  const fs: MemoryFileSystem = {
    get openFiles() {
      return openFiles;
    },
    async open(path, mode = 'any') {
      let entry = files.get(path);
      if (mode === 'create' && (entry !== undefined || isDirectory(path)))
        throw fsError('EEXIST', `${path} exists`);
      if (mode === 'existing' && entry === undefined)
        throw fsError(isDirectory(path) ? 'EISDIR' : 'ENOENT', `no file ${path}`);
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
        e.mtime = tick();
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
        async truncate(length) {
          check();
          if (length <= e.length) e.length = length;
          else write(new Uint8Array(length - e.length), e.length);
          e.mtime = tick();
        },
        async stat() {
          check();
          return { size: e.length, mtimeNs: e.mtime };
        },
        async close() {
          if (closed) return;
          closed = true;
          openFiles--;
        },
      };
    },
    async lstat(path) {
      const entry = files.get(path);
      if (entry !== undefined)
        return { type: 'file', size: entry.length, mtimeNs: entry.mtime, links: 1 };
      return isDirectory(path) ? { type: 'directory', size: 0, mtimeNs: 0n, links: 1 } : undefined;
    },
    async mkdir(path) {
      if (files.has(path) || isDirectory(path)) throw fsError('EEXIST', `${path} exists`);
      directories.add(path);
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
        entry.mtime = tick();
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
