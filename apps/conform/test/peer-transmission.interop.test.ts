/**
 * Interop: the peer suite against Transmission 3.00 seeding a v1 torrent on loopback (we dial
 * it; Transmission itself never dials 127.x). Transmission keeps one connection per IP (the suite
 * keeps at most one open) and answers ut_metadata requests on its ~1 s pulse, up to ~3 s late,
 * hence the 10 s timeout. The test asserts the exact set of outcomes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TorrentOnDisk, torrentOnDisk } from './fixtures';
import { haveClient, type Seeder, startTransmissionSeeder } from './interop-helpers';
import { allPassedExcept, peerOutcomes } from './peer-interop';

describe.skipIf(!haveClient('transmission-daemon'))('peer suite against Transmission 3.00', () => {
  let fixture: TorrentOnDisk;
  let seeder: Seeder;
  beforeAll(async () => {
    fixture = await torrentOnDisk('conform-tr.bin', 4 * 32_768 + 20_001, 32_768, 3);
    seeder = await startTransmissionSeeder(fixture.torrentPath, fixture.directory);
  }, 60_000);
  afterAll(async () => {
    await seeder?.stop();
    fixture?.remove();
  });

  it('gives the expected outcomes', async () => {
    const outcomes = await peerOutcomes(seeder, fixture, 10_000);
    expect(outcomes).toEqual(allPassedExcept({}));
  }, 600_000);
});
