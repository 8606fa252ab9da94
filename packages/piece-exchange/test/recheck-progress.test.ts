/**
 * `onRecheck`: a re-check reports each piece as it goes (an app shows hashing progress with it),
 * and a throw from it stops the re-check there (Ctrl-C): `open` rejects with that error.
 */
import { nodeNetwork } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { memoryFileSystem } from '../src/storage/file-system';
import { Torrent } from '../src/torrent';
import { makeTorrent, plant } from './fixtures';

describe('Torrent.open re-check progress', () => {
  it('calls onRecheck once per piece, in order, with whether it verified', async () => {
    const fixture = makeTorrent('progress.bin', [5 * 16_384 + 100], 16_384, 31);
    const fs = memoryFileSystem();
    plant(fs, '/data', fixture);
    const seen: [number, boolean][] = [];
    const torrent = await Torrent.open({
      network: nodeNetwork(),
      directory: '/data',
      info: fixture.info,
      fs,
      resume: false,
      recheck: true,
      onRecheck: (piece, ok) => seen.push([piece, ok]),
    });
    try {
      expect(seen).toEqual([0, 1, 2, 3, 4, 5].map((i) => [i, true]));
      expect(torrent.done).toBe(true);
    } finally {
      await torrent.close();
    }
  });

  it('a throw from onRecheck stops the re-check and open rejects with it', async () => {
    const fixture = makeTorrent('stop.bin', [8 * 16_384], 16_384, 32);
    const fs = memoryFileSystem();
    plant(fs, '/data', fixture);
    const stop = new Error('stopped by the user');
    const seen: number[] = [];
    await expect(
      Torrent.open({
        network: nodeNetwork(),
        directory: '/data',
        info: fixture.info,
        fs,
        resume: false,
        recheck: true,
        onRecheck: (piece) => {
          seen.push(piece);
          if (piece === 2) throw stop;
        },
      }),
    ).rejects.toBe(stop);
    expect(seen).toEqual([0, 1, 2]);
  });
});
