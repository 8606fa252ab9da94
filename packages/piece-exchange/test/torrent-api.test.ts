/**
 * What the session tells its user (loopback TCP): who each peer is (peer id, listen address),
 * which peers sent each piece, connections refused in the handshake, a content-is-complete
 * start for a creator, the redial backoff and the exact bytes left.
 */
import { formatAddress, nodeNetwork } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { memoryFileSystem } from '../src/storage/file-system';
import { REDIAL_MAX_MS, redialDelay } from '../src/swarm-policy';
import { Torrent } from '../src/torrent';
import type { PeerEvent } from '../src/torrent-events';
import type { PieceContributor } from '../src/torrent-stats';
import { makeTorrent, openSeeder, plant } from './fixtures';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

describe('Torrent API: peers, contributors, rejections, assumeComplete, left', () => {
  it('assumeComplete seeds without hashing; pieces name their senders; stats name peers; left is exact', async () => {
    // 3 pieces of 32 KiB and a short last one of 1,000 bytes.
    const fixture = makeTorrent('api.bin', [3 * 32_768 + 1_000], 32_768, 21);
    const seeder = await openSeeder(fixture, { resume: false, assumeComplete: true });
    expect(seeder.done).toBe(true);
    expect(seeder.stats().left).toBe(0);
    const leecher = await Torrent.open({
      network: nodeNetwork(),
      directory: '/leech',
      info: fixture.info,
      fs: memoryFileSystem(),
      resume: false,
      listen: { host: '127.0.0.1' },
      peers: [seeder.listenAddress!],
    });
    const pieces: { index: number; contributors: readonly PieceContributor[]; left: number }[] = [];
    leecher.on('piece', ({ index, contributors }) =>
      pieces.push({ index, contributors, left: leecher.stats().left ?? -1 }),
    );
    try {
      expect(leecher.stats().left).toBe(fixture.data.length);
      await leecher.whenDone();
      expect(leecher.stats().left).toBe(0);
      expect(pieces.map((p) => p.index).sort()).toEqual([0, 1, 2, 3]);
      const seederAddress = formatAddress(seeder.listenAddress!);
      let got = 0;
      for (const p of pieces) {
        // Bytes left drop by each piece's exact size (the last one is short).
        got += p.index === 3 ? 1_000 : 32_768;
        expect(p.left).toBe(fixture.data.length - got);
        expect(p.contributors).toHaveLength(1);
        const c = p.contributors[0]!;
        expect(c.peerId).toBe(hex(seeder.peerId));
        expect(c.listenAddress).toBe(seederAddress);
        expect(c.address).toBe(seederAddress);
        expect(c.blocks).toBe(p.index === 3 ? 1 : 2);
      }
      // The seeder sees an incoming connection from an ephemeral port; the extension
      // handshake's `p` names where the leecher listens.
      await until(() => seeder.stats().peers[0]?.listenAddress !== undefined, 'the `p` port');
      const seen = seeder.stats().peers[0]!;
      expect(seen.outgoing).toBe(false);
      expect(seen.peerId).toBe(hex(leecher.peerId));
      expect(seen.listenAddress).toBe(formatAddress(leecher.listenAddress!));
      expect(seen.address).not.toBe(seen.listenAddress);
      const dialed = leecher.stats().peers[0];
      if (dialed !== undefined) expect(dialed.listenAddress).toBe(seederAddress);
    } finally {
      await leecher.close();
      await seeder.close();
    }
  });

  it('assumeComplete still counts only pieces whose files are on disk', async () => {
    const fixture = makeTorrent('partial', [40_000, 40_000], 16_384, 22);
    const fs = memoryFileSystem();
    const [first] = [...fixture.files];
    fs.put(`/seed/${first![0]}`, first![1]);
    const torrent = await Torrent.open({
      network: nodeNetwork(),
      directory: '/seed',
      info: fixture.info,
      fs,
      resume: false,
      assumeComplete: true,
    });
    try {
      // Pieces 0 and 1 lie in the first file; piece 2 spans both files.
      expect(torrent.done).toBe(false);
      expect(torrent.stats().verifiedPieces).toBe(2);
      expect(torrent.stats().left).toBe(80_000 - 2 * 16_384);
    } finally {
      await torrent.close();
    }
  });

  it('connections refused in the handshake are `rejected`, never `disconnect`', async () => {
    const fixture = makeTorrent('self.bin', [50_000], 16_384, 23);
    const fs = memoryFileSystem();
    plant(fs, '/seed', fixture);
    const network = nodeNetwork();
    const torrent = await Torrent.open({
      network,
      directory: '/seed',
      info: fixture.info,
      fs,
      resume: false,
      recheck: true,
      listen: { host: '127.0.0.1' },
      // Plain BitTorrent only: an encrypted opening is refused in the BitTorrent handshake
      // (under `prefer`, the default, it would be taken as an MSE/PE handshake).
      encryption: 'plain',
    });
    const events: PeerEvent[] = [];
    torrent.on('peer', (e) => events.push(e));
    try {
      // Dialing ourselves: the accepting end sees our own peer id and closes; the dialing end
      // sees the connection end before any handshake came back.
      torrent.addPeer(torrent.listenAddress!);
      await until(() => events.filter((e) => e.type === 'rejected').length >= 2, 'self');
      // Not plain BitTorrent (an MSE/PE-encrypted opening starts with a random key).
      const stream = await network.dial(torrent.listenAddress!);
      await stream.write(new Uint8Array(96).fill(0xab));
      const codeOf = (e: PeerEvent) => (e.error as { code?: string } | undefined)?.code;
      const isMse = (e: PeerEvent) =>
        e.type === 'rejected' && e.reason === 'handshake' && codeOf(e) === 'INVALID_HANDSHAKE';
      await until(() => events.some(isMse), 'the MSE attempt');
      stream.destroy();
      expect(events.some((e) => e.type === 'connect' || e.type === 'disconnect')).toBe(false);
      const reasons = events.map((e) => (e.type === 'rejected' ? e.reason : e.type));
      expect(reasons.slice(0, 2).sort()).toEqual(['handshake', 'self']);
      expect(events.filter(isMse)).toHaveLength(1);
    } finally {
      await torrent.close();
    }
  });

  it('redials back off exponentially from 1 s, capped', () => {
    expect([1, 2, 3, 4, 5].map(redialDelay)).toEqual([1000, 2000, 4000, 8000, 16_000]);
    expect(redialDelay(6)).toBe(REDIAL_MAX_MS);
    expect(redialDelay(40)).toBe(REDIAL_MAX_MS);
  });
});
