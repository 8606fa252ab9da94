/**
 * Attack: a ban on a shared address. On 127.0.0.1 a corrupt peer (it claims every piece and
 * answers each request with garbage) and an honest `peerkit-share share` on another port serve a
 * real `peerkit-share get`. The corrupt peer used to get the whole address banned, the honest
 * seeder disconnected for good and the download stuck. Now only that peer (address and peer id)
 * is banned (docs/security.md): the honest seeder stays connected and the download completes.
 *
 * The corrupt peer sits behind a `Gate` (on 127.0.0.1 too) opened once the honest seeder is
 * connected, and the honest seeder uploads at 128 KiB/s, so the honest connection is open when
 * the corrupt peer fails its three pieces and is banned.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Bitfield, encodeBitfield, encodePiece, UNCHOKE } from '@peerkit/piece-exchange';
import { afterEach, describe, expect, it } from 'vitest';
import { diagnose, Gate, getter, honestSeeder, RawPeer, until } from './attack-kit';
import { Harness, sha256 } from './helpers';

const harness = new Harness();
afterEach(() => harness.cleanup());

describe('attack: a corrupt peer sharing the honest seeder’s address', () => {
  it('gets itself banned, not the honest seeder on the same IP; the download completes', async () => {
    const dir = await harness.tempDir();
    const pieceLength = 16_384;
    const seeder = await honestSeeder(harness, dir, {
      name: 'shared.bin',
      size: 2 * 1024 * 1024,
      pieceLength,
      extra: ['--max-upload-rate', '128k'],
    });
    const pieceCount = seeder.info.pieceHashes.length / 20;
    let garbageBlocks = 0;
    const corrupt = await RawPeer.listen({
      infoHash: seeder.info.infoHash,
      peerId: Buffer.from('-XX0001-corrupt-peer'.slice(0, 20)),
      extensions: {},
      onHandshake(c) {
        c.send(encodeBitfield(Bitfield.full(pieceCount).toBytes()));
        c.send(UNCHOKE);
      },
      onMessage(c, frame) {
        if (frame.type !== 'request') return;
        garbageBlocks++;
        c.send(encodePiece(frame.index, frame.begin, new Uint8Array(frame.length).fill(0x5a)));
      },
    });
    const gate = await Gate.listen(corrupt.port);
    const corruptAddress = gate.address;
    try {
      // Both on 127.0.0.1.
      const get = getter(harness, dir, seeder.torrentFile, [corruptAddress, seeder.address], 80);
      await until(
        () => get.events.some((e) => e.event === 'peer' && e.address === seeder.address),
        30_000,
        'the honest seeder to connect',
      );
      gate.open();
      const exit = await get.exited;
      expect(exit.code, diagnose(get)).toBe(0);
      expect(sha256(await readFile(join(dir, 'out', 'shared.bin')))).toBe(seeder.sha256);

      const events = get.events;
      const done = events.findIndex((e) => e.event === 'done');
      // The corrupt peer sent garbage, failed pieces and was cut off as banned.
      expect(garbageBlocks).toBeGreaterThanOrEqual(3);
      // (hash failures name hosts: both are 127.0.0.1)
      const failures = events.filter(
        (e) => e.event === 'hash-failure' && (e.peers as string[]).includes('127.0.0.1'),
      );
      expect(failures.length).toBeGreaterThanOrEqual(3);
      const banned = events.findIndex(
        (e) =>
          e.event === 'peer' &&
          e.action === 'disconnect' &&
          e.address === corruptAddress &&
          /banned|corrupt/.test(String(e.reason)),
      );
      expect(banned).toBeGreaterThanOrEqual(0);
      expect(banned).toBeLessThan(done);
      // The honest seeder at the same IP: connected before the ban, never dropped or refused
      // before the end, and it sent pieces after the ban.
      const honestConnect = events.findIndex(
        (e) => e.event === 'peer' && e.address === seeder.address,
      );
      expect(events[honestConnect]).toMatchObject({ action: 'connect' });
      expect(honestConnect).toBeLessThan(banned);
      const honestDropped = events.findIndex(
        (e) => e.event === 'peer' && e.address === seeder.address && e.action !== 'connect',
      );
      // (once complete, the getter is a seed and closes the connection between two seeds)
      const lastPiece = events.map((e) => e.event).lastIndexOf('piece');
      expect(honestDropped === -1 || honestDropped > lastPiece).toBe(true);
      expect(events.filter((e) => e.address === seeder.address && e.reason !== undefined)).toEqual(
        [],
      );
      const afterBan = events
        .slice(banned)
        .filter((e) => e.event === 'piece' && (e.from as string[]).includes(seeder.address));
      expect(afterBan.length).toBeGreaterThan(0);
    } finally {
      await gate.close();
      await corrupt.close();
    }
  }, 90_000);
});
