/**
 * Interop with Transmission (transmission-cli 3.00) on loopback. Transmission does not dial
 * loopback peers by itself, so in both directions the peerkit node dials it (`--peer`).
 * Transmission rechokes every 10 s, so each transfer takes some seconds even for a small file.
 *
 * Runs under `pnpm test:interop`; with INTEROP_REQUIRED=1 a missing transmission-cli fails.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, haveClient, type Proc, startProcess, waitFor } from '@peerkit/dev-kit/interop';
import { afterEach, describe, expect, it } from 'vitest';
import { getFromLoopbackPeer, Harness, randomFile, sha256File, withTimeout } from './helpers';

const available = haveClient('transmission-cli');

const harness = new Harness();
const procs: Proc[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop()));
  await harness.cleanup();
});

/** transmission-cli with its own config directory: no DHT, LPD, PEX, port mapping or uTP. */
async function transmission(
  dir: string,
  port: number,
  downloadDir: string,
  torrent: string,
): Promise<Proc> {
  const config = join(dir, 'transmission-config');
  await mkdir(config, { recursive: true });
  await writeFile(
    join(config, 'settings.json'),
    JSON.stringify({
      'dht-enabled': false,
      'lpd-enabled': false,
      'pex-enabled': false,
      'port-forwarding-enabled': false,
      'utp-enabled': false,
      encryption: 0,
      'rpc-enabled': false,
    }),
  );
  const proc = startProcess(
    'transmission-cli',
    ['-g', config, '-p', String(port), '-w', downloadDir, torrent],
    join(dir, 'transmission.log'),
  );
  procs.push(proc);
  return proc;
}

/** Resolves once `path` exists with the expected SHA-256 (polls for `timeoutMs`). */
function fileArrives(path: string, hash: string, timeoutMs: number): Promise<void> {
  const arrived = async () => existsSync(path) && (await sha256File(path)) === hash;
  return waitFor(arrived, timeoutMs, `${path} to arrive`);
}

describe.skipIf(!available)('Transmission interop', () => {
  it('Transmission downloads from peerkit-share share', async () => {
    const dir = await harness.tempDir();
    await mkdir(join(dir, 'seed'));
    await mkdir(join(dir, 'transmission'));
    const hash = await randomFile(join(dir, 'seed', 'shared.bin'), 1_000_000);
    const torrent = join(dir, 'shared.torrent');
    const created = harness.spawn(['create', join(dir, 'seed', 'shared.bin'), '-o', torrent]);
    expect((await created.exited).code, created.stderr).toBe(0);

    const port = await freePort();
    await transmission(dir, port, join(dir, 'transmission'), torrent);
    const seeder = harness.spawn([
      'share',
      join(dir, 'seed', 'shared.bin'),
      '--torrent',
      torrent,
      '--peer',
      `127.0.0.1:${port}`,
      '--host',
      '127.0.0.1',
      '--no-dht',
      '--state-dir',
      join(dir, 'state'),
      '--json',
    ]);
    await fileArrives(join(dir, 'transmission', 'shared.bin'), hash, 60_000);
    expect((await seeder.stop('SIGINT')).code).toBe(0);
    const stopped = seeder.events.find((e) => e.event === 'stopped')!;
    expect(Number(stopped.uploaded)).toBeGreaterThanOrEqual(1_000_000);
  });

  it('peerkit-share get --peer downloads from Transmission seeding', async () => {
    const dir = await harness.tempDir();
    await mkdir(join(dir, 'seed'));
    const hash = await randomFile(join(dir, 'seed', 'seeded.bin'), 1_200_000);
    const torrent = join(dir, 'seeded.torrent');
    const created = harness.spawn(['create', join(dir, 'seed', 'seeded.bin'), '-o', torrent]);
    expect((await created.exited).code, created.stderr).toBe(0);

    const port = await freePort();
    const seeder = await transmission(dir, port, join(dir, 'seed'), torrent);
    const getter = getFromLoopbackPeer(
      harness,
      torrent,
      port,
      join(dir, 'out'),
      join(dir, 'state'),
    );
    const exit = await withTimeout(
      getter.exited,
      60_000,
      `peerkit get from Transmission\n${getter.stderr}`,
    );
    expect(exit.code, getter.stderr).toBe(0);
    expect(getter.events.find((e) => e.event === 'done')).toMatchObject({ downloaded: 1_200_000 });
    expect(await sha256File(join(dir, 'out', 'seeded.bin'))).toBe(hash);
    expect(seeder.running).toBe(true);
  });
});
