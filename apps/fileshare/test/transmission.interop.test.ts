/**
 * Interop with Transmission (transmission-cli 3.00) on loopback. Transmission does not dial
 * loopback peers by itself, so in both directions the peerkit node dials it (`--peer`).
 * Transmission rechokes every 10 s, so each transfer takes some seconds even for a small file.
 *
 * Runs under `pnpm test:interop`; with INTEROP_REQUIRED=1 a missing transmission-cli fails.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, Harness, randomFile, sha256File, withTimeout } from './helpers';

function hasTransmission(): boolean {
  try {
    execFileSync('transmission-cli', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const available = hasTransmission();
if (!available && process.env.INTEROP_REQUIRED === '1') {
  throw new Error(
    'INTEROP_REQUIRED=1 but transmission-cli is not installed (apt-get install transmission-cli)',
  );
}

const harness = new Harness();
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
  await harness.cleanup();
});

/** transmission-cli with its own config directory: no DHT, LPD, PEX, port mapping or uTP. */
async function transmission(
  dir: string,
  port: number,
  downloadDir: string,
  torrent: string,
): Promise<ChildProcess> {
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
  const child = spawn(
    'transmission-cli',
    ['-g', config, '-p', String(port), '-w', downloadDir, torrent],
    {
      stdio: 'ignore',
    },
  );
  children.push(child);
  return child;
}

/** Resolves once `path` exists with the expected SHA-256 (polling, bounded by the caller). */
async function fileArrives(path: string, hash: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (existsSync(path) && (await sha256File(path)) === hash) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${path} never arrived`);
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
    await withTimeout(
      fileArrives(join(dir, 'transmission', 'shared.bin'), hash),
      60_000,
      'Transmission download',
    );
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
    const getter = harness.spawn([
      'get',
      torrent,
      '--peer',
      `127.0.0.1:${port}`,
      '--no-dht',
      '--host',
      '127.0.0.1',
      '--out',
      join(dir, 'out'),
      '--state-dir',
      join(dir, 'state'),
      '--exit-when-done',
      '--json',
    ]);
    const exit = await withTimeout(
      getter.exited,
      60_000,
      `peerkit get from Transmission\n${getter.stderr}`,
    );
    expect(exit.code, getter.stderr).toBe(0);
    expect(getter.events.find((e) => e.event === 'done')).toMatchObject({ downloaded: 1_200_000 });
    expect(await sha256File(join(dir, 'out', 'seeded.bin'))).toBe(hash);
    expect(seeder.exitCode).toBeNull();
  });
});
