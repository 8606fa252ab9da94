/**
 * What the transfer benches share: a bench torrent over a pseudo-random file, and running another
 * program under `/usr/bin/time` for its CPU time and peak RSS (the kernel's rusage of the whole
 * process), stopping it by PID.
 */
import { type ChildProcess, execFileSync, type StdioOptions, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BencodeInput, encode } from '@peerkit/bencode';

const CHUNK = 4 * 1024 * 1024;

/** What `/usr/bin/time` says of one finished process. */
export interface ProcessCost {
  seconds: number;
  /** user + sys. */
  cpuMs: number;
  maxRssMB: number;
}

export interface BenchTorrent {
  /** The info dictionary, to wrap with or without an announce URL. */
  info: { [key: string]: BencodeInput };
  infoHash: Uint8Array;
}

/**
 * Writes `size` bytes to `dir/seed/bench.bin` (a random 4 MiB chunk repeated, each copy and each
 * piece made distinct by its offset) and returns the torrent's info dictionary for `piece`.
 */
export async function makeBenchTorrent(
  dir: string,
  size: number,
  piece: number,
): Promise<BenchTorrent> {
  await mkdir(join(dir, 'seed'), { recursive: true });
  const file = await open(join(dir, 'seed', 'bench.bin'), 'w');
  const pieces = new Uint8Array((size / piece) * 20);
  const base = randomBytes(CHUNK);
  for (let offset = 0; offset < size; offset += CHUNK) {
    const chunk = Buffer.from(base);
    chunk.writeUInt32BE(offset / CHUNK, 0);
    for (let p = 0; p < CHUNK; p += piece) chunk.writeUInt32BE(offset + p, p + 4);
    await file.write(chunk, 0, chunk.length, offset);
    for (let p = 0; p < CHUNK; p += piece) {
      pieces.set(
        createHash('sha1')
          .update(chunk.subarray(p, p + piece))
          .digest(),
        ((offset + p) / piece) * 20,
      );
    }
  }
  await file.close();
  const info = { length: size, name: 'bench.bin', 'piece length': piece, pieces };
  const infoHash = new Uint8Array(createHash('sha1').update(encode(info)).digest());
  return { info, infoHash };
}

/** A program started under `/usr/bin/time`. */
export interface TimedProcess {
  /** The `time` process (its stdio is the program's). */
  child: ChildProcess;
  /** Resolves with the program's cost once it exited. */
  cost: Promise<ProcessCost>;
  /** Sends `signal` to the program itself (GNU time ignores SIGINT while it waits). */
  signal(signal?: NodeJS.Signals): void;
}

/** Starts `command args` under `/usr/bin/time`, writing its figures to `timeFile`. */
export function spawnTimed(
  command: string,
  args: string[],
  timeFile: string,
  stdio: StdioOptions = ['ignore', 'pipe', 'inherit'],
): TimedProcess {
  const child = spawn(
    '/usr/bin/time',
    ['-o', timeFile, '-f', 'TIME %e %U %S %M', command, ...args],
    { stdio },
  );
  const cost = new Promise<ProcessCost>((resolve, reject) => {
    child.once('close', () => readFile(timeFile, 'utf8').then(parseTime).then(resolve, reject));
  });
  return {
    child,
    cost,
    signal(signal = 'SIGINT') {
      const inner = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' })
        .trim()
        .split('\n')[0];
      if (inner) process.kill(Number(inner), signal);
    },
  };
}

/** `/usr/bin/time -f 'TIME %e %U %S %M'` output: elapsed s, user s, sys s, max RSS KiB. */
export function parseTime(text: string): ProcessCost {
  const m = /TIME (\S+) (\S+) (\S+) (\d+)/.exec(text);
  if (!m) throw new Error(`no time output in ${text.slice(-500)}`);
  return {
    seconds: Number(m[1]),
    cpuMs: (Number(m[2]) + Number(m[3])) * 1000,
    maxRssMB: Number(m[4]) / 1024,
  };
}

/** Calls `onLine` for each line of `stream`. */
export function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      onLine(buffer.slice(0, i));
      buffer = buffer.slice(i + 1);
    }
  });
}

/** The first line of `stream` that `match` accepts, parsed by it. */
export function firstLine<T>(
  stream: NodeJS.ReadableStream,
  match: (line: string) => T | undefined,
  what: string,
  timeoutMs = 120_000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let found = false;
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
    lines(stream, (line) => {
      if (found) return;
      const value = match(line);
      if (value === undefined) return;
      found = true;
      clearTimeout(timer);
      resolve(value);
    });
    stream.once('end', () => {
      if (!found) reject(new Error(`no ${what} before the program exited`));
    });
  });
}

/** The median of `values` (the lower one of the middle two). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}
