import { nodeNetwork } from '@peerkit/transport';
import { memoryFileSystem } from '../src/storage/file-system';
import { describePeerWireCompliance } from '../src/testing';
import { Torrent } from '../src/torrent';
import { makeTorrent, plant } from './fixtures';

describePeerWireCompliance('peerkit seeder on loopback', async () => {
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
  return {
    seeder: {
      address: torrent.listenAddress!,
      network,
      infoHash: fixture.info.infoHash,
      pieceLength: fixture.info.pieceLength,
      totalLength: fixture.data.length,
      pieceHashes: fixture.info.pieceHashes,
    },
    teardown: () => torrent.close(),
  };
});
