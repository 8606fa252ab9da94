import { nodeNetwork } from '@peerkit/transport';
import { parseTorrent, requireV1 } from '../src/metainfo/parse';
import { memoryFileSystem } from '../src/storage/file-system';
import { describePeerWireCompliance } from '../src/testing';
import { Torrent } from '../src/torrent';
import { makeTorrent, plant } from './fixtures';

// Two files in 32 KiB pieces, the last piece short: blocks cross file boundaries.
describePeerWireCompliance(
  'peerkit seeder on loopback',
  async () => {
    const fixture = makeTorrent('compliance', [70_000, 90_000], 32_768, 21);
    const fs = memoryFileSystem();
    plant(fs, '/seed', fixture);
    const network = nodeNetwork();
    const torrent = await Torrent.open({
      network,
      directory: '/seed',
      info: fixture.info,
      fs,
      recheck: true,
      listen: { host: '127.0.0.1' },
    });
    const address = torrent.listenAddress;
    if (address === undefined) throw new Error('the seeder does not listen');
    return {
      seeder: { address, network, torrent: requireV1(parseTorrent(fixture.torrentFile())) },
      teardown: () => torrent.close(),
    };
  },
  { runs: 8, timeoutMs: 3_000 },
);
