/**
 * BEP 52 transfer between peerkit peers in netsim (virtual time, replayable seed): v2-only and
 * hybrid torrents complete and verify; resume data keeps a v2 download's pieces; a hybrid
 * reached by its v2 info-hash; a hybrid whose v1 and v2 hashes disagree is one clear error, not
 * a ban loop; and a swarm of 10 leechers started from a v2 magnet, with a peer serving bad piece
 * layer hashes and bad blocks, completes and bans it.
 */

import { createHash } from 'node:crypto';
import { type BencodeDict, decode, encode } from '@peerkit/bencode';
import { seedFromEnv } from '@peerkit/netsim';
import { describe, expect, it } from 'vitest';
import { formatMagnet, magnetFromMetainfo } from '../src/magnet';
import { parseTorrent } from '../src/metainfo/parse';
import { memoryFileSystem } from '../src/storage/file-system';
import type { StorageError } from '../src/storage/storage-error';
import type { Torrent } from '../src/torrent';
import { type TorrentInfo, torrentInfoFromMetainfo } from '../src/torrent-info';
import { makeV2Torrent, openV2, PORT, plantV2, seedV2, verifiedV2, withSeed } from './v2-fixtures';

const v2Magnet = (info: TorrentInfo) =>
  formatMagnet({
    ...magnetFromMetainfo({
      infoHashV2: info.v2!.infoHash,
      name: info.name,
      announce: [],
      urlList: [],
    }),
    peers: [],
  });

