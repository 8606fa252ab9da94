/**
 * Fixtures for the interop tests: real aria2c / transmission-daemon processes, started and
 * stopped by PID in temporary directories, on loopback only, and a tiny HTTP tracker (BEP 3
 * tracker response) that hands a client the peerkit peer's address.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from '@peerkit/bencode';
import type { Address } from '@peerkit/transport';

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

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `peerkit-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
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
  readonly exited: Promise<number | null>;
  /** SIGTERM by PID, then SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/** Starts a process; its output goes to `logFile`. */
export function startProcess(command: string, args: string[], logFile: string): Proc {
  const log = createWriteStream(logFile);
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${command}`);
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      log.end();
      resolve(code);
    }),
  );
  let done = false;
  void exited.then(() => {
    done = true;
  });
  return {
    pid,
    exited,
    async stop() {
      if (done) return;
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (!done) process.kill(pid, 'SIGKILL');
      }, 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface Tracker {
  readonly url: string;
  /** Ports clients announced (aria2's listen port, for instance). */
  readonly announcedPorts: number[];
  close(): Promise<void>;
}

/** An HTTP tracker answering every announce with `peers()` in compact form (BEP 3, BEP 23). */
export async function startTracker(peers: () => Address[]): Promise<Tracker> {
  const announcedPorts: number[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const port = Number(url.searchParams.get('port'));
    if (port > 0) announcedPorts.push(port);
    const list = peers();
    const compact = new Uint8Array(list.length * 6);
    list.forEach((p, i) => {
      p.host.split('.').forEach((octet, j) => {
        compact[i * 6 + j] = Number(octet);
      });
      compact[i * 6 + 4] = p.port >> 8;
      compact[i * 6 + 5] = p.port & 0xff;
    });
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(
      Buffer.from(
        encode({ interval: 5, 'min interval': 5, complete: 1, incomplete: 1, peers: compact }),
      ),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/announce`,
    announcedPorts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls `check` every 200 ms until it returns true or `timeoutMs` passes. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const ARIA2_COMMON = [
  '--no-conf',
  // Loopback only: bind every socket to 127.0.0.1 (aria2 listens on all interfaces otherwise).
  '--interface=127.0.0.1',
  '--disable-ipv6=true',
  '--enable-dht=false',
  '--enable-dht6=false',
  '--bt-enable-lpd=false',
  '--enable-peer-exchange=false',
  '--file-allocation=none',
  '--allow-overwrite=true',
  '--summary-interval=0',
  '--console-log-level=notice',
  '--bt-tracker-connect-timeout=5',
  '--bt-tracker-timeout=5',
  '--bt-stop-timeout=90',
];

/** Writes a transmission-daemon settings.json for a loopback-only daemon. */
export function transmissionSettings(
  rpcPort: number,
  peerPort: number,
  downloadDir: string,
): string {
  return JSON.stringify({
    'bind-address-ipv4': '127.0.0.1',
    'bind-address-ipv6': '::1',
    'dht-enabled': false,
    'lpd-enabled': false,
    'pex-enabled': false,
    'utp-enabled': false,
    'port-forwarding-enabled': false,
    'download-dir': downloadDir,
    'incomplete-dir-enabled': false,
    'rename-partial-files': false,
    encryption: 0,
    'peer-port': peerPort,
    'peer-port-random-on-start': false,
    'rpc-enabled': true,
    'rpc-bind-address': '127.0.0.1',
    'rpc-port': rpcPort,
    'rpc-authentication-required': false,
    'rpc-whitelist-enabled': false,
    'rpc-host-whitelist-enabled': false,
    'start-added-torrents': true,
    'message-level': 2,
  });
}
