/**
 * The data-safety tests' kit (issue #14): a temporary directory with a hand-made .torrent and an
 * in-process seeder of it, `peerkit-share get` of it, bounded waits for an exit, the "one line
 * and exit 1" check, and small tmpfs mounts (root on Linux, as CI runs) removed after each test.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Torrent } from '@peerkit/piece-exchange';
import { expect } from 'vitest';
import type { CliProcess } from '../src/cli-process';
import { Harness, withTimeout } from './helpers';
import { bytes, type CraftedTorrent, craftTorrent, seedInProcess } from './safety-helpers';

/** Whether this machine lets the tests mount a small tmpfs (root on Linux: CI runs so). */
export function canMount(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface Setup {
  dir: string;
  torrentFile: string;
  port: number;
  out: string;
  state: string;
}

/** A single-file torrent of `size` pseudo-random bytes. */
export const single = (name: string, size: number, seed: number): CraftedTorrent =>
  craftTorrent(name, [{ path: [], data: bytes(size, seed) }]);

/** Waits for the process to exit (bounded: a process that loops for ever fails the test). */
export async function exitOf(p: CliProcess, ms = 20_000): Promise<number | null> {
  return (await withTimeout(p.exited, ms, `exit of ${p.pid} (${p.stderr.trim()})`)).code;
}

/** Exit 1 and exactly one line on stderr, the error, matching `pattern`. */
export async function expectOneLineFailure(p: CliProcess, pattern: RegExp): Promise<void> {
  const code = await exitOf(p);
  expect(code, p.stderr).toBe(1);
  const lines = p.stderr.trim().split('\n');
  expect(lines, p.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^peerkit-share: error: /);
  expect(lines[0]).toMatch(pattern);
  expect(p.events.some((e) => e.event === 'done')).toBe(false);
}

export class SafetyKit {
  readonly harness = new Harness();
  private readonly seeders: Torrent[] = [];
  private readonly mounts: string[] = [];

  /** Unmounts, stops every process and seeder, removes the directories. */
  async cleanup(): Promise<void> {
    for (const m of this.mounts.splice(0)) execFileSync('umount', ['-l', m]);
    await this.harness.cleanup();
    await Promise.all(this.seeders.splice(0).map((s) => s.close()));
  }

  async mountTmpfs(path: string, options: string): Promise<void> {
    await mkdir(path, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', path]);
    this.mounts.push(path);
  }

  /**
   * A temporary directory, the .torrent written in it, and a seeder of it (`rate` B/s); with
   * `seed: false` (a torrent no client can store) the peer is a closed port.
   */
  async setup(torrent: CraftedTorrent, rate?: number, seed = true): Promise<Setup> {
    const dir = await this.harness.tempDir();
    const torrentFile = join(dir, 'the.torrent');
    await writeFile(torrentFile, torrent.bytes);
    let port = 9; // discard: nothing listens
    if (seed) {
      const seeder = await seedInProcess(torrent, rate);
      this.seeders.push(seeder);
      port = seeder.listenAddress!.port;
    }
    const out = join(dir, 'out');
    await mkdir(out);
    return { dir, torrentFile, port, out, state: join(dir, 'state') };
  }

  /** `peerkit-share get` of the setup's torrent from its seeder, exiting when done. */
  get(s: Setup, extra: readonly string[] = [], state = s.state, out = s.out): CliProcess {
    return this.harness.spawn([
      'get',
      s.torrentFile,
      '--peer',
      `127.0.0.1:${s.port}`,
      '--no-dht',
      '--host',
      '127.0.0.1',
      '--out',
      out,
      '--state-dir',
      state,
      '--exit-when-done',
      '--json',
      ...extra,
    ]);
  }
}
