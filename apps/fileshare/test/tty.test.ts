/**
 * What a person sees on a terminal: `peerkit-share` runs inside tmux (its own server socket,
 * `-L`, killed at the end) and the screen is read with capture-pane. Each command runs under
 * `bash -c '...; echo EXIT=$?; sleep'`, so that the pane stays after it exits and shows how.
 *
 * - every log line before `done:` is still on screen after a fast download and after a resumed
 *   one (they used to be lost in the progress bar's buffer);
 * - Ctrl-C while hashing stops the process (exit 130, nothing written) before a bound;
 * - no colour escape reaches a redirected stderr, while the terminal gets colour.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { CliProcess } from '../src/cli-process';
import { CLI, Harness, randomFile } from './helpers';

const harness = new Harness();
afterEach(() => harness.cleanup());

const SOCKET = `peerkit-share-test-${process.pid}`;
const tmux = (...args: string[]) =>
  execFileSync('tmux', ['-L', SOCKET, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
afterAll(() => {
  try {
    tmux('kill-server');
  } catch {
    // no session left
  }
});

const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
let sessions = 0;

/** Starts `peerkit-share ...args` in a new tmux window (`width`x40); returns its name. */
function runInTmux(args: string[], redirect = '', width = 140): string {
  const name = `s${sessions++}`;
  const command = [process.execPath, CLI, ...args].map(quote).join(' ');
  // Ctrl-C goes to node; bash's own trap only keeps bash alive to print the exit code.
  const script = `trap 'true' INT; env -u NO_COLOR -u FORCE_COLOR TERM=xterm-256color ${command} ${redirect}; echo EXIT=$?; sleep 600`;
  tmux('new-session', '-d', '-s', name, '-x', String(width), '-y', '40', 'bash', '-c', script);
  return name;
}

const screen = (name: string, escapes = false) =>
  tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-J', '-t', name, '-S', '-200');

async function until(check: () => boolean, what: string, ms = 30_000): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - start;
}

const exitOf = (name: string) => /EXIT=(\d+)/.exec(screen(name))?.[1];

async function seed(
  dir: string,
  size: number,
  rate?: string,
): Promise<{ seeder: CliProcess; peer: string; magnet: string }> {
  await randomFile(join(dir, 'movie.bin'), size);
  const seeder = harness.spawn([
    'share',
    join(dir, 'movie.bin'),
    '--piece-length',
    '16k',
    ...(rate ? ['--max-upload-rate', rate] : []),
    '--host',
    '127.0.0.1',
    '--no-dht',
    '--state-dir',
    join(dir, 'seed-state'),
    '--json',
  ]);
  const listening = await seeder.waitForEvent('listening', 20_000);
  const torrent = await seeder.waitForEvent('torrent', 20_000);
  return { seeder, peer: `127.0.0.1:${listening.port}`, magnet: String(torrent.magnet) };
}

const getArgs = (dir: string, magnet: string, peer: string, out = join(dir, 'out')) => [
  'get',
  magnet,
  '--peer',
  peer,
  '--no-dht',
  '--host',
  '127.0.0.1',
  '--out',
  out,
  '--state-dir',
  join(dir, 'get-state'),
  '--exit-when-done',
];

