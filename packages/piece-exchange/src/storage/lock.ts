/**
 * One writer per set of files: a lock file holding the owner's PID, start time, host and
 * command line, created with `O_EXCL`. A second process is refused with a message naming the
 * holder. A lock whose holder is gone (a crash, `kill -9`) is stale: `process.kill(pid, 0)`
 * finds no such process and the lock is taken over, so a crash never leaves it stuck.
 *
 * On Linux the holder's start time is compared with the running process's (/proc), so a PID
 * reused by another process after a crash does not keep the lock. Limits (see the README): a
 * lock on another host (a shared network drive) is only taken over by hand; elsewhere than
 * Linux a reused PID makes the lock look held (the message names the lock file to remove). Two
 * processes taking over the same stale lock at the same instant could both succeed (the stale
 * file is re-read just before it is removed, which makes the window tiny).
 */
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { diskName } from './disk-paths';
import { describeIoError, StorageError, systemCode } from './storage-error';

export interface LockHolder {
  readonly pid: number;
  /** When the holding process started (ms since the epoch). */
  readonly startedAt: number;
  readonly host: string;
  readonly command: string;
}

export interface StorageLock {
  readonly path: string;
  /** Removes the lock file (if it is still ours). Idempotent. */
  release(): Promise<void>;
}

function me(): LockHolder {
  return {
    pid: process.pid,
    startedAt: Math.round(performance.timeOrigin),
    host: hostname(),
    // The script's file name and the arguments, e.g. `cli.js get big.torrent --out /dl`.
    command: [basename(process.argv[1] ?? ''), ...process.argv.slice(2)].join(' ').slice(0, 300),
  };
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (typeof h.pid !== 'number' || !Number.isInteger(h.pid) || h.pid <= 0) return undefined;
    return {
      pid: h.pid,
      startedAt: typeof h.startedAt === 'number' ? h.startedAt : 0,
      host: typeof h.host === 'string' ? h.host : '',
      command: typeof h.command === 'string' ? h.command : '',
    };
  } catch {
    return undefined;
  }
}

/**
 * When process `pid` started (ms since the epoch), from Linux's /proc (`starttime`, field 22 of
 * /proc/<pid>/stat, in clock ticks since boot, 100 per second; boot time from /proc/stat);
 * undefined where there is no /proc.
 */
async function processStartedAt(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    const boot = /^btime (\d+)$/m.exec(await readFile('/proc/stat', 'utf8'));
    if (!Number.isFinite(ticks) || boot === null) return undefined;
    return Number(boot[1]) * 1000 + ticks * 10;
  } catch {
    return undefined;
  }
}

/**
 * Whether the lock's holder still runs: its PID exists (EPERM: it exists, owned by someone
 * else) and, where the start time of a process can be read, it started when the holder did (a
 * PID reused by another process after a crash does not hold the lock).
 */
async function alive(holder: LockHolder): Promise<boolean> {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as { code?: string }).code !== 'EPERM') return false;
  }
  const started = await processStartedAt(holder.pid);
  if (started === undefined || holder.startedAt <= 0) return true;
  return Math.abs(started - holder.startedAt) < 5_000;
}

function describeHolder(h: LockHolder): string {
  const self = h.pid === process.pid ? ', this very process' : '';
  const since = h.startedAt > 0 ? `, running since ${new Date(h.startedAt).toISOString()}` : '';
  const command = h.command !== '' ? ` "${h.command}"` : '';
  return `process ${h.pid}${command}${h.host !== hostname() ? ` on ${h.host}` : ''}${self}${since}`;
}

/**
 * Takes the lock at `path` for `what` (shown in the refusal, e.g. the files' path). Throws
 * `StorageError` `LOCKED` naming the process that holds it, or `IO_ERROR` when the lock file
 * cannot be created.
 */
export async function acquireLock(path: string, what: string): Promise<StorageLock> {
  const mine = `${JSON.stringify(me())}\n`;
  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (error) {
    throw new StorageError(
      'IO_ERROR',
      `cannot create ${dirname(path)}: ${describeIoError(error)}`,
      {
        cause: error,
      },
    );
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o644);
      try {
        await handle.writeFile(mine);
      } catch (error) {
        // E.g. a full disk: no half-written lock is left behind.
        await handle.close();
        await unlink(path).catch(() => undefined);
        throw error;
      }
      await handle.close();
      let released = false;
      return {
        path,
        async release() {
          if (released) return;
          released = true;
          const now = await readFile(path, 'utf8').catch(() => undefined);
          if (now === mine) await unlink(path).catch(() => undefined);
        },
      };
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') {
        throw new StorageError('IO_ERROR', `cannot create ${path}: ${describeIoError(error)}`, {
          cause: error,
        });
      }
    }
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) continue; // released in between: try again
    const holder = parseHolder(text);
    if (holder !== undefined && (holder.host !== hostname() || (await alive(holder)))) {
      throw new StorageError(
        'LOCKED',
        `${what} is in use by ${describeHolder(holder)} (lock ${path}; remove it only if that process is gone)`,
      );
    }
    // Stale (its process is gone) or unreadable: take it over, if nobody did in between.
    const again = await readFile(path, 'utf8').catch(() => undefined);
    if (again === text) await unlink(path).catch(() => undefined);
  }
  throw new StorageError('LOCKED', `${what}: cannot take the lock ${path} (it keeps changing)`);
}

/**
 * Where the lock of a torrent's files lives: next to them, `.<name>.peerkit-lock` in the
 * download directory (removed when the session closes), so that any two processes writing the
 * same files meet, whatever their state or resume paths.
 */
export function contentLockPath(directory: string, topName: string): string {
  return join(directory, diskName(`.${topName}.peerkit-lock`));
}

/**
 * Locks a torrent's files against a second writer (`contentLockPath`); `undefined` for a
 * torrent with no files, or a directory nobody may write to (read-only media, a full disk),
 * where a writer would fail anyway.
 */
export async function lockTorrentFiles(
  directory: string,
  paths: readonly (readonly string[])[],
): Promise<StorageLock | undefined> {
  const first = paths[0]?.[0];
  if (first === undefined) return undefined;
  return acquireLock(contentLockPath(directory, first), join(directory, first)).catch(
    (error: unknown) => {
      if (['EROFS', 'EACCES', 'EPERM', 'ENOSPC', 'EDQUOT'].includes(systemCode(error) ?? ''))
        return undefined;
      throw error;
    },
  );
}
