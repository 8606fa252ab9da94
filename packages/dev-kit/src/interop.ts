/**
 * Interop fixtures shared by the packages' tests and benches (private, never published): real
 * aria2c and transmission-daemon processes on loopback, started in temporary directories and
 * stopped by PID. Node built-ins only; package-specific pieces (trackers, seeders) stay in the
 * packages' own test helpers.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
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

/** A new directory under the OS temp dir, named `peerkit-<prefix>-…`, and how to remove it. */
export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `peerkit-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
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
  /** Where its stdout and stderr go. */
  readonly logFile: string;
  /** Its exit code (null after a signal), once it has exited and the log is written. */
  readonly exited: Promise<number | null>;
  /** True until it exits. */
  readonly running: boolean;
  /** The last 20 000 characters of its log so far. */
  output(): string;
  /** SIGTERM by PID, then SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/** Starts `command` (in `cwd` if given); its stdout and stderr go to `logFile`. */
export function startProcess(
  command: string,
  args: string[],
  logFile: string,
  options: { cwd?: string } = {},
): Proc {
  const log = createWriteStream(logFile);
  const child: ChildProcess = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${command}`);
  const isRunning = () => child.exitCode === null && child.signalCode === null;
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => log.end(() => resolve(code))),
  );
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // Already gone (ESRCH): nothing to stop.
    }
  };
  return {
    pid,
    logFile,
    exited,
    get running() {
      return isRunning();
    },
    output() {
      try {
        return readFileSync(logFile, 'utf8').slice(-20_000);
      } catch {
        return '';
      }
    },
    async stop() {
      if (!isRunning()) {
        await exited;
        return;
      }
      signal('SIGTERM');
      const timer = setTimeout(() => {
        if (isRunning()) signal('SIGKILL');
      }, 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `check` every 200 ms until it returns true; throws after `timeoutMs` naming `what`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string | (() => string),
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port` (polls for `timeoutMs`). */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const accepts = () =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  await waitFor(accepts, timeoutMs, `127.0.0.1:${port} to accept connections`);
}

/** aria2c options every caller uses: no config file, no DHT, LPD or PEX, no preallocation. */
export const ARIA2_ISOLATED: readonly string[] = [
  '--no-conf',
  '--enable-dht=false',
  '--enable-dht6=false',
  '--bt-enable-lpd=false',
  '--enable-peer-exchange=false',
  '--file-allocation=none',
  '--summary-interval=0',
];

/** ARIA2_ISOLATED with every socket bound to 127.0.0.1 (aria2 uses all interfaces otherwise). */
export const ARIA2_LOOPBACK: readonly string[] = [
  ...ARIA2_ISOLATED,
  '--interface=127.0.0.1',
  '--disable-ipv6=true',
];

/** settings.json for a loopback-only transmission-daemon; `extra` adds or overrides keys. */
export function transmissionSettings(
  rpcPort: number,
  peerPort: number,
  downloadDir: string,
  extra: Record<string, unknown> = {},
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
    ...extra,
  });
}

export interface TransmissionDaemon {
  readonly proc: Proc;
  readonly rpcPort: number;
  readonly peerPort: number;
  /** Runs transmission-remote against this daemon; returns its stdout (throws on failure). */
  remote(...args: string[]): string;
}

/**
 * transmission-daemon in the foreground on free loopback ports, configured in `workDir`/config
 * (transmissionSettings plus `extraSettings`), logging to `workDir`/transmission.log. Resolves
 * once its RPC answers (20 s at most; the daemon is stopped if it never does).
 */
export async function startTransmissionDaemon(
  workDir: string,
  downloadDir: string,
  extraSettings: Record<string, unknown> = {},
): Promise<TransmissionDaemon> {
  const rpcPort = await freePort();
  const peerPort = await freePort();
  const config = join(workDir, 'config');
  await mkdir(config, { recursive: true });
  await writeFile(
    join(config, 'settings.json'),
    transmissionSettings(rpcPort, peerPort, downloadDir, extraSettings),
  );
  const proc = startProcess(
    'transmission-daemon',
    ['-f', '-g', config],
    join(workDir, 'transmission.log'),
  );
  const remote = (...args: string[]) =>
    execFileSync('transmission-remote', [`127.0.0.1:${rpcPort}`, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const answers = () => {
    try {
      remote('-l');
      return true;
    } catch {
      return false;
    }
  };
  try {
    await waitFor(answers, 20_000, 'transmission RPC');
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return { proc, rpcPort, peerPort, remote };
}