describe('peerkit-share on a terminal (tmux)', () => {
  it('a fast download keeps every line before done:, long ones wrapped whole', async () => {
    const dir = await harness.tempDir();
    const { magnet, peer } = await seed(dir, 1024 * 1024);
    // A download directory long enough that the done: line is wider than the 140-column pane.
    const out = join(dir, `out-${'x'.repeat(150)}`);
    const name = runInTmux(getArgs(dir, magnet, peer, out));
    await until(() => exitOf(name) !== undefined, 'get to exit');
    const text = screen(name);
    expect(exitOf(name), text).toBe('0');
    const order = [
      'listening on TCP 127.0.0.1:',
      'fetching movie.bin',
      'metadata fetched: movie.bin',
      'done: ',
      'exiting (--exit-when-done)',
      'stopping: closing connections',
      'stopped: 64/64 pieces verified',
    ].map((line) => {
      expect(text, line).toContain(line);
      return text.indexOf(line);
    });
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // capture-pane -J joins wrapped lines: the whole line is there, not cut at the pane's edge.
    expect(text).toContain(`done: ${join(out, 'movie.bin')} verified (`);
  }, 60_000);

  it('a resumed download keeps its lines too, and Ctrl-C says what was kept', async () => {
    const dir = await harness.tempDir();
    const { magnet, peer } = await seed(dir, 3 * 1024 * 1024, '512k');
    // 60 columns: the stopping: line, printed while the bar is up, is wider than the pane.
    const first = runInTmux(getArgs(dir, magnet, peer), '', 60);
    // The bar shows a percentage once pieces come in; stop half-way with Ctrl-C.
    await until(() => /\s([1-9]\d?)% \|/.test(screen(first)), 'the download bar to move');
    tmux('send-keys', '-t', first, 'C-c');
    await until(() => exitOf(first) !== undefined, 'the first get to stop');
    const stopped = screen(first);
    expect(exitOf(first), stopped).toBe('0');
    // Whole (capture-pane -J joins wrapped lines), not cut at the pane's edge by the bar's
    // disabled line wrap.
    expect(stopped).toContain(
      'stopping: closing connections, saving resume data and the DHT table',
    );
    expect(stopped).toMatch(/stopped: \d+\/192 pieces verified \(kept; the next run resumes/);

    const second = runInTmux(getArgs(dir, magnet, peer));
    await until(() => exitOf(second) !== undefined, 'the second get to exit', 60_000);
    const text = screen(second);
    expect(exitOf(second), text).toBe('0');
    for (const line of [
      'listening on TCP',
      'movie.bin: 3.0 MiB in 192 pieces',
      'resuming: ',
      'done: ',
    ])
      expect(text, line).toContain(line);
    expect(text.indexOf('resuming: ')).toBeLessThan(text.indexOf('done: '));
  }, 90_000);

  it('Ctrl-C while hashing stops create at once, writing nothing', async () => {
    const dir = await harness.tempDir();
    // A sparse 8 GiB file: hashing it takes seconds, storing it takes nothing.
    const big = join(dir, 'big.bin');
    const handle = await open(big, 'w');
    await handle.truncate(8 * 1024 ** 3);
    await handle.close();
    const out = join(dir, 'big.torrent');
    const name = runInTmux(['create', big, '-o', out]);
    await until(() => /hashing big\.bin .*\d+% \|/.test(screen(name)), 'the hashing bar');
    const sent = Date.now();
    tmux('send-keys', '-t', name, 'C-c');
    await until(() => exitOf(name) !== undefined, 'create to exit', 10_000);
    const ms = Date.now() - sent;
    console.log(`create exited ${ms} ms after Ctrl-C during hashing (bound: 10 s)`);
    expect(exitOf(name), screen(name)).toBe('130');
    expect(screen(name)).toContain('stopped: hashing interrupted (SIGINT); nothing written');
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  it('Ctrl-C while share re-checks its files stops it at once', async () => {
    const dir = await harness.tempDir();
    const big = join(dir, 'big.bin');
    const handle = await open(big, 'w');
    await handle.truncate(3 * 1024 ** 3);
    await handle.close();
    const torrent = join(dir, 'big.torrent');
    const create = harness.spawn(['create', big, '-o', torrent, '--piece-length', '4M', '-q']);
    expect((await create.exited).code, create.stderr).toBe(0);
    // The first share of a given .torrent verifies the files against it.
    const name = runInTmux([
      'share',
      big,
      '--torrent',
      torrent,
      '--no-dht',
      '--host',
      '127.0.0.1',
      '--state-dir',
      join(dir, 'state'),
    ]);
    await until(() => /hashing big\.bin .*\d+% \|/.test(screen(name)), 'the re-check bar');
    const sent = Date.now();
    tmux('send-keys', '-t', name, 'C-c');
    await until(() => exitOf(name) !== undefined, 'share to exit', 10_000);
    console.log(
      `share exited ${Date.now() - sent} ms after Ctrl-C during its re-check (bound: 10 s)`,
    );
    expect(exitOf(name), screen(name)).toBe('130');
    expect(screen(name)).toContain('stopped: hashing interrupted (SIGINT); nothing written');
  }, 90_000);

  it('no colour in a redirected stderr; colour when stderr is the terminal', async () => {
    const dir = await harness.tempDir();
    const missing = join(dir, 'missing.bin');
    const err = join(dir, 'stderr.txt');
    const redirected = runInTmux(['create', missing], `2>${quote(err)}`);
    await until(() => exitOf(redirected) !== undefined, 'create to fail');
    const text = await readFile(err, 'utf8');
    expect(text).toMatch(/^peerkit-share: error: no such file or directory: /);
    expect(text).not.toContain('\x1b[');

    const onTerminal = runInTmux(['create', missing]);
    await until(() => exitOf(onTerminal) !== undefined, 'create to fail');
    expect(screen(onTerminal, true)).toContain('\x1b[31mpeerkit-share: error: no such file');
  }, 30_000);
});
