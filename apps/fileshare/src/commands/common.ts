/**
 * Options shared by `share` and `get`, their parsing into `ShareNodeOptions`, and running a node
 * until it is done, interrupted (Ctrl-C, SIGTERM: a clean stop, exit 0), out of time
 * (`--timeout`: exit 1) or done seeding (`--seed-ratio`, `--seed-time`).
 */
import { spawn } from 'node:child_process';
import { addOutputOptions, type Interrupts, type Output, type OutputFlags } from '@peerkit/cli-kit';
import type { Address } from '@peerkit/transport';
import { type Command, Option } from 'commander';
import { CliError } from '../errors';
import type { NodeEventHandler } from '../events';
import { parsePeerAddress, parsePort, parsePositive, parseSize } from '../input';
import type { ShareNode, ShareNodeOptions, TransportMode } from '../node';
import type { Reporter } from '../report';
import { openStateDir } from '../state-dir';

/** Raw values commander gives for the common options. */
export interface CommonOptionValues extends OutputFlags {
  port?: string;
  dhtPort?: string;
  host?: string;
  bootstrap?: string[];
  peer?: string[];
  tracker?: string[];
  dht: boolean;
  stateDir?: string;
  maxUploadRate?: string;
  maxDownloadRate?: string;
  transport?: string;
  seedRatio?: string;
  seedTime?: string;
  encryption?: 'prefer' | 'require' | 'plain';
  /** The flag the peer port came from (`--peer-port` for `stream`), for errors. */
  peerPortFlag?: '--port' | '--peer-port';
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/**
 * Adds the node options, the seeding limits and the output options (`--json`, `-q`, `-v`).
 * `stream` names the peer port `--peer-port`: its `--port` is the HTTP server's.
 */
export function addNodeOptions(
  command: Command,
  peerPortFlag: '--port' | '--peer-port' = '--port',
): Command {
  command
    .option(
      `${peerPortFlag} <port>`,
      'port for peer connections, uTP (UDP) and TCP (default: any free port)',
    )
    .option(
      '--transport <utp|tcp|both>',
      'peer connections over uTP, TCP, or both: dial uTP first, TCP as the fallback',
      'both',
    )
    .option(
      '--dht-port <port>',
      'UDP port for the DHT (default: the uTP port, or any free port with --transport tcp)',
    )
    .option('--host <ip>', 'address to bind TCP and UDP to', '0.0.0.0')
    .option(
      '--bootstrap <host:port>',
      'DHT node to join through (repeatable; default: the table saved by the last run)',
      collect,
    )
    .option('--peer <host:port>', 'peer to connect to directly (repeatable)', collect)
    .option(
      '--tracker <url>',
      'tracker to announce to as well: http://, https://, udp:// (repeatable)',
      collect,
    )
    .option('--no-dht', 'do not run a DHT node (use --peer)')
    .option(
      '--state-dir <dir>',
      'resume data, saved torrents and the DHT table (default: ~/.peerkit-share)',
    )
    .option('--max-upload-rate <bytes>', 'upload limit in bytes per second, e.g. 512k or 2M')
    .option('--max-download-rate <bytes>', 'download limit in bytes per second, e.g. 512k or 2M')
    .option(
      '--seed-ratio <ratio>',
      'stop seeding once uploaded ≥ ratio × the torrent size (e.g. 1.0)',
    )
    .option('--seed-time <minutes>', 'stop seeding after this many minutes of seeding')
    .addOption(
      new Option(
        '--encryption <policy>',
        'MSE/PE: prefer (encrypted first, plain accepted), require (RC4 only), plain (never)',
      )
        .choices(['prefer', 'require', 'plain'])
        .default('prefer'),
    );
  return addOutputOptions(command);
}

/** Seeding limits: stop once either is reached (none: seed until interrupted). */
export interface SeedLimits {
  ratio?: number;
  minutes?: number;
}

export function seedLimitsFrom(values: CommonOptionValues): SeedLimits {
  return {
    ...(values.seedRatio !== undefined
      ? { ratio: parsePositive(values.seedRatio, '--seed-ratio') }
      : {}),
    ...(values.seedTime !== undefined
      ? { minutes: parsePositive(values.seedTime, '--seed-time') }
      : {}),
  };
}

/** "seeding until Ctrl-C", "seeding until ratio 1 or 30 min", for the `done:` line. */
export function describeSeeding(limits: SeedLimits, exitWhenDone: boolean): string {
  if (exitWhenDone) return 'exiting (--exit-when-done)';
  const until = [
    ...(limits.ratio !== undefined ? [`ratio ${limits.ratio}`] : []),
    ...(limits.minutes !== undefined ? [`${limits.minutes} min`] : []),
  ];
  return `seeding until ${until.length > 0 ? `${until.join(' or ')} (or Ctrl-C)` : 'Ctrl-C'}`;
}

/** `--transport`: `utp`, `tcp` or `both` (uTP first, TCP as the fallback). */
export function parseTransport(text: string): TransportMode {
  if (text === 'utp' || text === 'tcp' || text === 'both') return text;
  throw new CliError('INVALID_OPTION', `--transport must be utp, tcp or both, not "${text}"`);
}

/**
 * Turns the common option values into node options (addresses resolved, state dir opened). The
 * network reports failed dials through `onEvent` and carries the download limit.
 */
export async function nodeOptionsFrom(
  values: CommonOptionValues,
  onEvent: NodeEventHandler,
): Promise<
  Pick<
    ShareNodeOptions,
    | 'state'
    | 'host'
    | 'port'
    | 'dhtPort'
    | 'dht'
    | 'bootstrap'
    | 'peers'
    | 'maxUploadRate'
    | 'maxDownloadRate'
    | 'transport'
    | 'trackers'
    | 'onEvent'
    | 'encryption'
  >
> {
  const bootstrap: Address[] = [];
  for (const text of values.bootstrap ?? [])
    bootstrap.push(await parsePeerAddress(text, '--bootstrap'));
  const peers: Address[] = [];
  for (const text of values.peer ?? []) peers.push(await parsePeerAddress(text, '--peer'));
  const portFlag = values.peerPortFlag ?? '--port';
  const port = values.port !== undefined ? parsePort(values.port, portFlag) : undefined;
  const dhtPort =
    values.dhtPort !== undefined ? parsePort(values.dhtPort, '--dht-port') : undefined;
  const maxUploadRate =
    values.maxUploadRate !== undefined
      ? parseSize(values.maxUploadRate, '--max-upload-rate')
      : undefined;
  const maxDownloadRate =
    values.maxDownloadRate !== undefined
      ? parseSize(values.maxDownloadRate, '--max-download-rate')
      : undefined;
  return {
    state: await openStateDir(values.stateDir),
    host: values.host ?? '0.0.0.0',
    ...(port !== undefined ? { port } : {}),
    ...(dhtPort !== undefined ? { dhtPort } : {}),
    dht: values.dht,
    bootstrap,
    peers,
    trackers: values.tracker ?? [],
    ...(maxUploadRate ? { maxUploadRate } : {}),
    ...(values.encryption !== undefined ? { encryption: values.encryption } : {}),
    ...(maxDownloadRate ? { maxDownloadRate } : {}),
    transport: parseTransport(values.transport ?? 'both'),
    onEvent,
  };
}

export interface RunOptions {
  interrupts: Interrupts;
  reporter: Reporter;
  out: Output;
  /** Stop once every piece is verified. */
  exitWhenDone?: boolean;
  /** Give up (exit 1) when not every piece is verified after this many seconds. */
  timeoutSeconds?: number;
  seed?: SeedLimits;
  /** Run through the shell once every piece is verified (`--on-complete`). */
  onComplete?: string;
  /** Where the content is (from the `done` event), for the hook's `PEERKIT_PATH`. */
  contentPath?: () => string | undefined;
}

/**
 * Keeps a node running until a signal, the end of seeding or the timeout, then closes it (the
 * torrent saves its resume data: what was verified is kept). Rejects with `TIMEOUT` when
 * `timeoutSeconds` ran out first.
 */
export async function runUntilStopped(node: ShareNode, options: RunOptions): Promise<void> {
  const timers: NodeJS.Timeout[] = [];
  const after = (ms: number) =>
    new Promise<void>((resolve) => {
      timers.push(setTimeout(resolve, ms));
    });
  type Reason =
    | { kind: 'signal'; signal: string }
    | { kind: 'timeout' }
    | { kind: 'done' }
    | { kind: 'failed'; error: Error };
  const racers: Promise<Reason>[] = [
    options.interrupts.next().then((signal) => ({ kind: 'signal', signal })),
    // A node that fails (a disk error while downloading) is closed and its error thrown: one
    // line and a non-zero exit.
    node.whenFailed().then((error) => ({ kind: 'failed', error })),
  ];
  if (options.timeoutSeconds !== undefined) {
    const deadline = after(options.timeoutSeconds * 1000);
    racers.push(
      Promise.race([deadline.then(() => 'late' as const), node.whenDone()]).then((first) =>
        first === 'late' ? { kind: 'timeout' } : new Promise<never>(() => undefined),
      ),
    );
  }
  racers.push(
    node.whenDone().then(async (): Promise<Reason> => {
      if (options.onComplete !== undefined) await runHook(options.onComplete, node, options);
      if (options.exitWhenDone) return { kind: 'done' };
      await seedUntil(node, options.seed ?? {}, after);
      return { kind: 'done' };
    }),
  );
  const reason = await Promise.race(racers);
  for (const t of timers) clearTimeout(t);
  const status = node.status();
  try {
    await node.close(
      reason.kind === 'signal' ? reason.signal : reason.kind === 'failed' ? 'error' : undefined,
    );
  } catch (error) {
    options.reporter.log(`error while stopping: ${String(error)}`);
    process.exitCode = 1;
  }
  options.reporter.close();
  if (reason.kind === 'failed') throw reason.error;
  if (reason.kind === 'timeout') {
    throw new CliError(
      'TIMEOUT',
      `gave up after ${options.timeoutSeconds} s (--timeout): ${status.verified}/${status.pieces} pieces verified, ${status.peers} peer(s) connected${status.verified > 0 ? ' (the verified pieces are kept)' : ''}`,
    );
  }
}

/** Resolves once a seeding limit is reached (never, without limits). */
async function seedUntil(
  node: ShareNode,
  limits: SeedLimits,
  after: (ms: number) => Promise<void>,
): Promise<void> {
  if (limits.ratio === undefined && limits.minutes === undefined)
    return new Promise<void>(() => undefined);
  const start = Date.now();
  const uploadedAtStart = node.status().uploaded;
  for (;;) {
    const s = node.status();
    // Ratio counts what was uploaded since seeding began, against the torrent's size.
    if (limits.ratio !== undefined && s.length > 0) {
      if ((s.uploaded - uploadedAtStart) / s.length >= limits.ratio) return;
    }
    if (limits.minutes !== undefined && Date.now() - start >= limits.minutes * 60_000) return;
    await after(250);
  }
}

/**
 * `--on-complete`: the command runs through the shell with the download's details in its
 * environment (`PEERKIT_PATH`, `PEERKIT_INFO_HASH`, `PEERKIT_NAME`), its output going to our
 * stderr (stdout stays for `--json`), like aria2c's --on-download-complete and Transmission's torrent-done script.
 */
function runHook(command: string, node: ShareNode, options: RunOptions): Promise<void> {
  const info = node.torrent.info;
  return new Promise((resolve) => {
    const child = spawn(command, {
      shell: true,
      stdio: ['ignore', 2, 2],
      env: {
        ...process.env,
        PEERKIT_PATH: options.contentPath?.() ?? '',
        PEERKIT_INFO_HASH: node.infoHashHex,
        PEERKIT_NAME: info?.name ?? '',
      },
    });
    child.once('error', (error) => {
      options.out.warn(`--on-complete: ${error.message}`);
      resolve();
    });
    child.once('exit', (exitCode, signal) => {
      options.reporter.event({ type: 'hook', command, exitCode, signal });
      resolve();
    });
  });
}
