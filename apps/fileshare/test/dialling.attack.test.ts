/**
 * Attack / fault: dialling and redialling between real `peerkit-share` processes on loopback
 * (docs/security.md, "Dialling and redialling").
 *
 * - A `--peer` that was down for more than about 31 s was forgotten for good (it was dropped
 *   after `MAX_DIAL_FAILURES` failed dials at 1, 2, 4, 8, 16 s). Addresses the user gave are now
 *   retried for the whole session, at most every `REDIAL_MAX_MS`: the test waits for that many
 *   failures before the peer comes up (about a minute of real time; no fake clock here).
 * - Two seeds of the same torrent, each given the other, used to redial each other every second.
 *   Now two seeds wait `SEED_REDIAL_MS` (10 min) before dialling each other again.
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_DIAL_FAILURES, REDIAL_MAX_MS, SEED_REDIAL_MS } from '@peerkit/piece-exchange';
import { afterEach, describe, expect, it } from 'vitest';
import { diagnose, getter, reservePort, seederProcess, sharedFile, until } from './attack-kit';
import { Harness, sha256 } from './helpers';

const harness = new Harness();
afterEach(() => harness.cleanup());

describe('attack: dialling and redialling between peerkit-share processes', () => {
  it('a --peer that is down past the old give-up point is still dialled when it comes up', async () => {
    const dir = await harness.tempDir();
    const shared = await sharedFile(harness, dir, {
      name: 'late.bin',
      size: 300_000,
      pieceLength: 16_384,
    });
    // Nothing listens there yet: every dial is refused.
    const port = await reservePort();
    const address = `127.0.0.1:${port}`;
    // The next dial after MAX_DIAL_FAILURES failures comes at most REDIAL_MAX_MS later.
    const get = getter(harness, dir, shared.torrentFile, [address], 100);
    const failures = () =>
      get.events.filter(
        (e) => e.event === 'peer' && e.action === 'rejected' && e.address === address,
      ).length;
    await until(() => failures() >= MAX_DIAL_FAILURES, 60_000, `${MAX_DIAL_FAILURES} failed dials`);
    // It used to be forgotten here. The peer comes up at that address.
    const seeder = seederProcess(harness, dir, shared.file, shared.torrentFile, [
      '--port',
      String(port),
    ]);
    await seeder.waitForEvent('listening', 20_000);
    const exit = await get.exited;
    expect(exit.code, diagnose(get)).toBe(0);
    expect(failures()).toBeGreaterThanOrEqual(MAX_DIAL_FAILURES);
    expect(
      get.events.some((e) => e.event === 'peer' && e.action === 'connect' && e.address === address),
    ).toBe(true);
    expect(sha256(await readFile(join(dir, 'out', 'late.bin')))).toBe(shared.sha256);
    expect(REDIAL_MAX_MS).toBeLessThanOrEqual(30_000); // what keeps this test near a minute
  }, 120_000);

  it('two seeds of the same torrent, each given the other, do not redial each other', async () => {
    const dir = await harness.tempDir();
    const shared = await sharedFile(harness, dir, {
      name: 'both.bin',
      size: 200_000,
      pieceLength: 16_384,
    });
    // A second complete copy elsewhere.
    await mkdir(join(dir, 'copy'), { recursive: true });
    const copy = join(dir, 'copy', 'both.bin');
    await copyFile(shared.file, copy);
    const [portA, portB] = [await reservePort(), await reservePort()];
    const a = seederProcess(harness, dir, shared.file, shared.torrentFile, [
      '--port',
      String(portA),
      '--peer',
      `127.0.0.1:${portB}`,
    ]);
    const b = seederProcess(harness, dir, copy, shared.torrentFile, [
      '--port',
      String(portB),
      '--peer',
      `127.0.0.1:${portA}`,
    ]);
    await Promise.all([a.waitForEvent('listening', 20_000), b.waitForEvent('listening', 20_000)]);
    // Connections between them, as each end reports them: opened, or refused in the handshake.
    const connections = () =>
      [a, b].flatMap((p) =>
        p.events.filter(
          (e) => e.event === 'peer' && (e.action === 'connect' || e.action === 'rejected'),
        ),
      );
    const met = () => a.events.some((e) => e.event === 'peer' && e.action === 'connect');
    await until(met, 30_000, 'the two seeds to meet');
    const before = connections().length;
    // A window of 20 s, far shorter than SEED_REDIAL_MS: under the policy neither dials the
    // other again in it. Allowed: one more connection each way (both dialled at once at the
    // start; each end reports a connection once). The old loop made one every second (~40).
    const windowMs = 20_000;
    expect(windowMs).toBeLessThan(SEED_REDIAL_MS);
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const during = connections().length - before;
    expect(during).toBeLessThanOrEqual(4);
    expect(a.running && b.running).toBe(true);
    // Both are complete seeds (the case the policy is for), and neither is downloading.
    for (const p of [a, b]) {
      const status = p.events.filter((e) => e.event === 'status').pop();
      expect(status).toMatchObject({ verified: shared.info.pieceHashes.length / 20, left: 0 });
    }
  }, 90_000);
});