describe('BEP 52 transfer in netsim', () => {
  for (const version of ['v2', 'hybrid'] as const) {
    it(`a ${version} torrent downloads, verifies, and resumes without re-fetching`, async () => {
      const seed = seedFromEnv(52);
      await withSeed(`${version}-transfer`, seed, async (sim) => {
        const fixture = await makeV2Torrent(
          'set',
          [70_001, 16_384, 0, 200_000],
          32_768,
          version,
          seed,
        );
        expect(fixture.metainfo.version).toBe(version);
        const seeder = await seedV2(sim.addHost(), fixture);
        expect(seeder.done).toBe(true);
        const host = sim.addHost();
        const fs = memoryFileSystem();
        const peers = [{ host: sim.hosts[0]!.address, port: PORT }];
        const leecher = await openV2(host, fs, { info: fixture.info, peers });
        await leecher.whenDone();
        expect(leecher.stats().hashFailures).toBe(0);
        await leecher.close();
        expect(verifiedV2(fs, fixture)).toBe(true);
        // The resume data is the v2 torrent's: named by its 20-byte handshake info-hash.
        const hex = Buffer.from(fixture.info.infoHash).toString('hex');
        expect(fs.snapshot(`/data/.peerkit/${hex}.resume`)).toBeDefined();
        const again = await openV2(host, fs, { info: fixture.info, peers });
        expect(again.done).toBe(true);
        expect(again.stats().resumedPieces).toBe(again.stats().pieceCount);
        expect(again.stats().downloaded).toBe(0);
        await again.close();
        await seeder.close();
      });
    });
  }

  it('a hybrid accepts peers that use its truncated v2 info-hash', async () => {
    const seed = seedFromEnv(53);
    await withSeed('hybrid-v2-hash', seed, async (sim) => {
      const fixture = await makeV2Torrent('h', [100_000, 50_000], 16_384, 'hybrid', seed);
      const seeder = await seedV2(sim.addHost(), fixture);
      const fs = memoryFileSystem();
      // A v2 client knows the torrent by its btmh magnet: it handshakes with the v2 hash.
      const leecher = await openV2(sim.addHost(), fs, {
        magnet: v2Magnet(fixture.info),
        peers: [{ host: sim.hosts[0]!.address, port: PORT }],
      });
      expect(Buffer.compare(leecher.infoHash, fixture.info.infoHash)).not.toBe(0);
      await leecher.whenDone();
      await leecher.close();
      expect(verifiedV2(fs, fixture)).toBe(true);
      await seeder.close();
    });
  });

  it('a hybrid whose v1 and v2 hashes disagree is one clear error, no ban', async () => {
    const seed = seedFromEnv(54);
    await withSeed('hybrid-conflict', seed, async (sim) => {
      const fixture = await makeV2Torrent('c', [64_000, 40_000], 16_384, 'hybrid', seed);
      // Same files, but `pieces` (v1) hashes other bytes than the v2 pieces roots do.
      const root = decode(fixture.torrent) as BencodeDict;
      const info = root.info as BencodeDict;
      const pieces = info.pieces as Uint8Array;
      const wrong = new Uint8Array(pieces.length);
      for (let i = 0; i < pieces.length; i += 20)
        wrong.set(createHash('sha1').update(`other ${i}`).digest(), i);
      const broken = torrentInfoFromMetainfo(
        parseTorrent(encode({ ...root, info: { ...info, pieces: wrong } })),
      );
      const seedFs = memoryFileSystem();
      plantV2(seedFs, '/data', fixture);
      const seeder = await openV2(sim.addHost(), seedFs, { info: broken, assumeComplete: true });
      const fs = memoryFileSystem();
      const leecher = await openV2(sim.addHost(), fs, {
        info: broken,
        peers: [{ host: sim.hosts[0]!.address, port: PORT }],
      });
      const errors: Error[] = [];
      const bans: string[] = [];
      leecher.on('ban', ({ host }) => bans.push(host));
      const failed = new Promise<void>((resolve) =>
        leecher.on('error', (e) => {
          errors.push(e);
          resolve();
        }),
      );
      await failed;
      await new Promise<void>((resolve) => sim.clock.setTimeout(resolve, 5000));
      expect(errors).toHaveLength(1);
      expect((errors[0] as StorageError).code).toBe('HASH_CONFLICT');
      expect(errors[0]!.message).toMatch(/v1 and v2 metadata disagree/);
      expect(errors[0]!.message).not.toContain('\n');
      expect(leecher.paused).toBe(true);
      expect(bans).toEqual([]);
      await leecher.close();
      await seeder.close();
    });
  });

  it('10 leechers from a v2 magnet complete; a peer serving bad hashes and blocks is banned', async () => {
    const seed = seedFromEnv(55);
    await withSeed('v2-swarm-liar', seed, async (sim) => {
      sim.setDefaultLink({ latency: 20, jitter: 10, bandwidth: 400_000 });
      const fixture = await makeV2Torrent('swarm', [300_000, 150_000, 9_000], 16_384, 'v2', seed);
      const honestHost = sim.addHost();
      const honest = await seedV2(honestHost, fixture);
      // The liar: garbage on disk taken on its word, and piece layers that fail their roots.
      const liarHost = sim.addHost();
      const liarFs = memoryFileSystem();
      for (const [path, bytes] of fixture.files)
        liarFs.put(
          `/data/${path}`,
          bytes.map((b) => b ^ 0x5a),
        );
      const lying = new Map(
        [...fixture.info.v2!.pieceLayers].map(([root, layer]) => {
          const bad = Uint8Array.from(layer);
          bad[0]! ^= 1;
          return [root, bad] as const;
        }),
      );
      const liarInfo = { ...fixture.info, v2: { ...fixture.info.v2!, pieceLayers: lying } };
      const liar = await openV2(liarHost, liarFs, { info: liarInfo, assumeComplete: true });
      expect(liar.done).toBe(true);
      // The honest seeder is slower: leechers meet the liar's answers first.
      const hosts = Array.from({ length: 10 }, () => sim.addHost());
      for (const h of hosts) sim.setLink(honestHost, h, { latency: 80, bandwidth: 150_000 });
      const disks = hosts.map(() => memoryFileSystem());
      const bans = new Map<number, string[]>();
      const torrents: Torrent[] = [];
      const layerLies: string[] = [];
      for (const [i, host] of hosts.entries()) {
        const peers = [
          { host: liarHost.address, port: PORT },
          { host: honestHost.address, port: PORT },
        ];
        for (let k = 1; k <= 2 && i - k >= 0; k++)
          peers.push({ host: hosts[i - k]!.address, port: PORT });
        const t = await openV2(host, disks[i]!, { magnet: v2Magnet(fixture.info), peers });
        bans.set(i, []);
        t.on('ban', ({ host: banned }) => bans.get(i)!.push(banned));
        t.on('peer', (e) => {
          if (e.type === 'disconnect' && e.error?.message.includes('piece layer hashes'))
            layerLies.push(e.address.host);
        });
        torrents.push(t);
      }
      await Promise.all(torrents.map((t) => t.whenDone()));
      for (const t of torrents) await t.close();
      for (const disk of disks) expect(verifiedV2(disk, fixture)).toBe(true);
      const allBans = [...bans.values()].flat();
      expect(allBans.length).toBeGreaterThan(0);
      expect(new Set(allBans)).toEqual(new Set([liarHost.address]));
      // Its piece layer answers were caught by their proofs (not only its blocks by the hashes).
      expect(layerLies.length).toBeGreaterThan(0);
      expect(new Set(layerLies)).toEqual(new Set([liarHost.address]));
      await liar.close();
      await honest.close();
    });
  });
});
