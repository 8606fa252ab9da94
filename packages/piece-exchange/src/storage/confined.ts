/**
 * Creating a torrent's files under its directory without ever leaving it. Each path component
 * below the directory is examined with `lstat` from the top: a missing directory is created one
 * level at a time, a symbolic link is refused (never followed, whether it points to a file, a
 * directory or nowhere), a file where a directory must be is a conflict. The file itself is
 * created with `O_CREAT | O_EXCL` (which never follows a link) and later opened with
 * `O_NOFOLLOW`, and must be a regular file.
 *
 * Residual race (documented in the README): Node has no `openat`, so a process that replaces an
 * already checked directory with a symbolic link between our `lstat` and our `open` could still
 * redirect one open. Only someone who can write inside the download directory can do that.
 */
import { join } from 'node:path';
import type { FileStamp, FileSystem } from './file-system';
import type { FileLayout } from './layout';
import { describeIoError, StorageError } from './storage-error';

export interface PreparedFile {
  /** The file was there before (it was not created by this call). */
  readonly existed: boolean;
  readonly stamp: FileStamp;
  /** It has other names (hard links), possibly outside the directory. */
  readonly linked: boolean;
}

function ioError(what: string, path: string, error: unknown): StorageError {
  if (error instanceof StorageError) return error;
  return new StorageError('IO_ERROR', `cannot ${what} ${path}: ${describeIoError(error)}`, {
    cause: error,
  });
}

/** Creates `root` and its missing parents (the user chose it: links above it are followed). */
export async function ensureRoot(fs: FileSystem, root: string): Promise<void> {
  const missing: string[] = [];
  let at = root;
  for (;;) {
    let entry: Awaited<ReturnType<FileSystem['lstat']>>;
    try {
      entry = await fs.lstat(at);
    } catch (error) {
      throw ioError('use', at, error);
    }
    if (entry !== undefined) {
      if (entry.type === 'file' || entry.type === 'other')
        throw new StorageError('IO_ERROR', `cannot use ${at}: it is not a directory`);
      break;
    }
    missing.unshift(at);
    const parent = join(at, '..');
    if (parent === at) break;
    at = parent;
  }
  for (const dir of missing) {
    try {
      await fs.mkdir(dir);
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw ioError('create', dir, error);
    }
  }
}

/** Checks (and creates when missing) each directory of `elements[0..-1]` under `root`. */
export async function ensureParents(
  fs: FileSystem,
  root: string,
  elements: readonly string[],
): Promise<void> {
  let dir = root;
  for (let i = 0; i < elements.length - 1; i++) {
    dir = join(dir, elements[i]!);
    const shown = elements.slice(0, i + 1).join('/');
    let entry = await fs.lstat(dir).catch((error: unknown) => {
      throw ioError('use', dir, error);
    });
    if (entry === undefined) {
      try {
        await fs.mkdir(dir);
        continue;
      } catch (error) {
        if ((error as { code?: string }).code !== 'EEXIST') throw ioError('create', dir, error);
        entry = await fs.lstat(dir);
      }
    }
    if (entry?.type === 'directory') continue;
    if (entry?.type === 'symlink') {
      throw new StorageError(
        'UNSAFE_PATH',
        `${dir} is a symbolic link: refusing to write through it (remove it or choose another directory)`,
      );
    }
    throw new StorageError(
      'PATH_CONFLICT',
      `${dir} is a file, but the torrent needs a directory "${shown}" there`,
    );
  }
}

/**
 * Makes sure file `elements` can be written under `root` without leaving it: directories are
 * created, a missing file is created empty. Returns whether the file was already there.
 */
export async function prepareFile(
  fs: FileSystem,
  root: string,
  elements: readonly string[],
): Promise<PreparedFile> {
  await ensureParents(fs, root, elements);
  const path = join(root, ...elements);
  for (let attempt = 0; attempt < 2; attempt++) {
    const entry = await fs.lstat(path).catch((error: unknown) => {
      throw ioError('use', path, error);
    });
    if (entry === undefined) {
      try {
        const file = await fs.open(path, 'create');
        try {
          return { existed: false, stamp: await file.stat(), linked: false };
        } finally {
          await file.close();
        }
      } catch (error) {
        // Created by someone else in between: look again.
        if ((error as { code?: string }).code === 'EEXIST' && attempt === 0) continue;
        throw ioError('create', path, error);
      }
    }
    if (entry.type === 'file') {
      const stamp = { size: entry.size, mtimeNs: entry.mtimeNs };
      return { existed: true, stamp, linked: entry.links > 1 };
    }
    if (entry.type === 'directory') {
      throw new StorageError(
        'PATH_CONFLICT',
        `${path} is a directory, but the torrent has a file "${elements.join('/')}" there`,
      );
    }
    throw new StorageError(
      'UNSAFE_PATH',
      entry.type === 'symlink'
        ? `${path} is a symbolic link: refusing to write through it (remove it or choose another directory)`
        : `${path} is not a regular file: refusing to use it`,
    );
  }
  throw new StorageError('IO_ERROR', `cannot create ${path}: it keeps changing`);
}

/**
 * Prepares every file of `layout` (disk names `paths`) under `root`, in order: the root, the
 * directories and the missing files are created. Undefined for padding files (never stored).
 */
export async function prepareFiles(
  fs: FileSystem,
  root: string,
  layout: FileLayout,
  paths: readonly (readonly string[])[],
  /** Files not to create (unselected files kept in part files, ./part-file.ts). */
  skip: (file: number) => boolean = () => false,
): Promise<(PreparedFile | undefined)[]> {
  await ensureRoot(fs, root);
  const out: (PreparedFile | undefined)[] = [];
  for (const [i, f] of layout.files.entries()) {
    out.push(f.padding || skip(i) ? undefined : await prepareFile(fs, root, paths[i]!));
  }
  return out;
}

/** Size and modification time of every file now (undefined for padding and missing files). */
export function fileStamps(
  fs: FileSystem,
  root: string,
  layout: FileLayout,
  paths: readonly (readonly string[])[],
): Promise<(FileStamp | undefined)[]> {
  return Promise.all(
    layout.files.map(async (f, i) => {
      if (f.padding) return undefined;
      const entry = await fs.lstat(join(root, ...paths[i]!));
      return entry?.type === 'file' ? { size: entry.size, mtimeNs: entry.mtimeNs } : undefined;
    }),
  );
}
