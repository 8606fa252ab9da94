/**
 * Options shared by `share` and `get`, their parsing into `ShareNodeOptions`, and running a node
 * until it is done or interrupted (SIGINT/SIGTERM: clean shutdown, exit 0).
 */

import type { Address } from '@peerkit/transport';
import { type Command, Option } from 'commander';
import { parsePeerAddress, parsePort, parseSize } from '../input';
import type { ShareNode, ShareNodeOptions } from '../node';
import { humanReporter, jsonReporter, type Reporter } from '../report';
import { openStateDir } from '../state-dir';

/** Raw values commander gives for the common options. */
export interface CommonOptionValues {
  port?: string;
  dhtPort?: string;
  host?: string;
  bootstrap?: string[];
  peer?: string[];
  tracker?: string[];
  dht: boolean;
  stateDir?: string;
  json?: boolean;
  maxUploadRate?: string;
  encryption?: 'prefer' | 'require' | 'plain';
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** Adds `--port`, `--dht-port`, `--host`, `--bootstrap`, `--peer`, `--no-dht`, `--state-dir`, `--json`. */
export function addNodeOptions(command: Command): Command {
  return command
    .option('--port <port>', 'TCP port for peer connections (default: any free port)')
    .option('--dht-port <port>', 'UDP port for the DHT (default: any free port)')
    .option('--host <ip>', 'address to bind TCP and UDP to', '0.0.0.0')
    .option(
      '--bootstrap <host:port>',
      'DHT node to join through (repeatable; default: the table saved by the last run)',
      collect,
    )
    .option('--peer <host:port>', 'peer to connect to directly (repeatable)', collect)
    .option('--tracker <url>', 'HTTP tracker to announce to as well (repeatable)', collect)
    .option('--no-dht', 'do not run a DHT node (use --peer)')
    .option(
      '--state-dir <dir>',
      'resume data, saved torrents and the DHT table (default: ~/.peerkit-share)',
    )
    .option('--max-upload-rate <bytes>', 'upload limit in bytes per second, e.g. 512k or 2M')
    .addOption(
      new Option(
        '--encryption <policy>',
        'MSE/PE: prefer (encrypted first, plain accepted), require (RC4 only), plain (never)',
      )
        .choices(['prefer', 'require', 'plain'])
        .default('prefer'),
    )
    .option('--json', 'print one JSON event per line instead of the progress bar');
}

/** Turns the common option values into node options (addresses resolved, state dir opened). */
export async function nodeOptionsFrom(
  values: CommonOptionValues,
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
    | 'trackers'
    | 'encryption'
  >
> {
  const bootstrap: Address[] = [];
  for (const text of values.bootstrap ?? []) bootstrap.push(await parsePeerAddress(text));
  const peers: Address[] = [];
  for (const text of values.peer ?? []) peers.push(await parsePeerAddress(text));
  return {
    state: await openStateDir(values.stateDir),
    host: values.host ?? '0.0.0.0',
    ...(values.port !== undefined ? { port: parsePort(values.port, '--port') } : {}),
    ...(values.dhtPort !== undefined ? { dhtPort: parsePort(values.dhtPort, '--dht-port') } : {}),
    dht: values.dht,
    bootstrap,
    peers,
    trackers: values.tracker ?? [],
    ...(values.encryption !== undefined ? { encryption: values.encryption } : {}),
    ...(values.maxUploadRate !== undefined
      ? { maxUploadRate: parseSize(values.maxUploadRate, '--max-upload-rate') }
      : {}),
  };
}

export function reporterFor(values: { json?: boolean }, mode: 'get' | 'share'): Reporter {
  return values.json ? jsonReporter() : humanReporter(mode);
}

/**
 * SIGINT/SIGTERM, caught from the moment a command starts (so that a signal arriving while the
 * node is still starting up stops it cleanly instead of killing the process). A second signal
 * while stopping exits at once with 130.
 */
export class ShutdownSignals {
  private requested: ((signal: string) => void) | undefined;
  private received: string | undefined;
  private stopping = false;

  constructor() {
    const on = (signal: string) => {
      // A second signal (while stopping, or while still starting up) means "now".
      if (this.stopping || this.received !== undefined) process.exit(130);
      this.received = signal;
      this.requested?.(signal);
    };
    process.on('SIGINT', () => on('SIGINT'));
    process.on('SIGTERM', () => on('SIGTERM'));
  }

  /** Resolves with the first signal (at once if one already came). */
  next(): Promise<string> {
    if (this.received !== undefined) return Promise.resolve(this.received);
    return new Promise((resolve) => {
      this.requested = resolve;
    });
  }

  markStopping(): void {
    this.stopping = true;
  }
}

/** Keeps a node running until a signal (or until done, with `exitWhenDone`), then closes it. */
export async function runUntilStopped(
  node: ShareNode,
  reporter: Reporter,
  exitWhenDone: boolean,
  signals: ShutdownSignals,
): Promise<void> {
  const reason = await Promise.race([
    signals.next(),
    ...(exitWhenDone ? [node.whenDone().then(() => undefined)] : []),
  ]);
  signals.markStopping();
  try {
    await node.close(reason);
  } catch (error) {
    reporter.log(`error while stopping: ${String(error)}`);
    process.exitCode = 1;
  }
  reporter.close();
}
