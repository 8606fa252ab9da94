/**
 * peerkit's event convention on a real transfer (loopback TCP): one payload object per event,
 * and a handler that throws neither crashes the torrent nor stops the other handlers.
 */
import { nodeNetwork } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { memoryFileSystem } from '../src/storage/file-system';
import { Torrent } from '../src/torrent';
import type { PieceEvent, ProgressEvent } from '../src/torrent-events';
import { makeTorrent, openSeeder } from './fixtures';

describe('Torrent events', () => {
  it('a throwing handler neither crashes the torrent nor stops the other handlers', async () => {
    const fixture = makeTorrent('events.bin', [5 * 16_384 + 100], 16_384, 31);
    const seeder = await openSeeder(fixture, { resume: false, recheck: true });
    const leecher = await Torrent.open({
      network: nodeNetwork(),
      directory: '/leech',
      info: fixture.info,
      fs: memoryFileSystem(),
      resume: false,
      peers: [seeder.listenAddress!],
    });
    const reported: Array<{ event: string; error: unknown }> = [];
    leecher.setHandlerErrorReporter((error, event) => reported.push({ event, error }));
    const pieces: PieceEvent[] = [];
    const progress: ProgressEvent[] = [];
    const peers: string[] = [];
    const transports: Array<string | undefined> = [];
    try {
      // Throwing handlers registered first, on every event a transfer emits.
      for (const name of ['piece', 'progress', 'done', 'peer'] as const) {
        leecher.on(name, () => {
          throw new Error(`${name} handler failed`);
        });
      }
      leecher.on('piece', (e) => pieces.push(e));
      leecher.on('progress', (e) => progress.push(e));
      leecher.on('peer', (e) => peers.push(e.type));
      leecher.on('peer', (e) => {
        if (e.type === 'connect') transports.push(e.transport);
      });
      const done = new Promise((resolve) => leecher.once('done', resolve));
      await leecher.whenDone();
      expect(await done).toEqual({ pieces: 6 });
      expect(pieces.map((p) => p.index).sort()).toEqual([0, 1, 2, 3, 4, 5]);
      expect(progress.at(-1)).toEqual({ verified: 6, total: 6 });
      expect(peers).toContain('connect');
      // The connect event says what carries the connection (transport's `Stream.transport`).
      expect(transports).toEqual(['tcp']);
      expect(leecher.stats().verifiedPieces).toBe(6);
      const events = new Set(reported.map((r) => r.event));
      expect(events).toEqual(new Set(['piece', 'progress', 'done', 'peer']));
      expect(reported.every((r) => r.error instanceof Error)).toBe(true);
    } finally {
      await leecher.close();
      await seeder.close();
    }
  });
});
