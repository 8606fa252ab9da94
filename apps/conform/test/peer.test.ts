import { Torrent, torrentInfoFromMetainfo } from '@peerkit/piece-exchange';
import { nodeNetwork } from '@peerkit/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTable } from '../src/framework/report';
import { runPeerSuite } from '../src/suites';
import { type TorrentOnDisk, torrentOnDisk } from './fixtures';

const network = nodeNetwork();
let fixture: TorrentOnDisk;
let seeder: Torrent;

beforeAll(async () => {
  // 5 pieces of 32 KiB, the last one short: blocks cross no piece boundary, the last piece is odd.
  fixture = await torrentOnDisk('conform.bin', 4 * 32_768 + 20_001, 32_768);
  seeder = await Torrent.open({
    network,
    directory: fixture.directory,
    info: torrentInfoFromMetainfo(fixture.metainfo),
    recheck: true,
    resume: false,
    listen: { host: '127.0.0.1' },
  });
});

afterAll(async () => {
  await seeder.close();
  fixture.remove();
});

describe('peer suite against the peerkit seeder', () => {
  it('passes every rule', async () => {
    const report = await runPeerSuite(seeder.listenAddress!, fixture.metainfo, {
      runs: 20,
      seed: 42,
      timeoutMs: 3_000,
    });
    const table = formatTable(report);
    console.log(table);
    expect(report.ok, table).toBe(true);
  });
});
