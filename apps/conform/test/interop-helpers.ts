/**
 * Interop seeders: real aria2c and transmission-daemon processes seeding a torrent on loopback,
 * built on the shared fixtures in @peerkit/dev-kit/interop.
 */
import { join } from 'node:path';
import {
  ARIA2_LOOPBACK,
  freePort,
  type Proc,
  startProcess,
  startTransmissionDaemon,
  tempDir,
  waitFor,
  waitForPort,
} from '@peerkit/dev-kit/interop';

// The interop tests take haveClient from here with the seeders.
export { haveClient } from '@peerkit/dev-kit/interop';

export interface Seeder {
  readonly port: number;
  readonly proc: Proc;
  stop(): Promise<void>;
}

/**
 * The Seeder on `port` once `ready` resolves; stopping it stops `proc`, then removes `work`.
 * If `ready` throws, it is stopped at once (no stray client).
 */
async function seederOnceReady(
  port: number,
  proc: Proc,
  work: { remove(): Promise<void> },
  ready: () => Promise<void>,
): Promise<Seeder> {
  const seeder: Seeder = {
    port,
    proc,
    async stop() {
      await proc.stop();
      await work.remove();
    },
  };
  try {
    await ready();
    return seeder;
  } catch (error) {
    await seeder.stop();
    throw error;
  }
}

/** aria2c seeding `torrentPath` from `directory` (data present, checked). */
export async function startAria2Seeder(torrentPath: string, directory: string): Promise<Seeder> {
  const port = await freePort();
  const work = await tempDir('conform-aria2');
  const proc = startProcess(
    'aria2c',
    [
      ...ARIA2_LOOPBACK,
      '--console-log-level=notice',
      '--seed-ratio=0',
      '--seed-time=60',
      `--listen-port=${port}`,
      '--bt-require-crypto=false',
      '--check-integrity=true',
      '--bt-seed-unverified=true',
      `--dir=${directory}`,
      torrentPath,
    ],
    join(work.path, 'aria2.log'),
  );
  return seederOnceReady(port, proc, work, () => waitForPort(port, 20_000));
}

/** transmission-daemon 3.00 seeding `torrentPath` from `directory`, peers on loopback only. */
export async function startTransmissionSeeder(
  torrentPath: string,
  directory: string,
): Promise<Seeder> {
  const work = await tempDir('conform-transmission');
  const daemon = await startTransmissionDaemon(work.path, directory, {
    'ratio-limit-enabled': false,
  });
  return seederOnceReady(daemon.peerPort, daemon.proc, work, async () => {
    daemon.remote('-a', torrentPath, '-w', directory);
    // Wait until the torrent is verified and seeding (100% done).
    let list = '';
    await waitFor(
      () => {
        list = daemon.remote('-l');
        return /100%.*(Seeding|Idle)/.test(list);
      },
      30_000,
      () => `transmission to start seeding:\n${list}`,
    );
    await waitForPort(daemon.peerPort, 20_000);
  });
}
