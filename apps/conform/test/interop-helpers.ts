/**
 * Interop fixtures: real aria2c and transmission-daemon processes seeding a torrent on loopback,
 * started in temporary directories and stopped by PID.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True when `command` is installed; under INTEROP_REQUIRED=1 a missing client throws. */
export function haveClient(command: string): boolean {
  try {
    execFileSync('which', [command], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.INTEROP_REQUIRED === '1') {
      throw new Error(`interop client ${command} is not installed (INTEROP_REQUIRED=1)`);
    }
    return false;
  }
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Proc {
  readonly pid: number;
  readonly log: string;
  stop(): Promise<void>;
}

function start(command: string, args: string[], log: string): Proc {
  const out = createWriteStream(log);
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(out, { end: false });
  child.stderr?.pipe(out, { end: false });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${command}`);
  let done = false;
  const exited = new Promise<void>((resolve) =>
    child.once('close', () => {
      done = true;
      out.end();
      resolve();
    }),
  );
  return {
    pid,
    log,
    async stop() {
      if (done) return;
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (!done) process.kill(pid, 'SIGKILL');
      }, 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port` (polls for `timeoutMs`). */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const { connect } = await import('node:net');
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

export interface Seeder {
  readonly port: number;
  readonly proc: Proc;
  stop(): Promise<void>;
}

/** aria2c seeding `torrentPath` from `directory` (data present, checked), listening on loopback. */
export async function startAria2Seeder(torrentPath: string, directory: string): Promise<Seeder> {
  const port = await freePort();
  const work = mkdtempSync(join(tmpdir(), 'peerkit-conform-aria2-'));
  const proc = start(
    'aria2c',
    [
      '--no-conf',
      '--seed-ratio=0',
      '--seed-time=60',
      '--enable-dht=false',
      '--enable-dht6=false',
      '--bt-enable-lpd=false',
      '--enable-peer-exchange=false',
      `--listen-port=${port}`,
      '--bt-require-crypto=false',
      '--check-integrity=true',
      '--bt-seed-unverified=true',
      '--file-allocation=none',
      '--summary-interval=0',
      '--console-log-level=notice',
      `--dir=${directory}`,
      torrentPath,
    ],
    join(work, 'aria2.log'),
  );
  await waitForPort(port, 20_000);
  return {
    port,
    proc,
    async stop() {
      await proc.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** transmission-daemon 3.00 seeding `torrentPath` from `directory`, peers on loopback only. */
export async function startTransmissionSeeder(
  torrentPath: string,
  directory: string,
): Promise<Seeder> {
  const port = await freePort();
  const rpcPort = await freePort();
  const work = mkdtempSync(join(tmpdir(), 'peerkit-conform-transmission-'));
  const config = join(work, 'config');
  mkdirSync(config);
  writeFileSync(
    join(config, 'settings.json'),
    JSON.stringify({
      'bind-address-ipv4': '127.0.0.1',
      'bind-address-ipv6': '::1',
      'dht-enabled': false,
      'lpd-enabled': false,
      'pex-enabled': false,
      'utp-enabled': false,
      'port-forwarding-enabled': false,
      'download-dir': directory,
      'incomplete-dir-enabled': false,
      'rename-partial-files': false,
      encryption: 0,
      'peer-port': port,
      'peer-port-random-on-start': false,
      'rpc-enabled': true,
      'rpc-bind-address': '127.0.0.1',
      'rpc-port': rpcPort,
      'rpc-authentication-required': false,
      'rpc-whitelist-enabled': false,
      'rpc-host-whitelist-enabled': false,
      'start-added-torrents': true,
      'ratio-limit-enabled': false,
      'message-level': 2,
    }),
  );
  const proc = start('transmission-daemon', ['-f', '-g', config], join(work, 'transmission.log'));
  await waitForPort(rpcPort, 20_000);
  execFileSync('transmission-remote', [String(rpcPort), '-a', torrentPath, '-w', directory], {
    stdio: 'ignore',
  });
  // Wait until the torrent is verified and seeding (100% done).
  const until = Date.now() + 30_000;
  for (;;) {
    const list = execFileSync('transmission-remote', [String(rpcPort), '-l'], { encoding: 'utf8' });
    if (/100%.*(Seeding|Idle)/.test(list)) break;
    if (Date.now() > until) throw new Error(`transmission did not start seeding:\n${list}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  await waitForPort(port, 20_000);
  return {
    port,
    proc,
    async stop() {
      await proc.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
