/**
 * Interop: the peer suite against aria2 1.36 seeding a v1 torrent on loopback. We dial it (we
 * are the client; aria2 accepts plaintext with --bt-require-crypto=false). The test asserts the
 * exact set of outcomes; what aria2 breaks is a finding (docs/conformance.md, "Other implementations"), not a failure of peerkit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TorrentOnDisk, torrentOnDisk } from './fixtures';
import { haveClient, type Seeder, startAria2Seeder } from './interop-helpers';
import { allPassedExcept, peerOutcomes } from './peer-interop';

describe.skipIf(!haveClient('aria2c'))('peer suite against aria2 1.36', () => {
  let fixture: TorrentOnDisk;
  let seeder: Seeder;
  beforeAll(async () => {
    fixture = await torrentOnDisk('conform-aria2.bin', 4 * 32_768 + 20_001, 32_768, 5);
    seeder = await startAria2Seeder(fixture.torrentPath, fixture.directory);
  }, 60_000);
  afterAll(async () => {
    await seeder?.stop();
    fixture?.remove();
  });

  it('gives the expected outcomes', async () => {
    const outcomes = await peerOutcomes(seeder, fixture, 3_000);
    // docs/conformance.md, "aria2: serves requests above 16 KiB".
    expect(outcomes).toEqual(allPassedExcept({ 'peer.request.oversized': 'failed' }));
  }, 600_000);
});
