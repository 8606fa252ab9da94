/**
 * Test helpers: the built CLI (turbo builds before test), temporary directories, random files,
 * and spawned processes that are all stopped by PID after each test.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CliProcess, spawnCli } from '../src/cli-process';

/** The built CLI (`PEERKIT_SHARE_TEST_CLI` runs the suite against another build, e.g. an older one). */
export const CLI =
  process.env.PEERKIT_SHARE_TEST_CLI ?? fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** Tracks what a test file starts, to stop and remove it afterwards. */
export class Harness {
  private readonly processes: CliProcess[] = [];
  private readonly dirs: string[] = [];

  spawn(args: readonly string[], cwd?: string): CliProcess {
    if (!existsSync(CLI))
      throw new Error(`${CLI} is missing: run \`pnpm build\` in apps/fileshare first`);
    const p = spawnCli(args, { cli: CLI, ...(cwd ? { cwd } : {}) });
    this.processes.push(p);
    return p;
  }

  async tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'peerkit-fileshare-test-'));
    this.dirs.push(dir);
    return dir;
  }

  /** Stops every process (SIGINT, then SIGKILL after 3 s) and removes the directories. */
  async cleanup(): Promise<void> {
    await Promise.all(this.processes.splice(0).map((p) => p.stop('SIGINT', 3_000)));
    await Promise.all(this.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  }
}

/**
 * `peerkit-share get <torrent>` from the one peer 127.0.0.1:`port` (no DHT, listening on
 * loopback) into `out`, state in `stateDir`, exiting when done: downloads from another client.
 */
export function getFromLoopbackPeer(
  harness: Harness,
  torrent: string,
  port: number,
  out: string,
  stateDir: string,
): CliProcess {
  return harness.spawn([
    'get',
    torrent,
    '--peer',
    `127.0.0.1:${port}`,
    '--no-dht',
    '--host',
    '127.0.0.1',
    '--out',
    out,
    '--state-dir',
    stateDir,
    '--exit-when-done',
    '--json',
  ]);
}

/** Writes `size` random bytes; returns their SHA-256 (hex). */
export async function randomFile(path: string, size: number): Promise<string> {
  const bytes = randomBytes(size);
  await writeFile(path, bytes);
  return sha256(bytes);
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function sha256File(path: string): Promise<string> {
  return sha256(await readFile(path));
}

/** Rejects after `ms` with `what` in the message. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}
