/**
 * The options users of aria2c, transmission-cli and webtorrent-cli look for (docs/cli.md), as
 * real processes on loopback: a refused `--peer` is reported and `--timeout` gives up;
 * `--on-complete` runs with the download's details; `--seed-ratio` and `--seed-time` end seeding.
 */

import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Harness, randomFile, sha256File, withTimeout } from './helpers';

const harness = new Harness();
afterEach(() => harness.cleanup());

/** A TCP port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const local = ['--no-dht', '--host', '127.0.0.1', '--json'];

describe('peerkit-share options', () => {
  it('a --peer that refuses is reported, and --timeout gives up with one line', async () => {
    const dir = await harness.tempDir();
    const port = await closedPort();
    const get = harness.spawn([
      'get',
      'ab'.repeat(20),
      '--peer',
      `127.0.0.1:${port}`,
      '--timeout',
      '2',
      '--state-dir',
      dir,
      '--out',
      dir,
      ...local,
    ]);
    const exit = await withTimeout(get.exited, 30_000, 'get to give up');
    expect(exit.code).toBe(1);
    expect(get.events).toContainEqual(
      expect.objectContaining({
        event: 'peer',
        action: 'rejected',
        address: `127.0.0.1:${port}`,
        reason: 'connection refused',
      }),
    );
    expect(get.events.at(-1)).toMatchObject({ event: 'error', code: 'TIMEOUT', exitCode: 1 });
    expect(get.stderr.trim().split('\n')).toEqual([
      'peerkit-share: error: gave up after 2 s (--timeout): 0/0 pieces verified, 0 peer(s) connected',
    ]);
  }, 60_000);

  it('--on-complete runs once done; --seed-ratio stops seeding once uploaded enough', async () => {
    const dir = await harness.tempDir();
    const hash = await randomFile(join(dir, 'data.bin'), 300_000);
    const torrent = join(dir, 'data.torrent');
    expect(
      (await harness.spawn(['create', join(dir, 'data.bin'), '-o', torrent]).exited).code,
    ).toBe(0);
    const seeder = harness.spawn([
      'share',
      join(dir, 'data.bin'),
      '--torrent',
      torrent,
      '--state-dir',
      join(dir, 'a'),
      ...local,
    ]);
    const seederPort = (await seeder.waitForEvent('listening', 20_000)).port;
    const hookOut = join(dir, 'hook.txt');
    const middle = harness.spawn([
      'get',
      torrent,
      '--peer',
      `127.0.0.1:${seederPort}`,
      '--out',
      join(dir, 'b'),
      '--state-dir',
      join(dir, 'b-state'),
      '--seed-ratio',
      '1',
      '--on-complete',
      `printf '%s|%s|%s' "$PEERKIT_NAME" "$PEERKIT_INFO_HASH" "$PEERKIT_PATH" > '${hookOut}'`,
      ...local,
    ]);
    const done = await middle.waitForEvent('done', 30_000);
    const hook = await middle.waitForEvent('hook', 30_000);
    expect(hook).toMatchObject({ exitCode: 0 });
    const infoHash = String((await middle.waitForEvent('torrent', 1_000)).infoHash);
    expect(await readFile(hookOut, 'utf8')).toBe(`data.bin|${infoHash}|${String(done.path)}`);
    expect(await sha256File(join(dir, 'b', 'data.bin'))).toBe(hash);
    // Still seeding: it has uploaded nothing yet. The first seeder leaves, so that the last
    // getter's bytes can only come from the middle one.
    expect(middle.running).toBe(true);
    await seeder.stop('SIGINT');
    const middlePort = (await middle.waitForEvent('listening', 1_000)).port;
    const last = harness.spawn([
      'get',
      torrent,
      '--peer',
      `127.0.0.1:${middlePort}`,
      '--out',
      join(dir, 'c'),
      '--state-dir',
      join(dir, 'c-state'),
      '--exit-when-done',
      ...local,
    ]);
    expect((await withTimeout(last.exited, 30_000, 'the last getter')).code, last.stderr).toBe(0);
    // Uploaded one whole copy: ratio 1 reached, the middle node stops by itself.
    expect((await withTimeout(middle.exited, 30_000, 'ratio 1 to end seeding')).code).toBe(0);
    expect(Number(middle.events.at(-1)?.uploaded)).toBeGreaterThanOrEqual(300_000);
    expect(middle.events.at(-1)?.event).toBe('stopped');
  }, 120_000);

  it('--seed-time stops seeding after that many minutes', async () => {
    const dir = await harness.tempDir();
    await randomFile(join(dir, 'x.bin'), 50_000);
    const share = harness.spawn([
      'share',
      join(dir, 'x.bin'),
      '--seed-time',
      '0.02',
      '--state-dir',
      dir,
      ...local,
    ]);
    expect((await withTimeout(share.exited, 30_000, '--seed-time to end seeding')).code).toBe(0);
    expect(share.events.map((e) => e.event)).toEqual(
      expect.arrayContaining(['listening', 'done', 'stopping', 'stopped']),
    );
  }, 60_000);
});
