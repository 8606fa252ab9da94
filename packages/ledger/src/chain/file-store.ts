/**
 * The Node file implementation of ChainStore: `<dir>/blocks.dat` (the record log) and
 * `<dir>/LOCK` (the pid of the one process allowed to write). A second live writer is refused
 * with one clear error; a LOCK left by a process that died (kill -9) is taken over.
 */
import { constants } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LedgerError } from '../errors';
import type { ChainStore } from './store';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lock files this process holds (a second store on the same directory is refused too). */
const held = new Set<string>();

async function takeLock(path: string): Promise<void> {
  if (held.has(path))
    throw new LedgerError('STORAGE', `${path}: this directory is already open in this process`);
  try {
    await writeFile(path, String(process.pid), { flag: 'wx' });
    held.add(path);
    return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
      throw storageError(`cannot create ${path}`, e);
  }
  const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
  if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
    throw new LedgerError(
      'STORAGE',
      `${path}: another ledger process (pid ${pid}) is using this directory`,
    );
  }
  // A stale lock from a process that no longer runs: take it over.
  await writeFile(path, String(process.pid));
  held.add(path);
}

function storageError(message: string, cause: unknown): LedgerError {
  return new LedgerError('STORAGE', `${message}: ${(cause as Error).message}`, { cause });
}

class FileChainStore implements ChainStore {
  #file: FileHandle | undefined;
  #size: number;
  readonly #lockPath: string;

  constructor(file: FileHandle, size: number, lockPath: string) {
    this.#file = file;
    this.#size = size;
    this.#lockPath = lockPath;
  }

  #handle(): FileHandle {
    if (this.#file === undefined) throw new LedgerError('CLOSED', 'store is closed');
    return this.#file;
  }

  async size(): Promise<number> {
    return this.#size;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const n = Math.max(0, Math.min(length, this.#size - offset));
    const buf = new Uint8Array(n);
    let done = 0;
    try {
      while (done < n) {
        const { bytesRead } = await this.#handle().read(buf, done, n - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
    } catch (e) {
      if (e instanceof LedgerError) throw e;
      throw storageError('cannot read the block log', e);
    }
    return buf.subarray(0, done);
  }

  async append(bytes: Uint8Array): Promise<void> {
    const file = this.#handle();
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await file.write(
        bytes,
        done,
        bytes.length - done,
        this.#size + done,
      );
      done += bytesWritten;
    }
    await file.datasync();
    this.#size += bytes.length;
  }

  async truncate(length: number): Promise<void> {
    await this.#handle().truncate(length);
    await this.#handle().datasync();
    this.#size = Math.min(this.#size, length);
  }

  async close(): Promise<void> {
    const file = this.#file;
    if (file === undefined) return;
    this.#file = undefined;
    await file.close();
    await rm(this.#lockPath, { force: true });
    held.delete(this.#lockPath);
  }
}

/**
 * Opens (creating if needed) the block log in `dir`. Refuses a `blocks.dat` that is not a
 * regular file (a symlink could lead out of the directory) and a directory another live
 * process holds.
 */
export async function openFileChainStore(dir: string): Promise<ChainStore> {
  await mkdir(dir, { recursive: true }).catch((e) => {
    throw storageError(`cannot create ${dir}`, e);
  });
  const lockPath = join(dir, 'LOCK');
  await takeLock(lockPath);
  const path = join(dir, 'blocks.dat');
  try {
    const info = await lstat(path).catch(() => undefined);
    if (info !== undefined && !info.isFile())
      throw new LedgerError('STORAGE', `${path} is not a regular file`);
    const file = await open(
      path,
      constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW,
      0o644,
    );
    const { size } = await file.stat();
    return new FileChainStore(file, size, lockPath);
  } catch (e) {
    await rm(lockPath, { force: true });
    held.delete(lockPath);
    if (e instanceof LedgerError) throw e;
    throw storageError(`cannot open ${path}`, e);
  }
}
