import { nodeNetwork } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { type FileSystem, memoryFileSystem } from '../src/storage/file-system';
import { StorageError } from '../src/storage/storage-error';
import { Torrent } from '../src/torrent';
import { makeTorrent, openSeeder, plant } from './fixtures';

describe('Torrent over loopback TCP', () => {
  it('a leecher downloads a multi-file torrent from a seeder and verifies it', async () => {
    const fixture = makeTorrent('multi', [100_000, 5, 300_000], 32_768, 3);
    const seeder = await openSeeder(fixture, { recheck: true });
    expect(seeder.done).toBe(true);
    const leechFs = memoryFileSystem();
    const leecher = await Torrent.open({
      network: nodeNetwork(),
      directory: '/leech',
      info: fixture.info,
      fs: leechFs,
      peers: [seeder.listenAddress!],
    });
    try {
      await leecher.whenDone();
      const stats = leecher.stats();
      expect(stats.verifiedPieces).toBe(stats.pieceCount);
      await leecher.close();
      for (const [path, bytes] of fixture.files) {
        expect(Buffer.from(leechFs.snapshot(`/leech/${path}`)!).equals(Buffer.from(bytes))).toBe(
          true,
        );
      }
    } finally {
      await leecher.close();
      await seeder.close();
    }
  });

  it('a magnet leecher fetches the info dictionary (BEP 9) then the content', async () => {
    const fixture = makeTorrent('single.bin', [200_000], 16_384, 5);
    const seeder = await openSeeder(fixture, { recheck: true });
    const leechFs = memoryFileSystem();
    const leecher = await Torrent.open({
      network: nodeNetwork(),
      directory: '/leech',
      magnet: `magnet:?xt=urn:btih:${Buffer.from(fixture.info.infoHash).toString('hex')}&x.pe=127.0.0.1:${seeder.listenAddress!.port}`,
      fs: leechFs,
    });
    try {
      await leecher.whenDone();
      expect(leecher.info?.name).toBe('single.bin');
      await leecher.close();
      expect(
        Buffer.from(leechFs.snapshot('/leech/single.bin')!).equals(Buffer.from(fixture.data)),
      ).toBe(true);
    } finally {
      await leecher.close();
      await seeder.close();
    }
  });

  it('pause stops the transfer, resume finishes it; stats report availability', async () => {
    const fixture = makeTorrent('pause.bin', [600_000], 32_768, 8);
    const seeder = await openSeeder(fixture, { recheck: true });
    const leecher = await Torrent.open({
      network: nodeNetwork(),
      directory: '/leech',
      info: fixture.info,
      fs: memoryFileSystem(),
      peers: [seeder.listenAddress!],
    });
    try {
      leecher.pause();
      for (let i = 0; i < 100 && leecher.stats().peers.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 200));
      const paused = leecher.stats();
      expect(paused.paused).toBe(true);
      expect(paused.verifiedPieces).toBe(0);
      expect(paused.peers).toHaveLength(1);
      expect(paused.peers[0]!.amInterested).toBe(false);
      expect([...paused.availability]).toEqual(Array(paused.pieceCount).fill(1));
      leecher.resume();
      await leecher.whenDone();
      expect(leecher.stats().downloaded).toBe(fixture.data.length);
    } finally {
      await leecher.close();
      await seeder.close();
    }
  });

  it('damaged resume data makes a session re-check its files', async () => {
    const fixture = makeTorrent('recheck.bin', [100_000], 16_384, 9);
    const fs = memoryFileSystem();
    plant(fs, '/seed', fixture);
    const hex = Buffer.from(fixture.info.infoHash).toString('hex');
    fs.put(`/seed/.peerkit/${hex}.resume`, new Uint8Array([1, 2, 3]));
    const torrent = await Torrent.open({
      network: nodeNetwork(),
      directory: '/seed',
      info: fixture.info,
      fs,
    });
    expect(torrent.done).toBe(true);
    expect(torrent.stats().resumedPieces).toBe(torrent.stats().pieceCount);
    await torrent.close();
    // close() saved valid resume data: the next start trusts it.
    const again = await Torrent.open({
      network: nodeNetwork(),
      directory: '/seed',
      info: fixture.info,
      fs,
    });
    expect(again.done).toBe(true);
    await again.close();
  });

  it('works over IPv6 loopback', async () => {
    const fixture = makeTorrent('v6.bin', [150_000], 16_384, 10);
    const seeder = await openSeeder(fixture, { recheck: true, listen: { host: '::1' } });
    const leecher = await Torrent.open({
      network: nodeNetwork(),
      directory: '/leech',
      info: fixture.info,
      fs: memoryFileSystem(),
      peers: [{ host: '::1', port: seeder.listenAddress!.port }],
    });
    try {
      await leecher.whenDone();
      expect(leecher.stats().downloaded).toBe(fixture.data.length);
    } finally {
      await leecher.close();
      await seeder.close();
    }
  });

  it('a storage failure pauses the session and is reported; resume() recovers', async () => {
    const fixture = makeTorrent('diskfull.bin', [100_000], 16_384, 12);
    const seeder = await openSeeder(fixture, { recheck: true });
    const base = memoryFileSystem();
    let diskFull = true;
    const full: FileSystem = {
      ...base,
      async open(path) {
        const file = await base.open(path);
        const fail = async () => {
          throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        };
        return {
          ...file,
          write: (data, position) => (diskFull ? fail() : file.write(data, position)),
          writev: (buffers, position) => (diskFull ? fail() : file.writev(buffers, position)),
        };
      },
    };
    const leecher = await Torrent.open({
      network: nodeNetwork(),
      directory: '/leech',
      info: fixture.info,
      fs: full,
      resume: false,
      peers: [seeder.listenAddress!],
    });
    try {
      const error = await new Promise<Error>((resolve) => leecher.on('error', resolve));
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).code).toBe('IO_ERROR');
      expect(leecher.paused).toBe(true);
      expect(leecher.lastError).toBeInstanceOf(StorageError);
      expect(leecher.stats().verifiedPieces).toBe(0);
      // Space freed: resume() fetches the pieces whose writes failed and finishes.
      diskFull = false;
      leecher.resume();
      await leecher.whenDone();
      await leecher.close();
      expect(
        Buffer.from(base.snapshot('/leech/diskfull.bin')!).equals(Buffer.from(fixture.data)),
      ).toBe(true);
    } finally {
      await leecher.close();
      await seeder.close();
    }
  });
});
