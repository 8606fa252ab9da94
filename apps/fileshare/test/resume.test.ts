/**
 * An interrupted download resumes without re-fetching verified pieces. The seeder's upload is
 * limited so that the getter can be stopped half-way; the getter is restarted with the same
 * arguments (same state directory) and must download only what it had not verified.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliProcess } from '../src/cli-process';
import { Harness, randomFile, sha256File } from './helpers';

const harness = new Harness();
afterEach(() => harness.cleanup());

const SIZE = 3 * 1024 * 1024 + 12_345;
const PIECE = 16_384;

async function startSeeder(
  dir: string,
): Promise<{ seeder: CliProcess; peer: string; magnet: string; hash: string }> {
  const hash = await randomFile(join(dir, 'movie.bin'), SIZE);
  const seeder = harness.spawn([
    'share',
    join(dir, 'movie.bin'),
    '--piece-length',
    '16k',
    '--max-upload-rate',
    '1M',
    '--host',
    '127.0.0.1',
    '--no-dht',
    '--state-dir',
    join(dir, 'seed-state'),
    '--json',
  ]);
  const listening = await seeder.waitForEvent('listening', 20_000);
  const torrent = await seeder.waitForEvent('torrent', 20_000);
  return { seeder, peer: `127.0.0.1:${listening.port}`, magnet: String(torrent.magnet), hash };
}

function getArgs(dir: string, magnet: string, peer: string): string[] {
  return [
    'get',
    magnet,
    '--peer',
    peer,
    '--no-dht',
    '--out',
    join(dir, 'out'),
    '--state-dir',
    join(dir, 'get-state'),
    '--host',
    '127.0.0.1',
    '--json',
  ];
}

const pieceCount = Math.ceil(SIZE / PIECE);
const lastPiece = SIZE - (pieceCount - 1) * PIECE;

describe('resume after an interrupted download', () => {
  it('Ctrl-C (SIGINT) half-way, then the same command again: only the missing pieces are fetched', async () => {
    const dir = await harness.tempDir();
    const { peer, magnet, hash } = await startSeeder(dir);

    const first = harness.spawn(getArgs(dir, magnet, peer));
    await first.waitFor(
      (e) => e.event === 'piece' && Number(e.verified) >= pieceCount / 4,
      30_000,
      'a quarter of the pieces',
    );
    const exit = await first.stop('SIGINT');
    expect(exit.code, first.stderr).toBe(0);
    expect(first.events.some((e) => e.event === 'done')).toBe(false);
    const stopped = first.events.find((e) => e.event === 'stopped')!;
    const verified = Number(stopped.verified);
    expect(verified).toBeGreaterThanOrEqual(pieceCount / 4);
    expect(verified).toBeLessThan(pieceCount);

    const second = harness.spawn([...getArgs(dir, magnet, peer), '--exit-when-done']);
    expect((await second.exited).code, second.stderr).toBe(0);
    // Metadata comes from the state directory this time, and the verified pieces from resume data.
    expect(second.events.find((e) => e.event === 'metadata')).toMatchObject({ fetched: false });
    expect(second.events.find((e) => e.event === 'resumed')).toMatchObject({
      verified,
      pieces: pieceCount,
    });
    const done = second.events.find((e) => e.event === 'done')!;
    expect(done.resumed).toBe(verified);
    // Exactly the pieces that were missing were downloaded (the short last piece may be either).
    const downloaded = Number(done.downloaded);
    expect(second.events.filter((e) => e.event === 'piece')).toHaveLength(pieceCount - verified);
    expect([SIZE - verified * PIECE, SIZE - (verified - 1) * PIECE - lastPiece]).toContain(
      downloaded,
    );
    expect(await sha256File(join(dir, 'out', 'movie.bin'))).toBe(hash);
  });

  it('killed (SIGKILL) half-way, restarted with --recheck: pieces already on disk are not fetched again', async () => {
    const dir = await harness.tempDir();
    const { peer, magnet, hash } = await startSeeder(dir);

    const first = harness.spawn(getArgs(dir, magnet, peer));
    await first.waitFor(
      (e) => e.event === 'piece' && Number(e.verified) >= pieceCount / 4,
      30_000,
      'a quarter of the pieces',
    );
    await first.stop('SIGKILL');
    const before = Math.max(
      ...first.events.filter((e) => e.event === 'piece').map((e) => Number(e.verified)),
    );

    const second = harness.spawn([...getArgs(dir, magnet, peer), '--exit-when-done', '--recheck']);
    expect((await second.exited).code, second.stderr).toBe(0);
    const resumed = Number(second.events.find((e) => e.event === 'resumed')?.verified);
    // Every piece reported verified before the kill was written to the file before it was reported.
    expect(resumed).toBeGreaterThanOrEqual(before);
    const done = second.events.find((e) => e.event === 'done')!;
    expect([SIZE - resumed * PIECE, SIZE - (resumed - 1) * PIECE - lastPiece]).toContain(
      Number(done.downloaded),
    );
    expect(second.events.filter((e) => e.event === 'piece')).toHaveLength(pieceCount - resumed);
    expect(await sha256File(join(dir, 'out', 'movie.bin'))).toBe(hash);
  });
});
