/**
 * What every command shares: the common options, the state dir, starting a node from them,
 * printing (human or `--json`) and shutting down cleanly.
 */
import { join } from 'node:path';
import * as kit from '@peerkit/cli-kit';
import { loadState, saveState } from '@peerkit/kademlia';
import { type Address, nodeNetwork } from '@peerkit/transport';
import { type Command, Option } from 'commander';
import { isChatError } from '../errors';
import type { ChatEvent } from '../events';
import { decodeHistory, encodeHistory, historyFileName } from '../history-file';
import { MessengerNode } from '../node';
import {
  defaultStateDir,
  loadOrCreateIdentity,
  loadProfile,
  readStateFile,
  saveProfile,
  writeStateFile,
} from '../state-dir';

export interface CommonOptions {
  port?: number;
  dhtPort?: number;
  host: string;
  bootstrap?: Address[];
  stateDir: string;
  json: boolean;
  quiet?: boolean;
  verbose?: boolean;
  nick?: string;
}

const portNumber = (name: string) => (value: string) => kit.parsePort(value, name);

function bootstrapAddress(value: string, previous: Address[] = []): Address[] {
  return [...previous, kit.parseHostPort(value, '--bootstrap')];
}

/** Adds the common options to a command (so that each command's --help lists them). */
export function withCommonOptions(command: Command, node = true): Command {
  command
    .option('--state-dir <dir>', 'where the identity and state are kept', defaultStateDir())
    .option('--json', 'print one JSON event per line on stdout', false);
  kit.addOutputOptions(command, false);
  if (!node) return command;
  return command
    .addOption(
      new Option('--port <port>', 'TCP port for peer connections (default: any)').argParser(
        portNumber('--port'),
      ),
    )
    .addOption(
      new Option('--dht-port <port>', 'UDP port of the DHT node (default: any)').argParser(
        portNumber('--dht-port'),
      ),
    )
    .option('--host <ip>', 'address to bind', '0.0.0.0')
    .addOption(
      new Option(
        '--bootstrap <host:port>',
        'DHT node to join through (repeatable; default: the saved routing table)',
      ).argParser(bootstrapAddress),
    )
    .option('--nick <name>', 'display name sent with your messages (saved)');
}

/** Exit code 2 (usage) for input the user typed wrong, 1 for every other failure. */
export function exitCodeOf(error: unknown): number {
  if (isChatError(error)) return error.code === 'BAD_INPUT' || error.code === 'BAD_PEER_ID' ? 2 : 1;
  return kit.exitCodeFor(error);
}

/**
 * The output channel (cli-kit's conventions): human lines on stdout (messages, results) and
 * stderr (status, errors), or JSON envelopes on stdout: a `ChatEvent` `{type, ...}` goes out as
 * `{"event": type, "time": ..., ...}`.
 */
export class Output {
  readonly kit: kit.Output;

  constructor(
    readonly json: boolean,
    flags: { quiet?: boolean; verbose?: boolean } = {},
  ) {
    this.kit = new kit.Output({
      program: 'peerkit-chat',
      json,
      verbosity: kit.verbosityFrom(flags),
    });
  }

  event<E extends { readonly type: string }>(value: E): void {
    const { type, ...fields } = value;
    this.kit.event(type, fields);
  }

  /** A result line on stdout (human mode). */
  line(text: string): void {
    this.kit.result(text);
  }

  /** What the command is doing or waiting for (stderr; `-q` hides it). */
  status(text: string): void {
    this.kit.info(text);
  }

  /** Timings and details (stderr; only with `-v`). */
  detail(text: string): void {
    this.kit.detail(text);
  }

  /** One clear error line (and a JSON `error` event); sets the exit code (2 usage, 1 failure). */
  error(error: unknown, exitCode = exitCodeOf(error)): void {
    process.exitCode = this.kit.error(error, exitCode);
  }
}

const DHT_STATE = 'dht.json';

/** Starts a node from the common options: identity and nick from the state dir, saved DHT table. */
export async function startNode(
  options: CommonOptions,
  out: Output,
  onEvent?: (event: ChatEvent) => void,
  transient = false,
): Promise<MessengerNode> {
  const { identity, created } = await loadOrCreateIdentity(options.stateDir);
  const profile = await loadProfile(options.stateDir);
  if (created) out.status(`created a new identity in ${options.stateDir}`);
  const bootstrap = options.bootstrap ?? [];
  const dhtState =
    bootstrap.length === 0 ? await loadState(join(options.stateDir, DHT_STATE)) : undefined;
  const nick = options.nick ?? profile.nick;
  // --nick is saved, as documented: the next run uses it without the option.
  if (options.nick !== undefined && options.nick !== profile.nick)
    await saveProfile(options.stateDir, { ...profile, nick: options.nick });
  if (bootstrap.length > 0)
    out.status(`joining the DHT through ${bootstrap.map(formatHostPort).join(', ')}…`);
  else if (dhtState !== undefined)
    out.status(`joining the DHT through the ${dhtState.nodes.length} node(s) saved last time…`);
  try {
    return await MessengerNode.start({
      network: nodeNetwork(),
      identity,
      host: options.host,
      bootstrap,
      transient,
      // A one-shot node gives a silent DHT node (one that left) one try of 1 s, not two: its
      // start-up lookups wait on such nodes, and its whole run is bounded by --timeout.
      ...(transient ? { dhtRpc: { retries: 0 } } : {}),
      onEvent:
        onEvent ??
        ((event) => {
          out.event(event);
          if (event.type === 'warning') out.kit.warn(event.message);
        }),
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.dhtPort !== undefined ? { dhtPort: options.dhtPort } : {}),
      ...(dhtState ? { dhtState } : {}),
      ...(nick !== undefined ? { nick } : {}),
    });
  } catch (error) {
    const code = (error as { code?: string })?.code;
    if (code === 'ADDRESS_IN_USE') {
      // Not a usage error: the command line is fine, the port is taken (exit 1).
      throw Object.assign(new Error(`port in use: ${(error as Error).message}`), {
        code: 'PORT_IN_USE',
        cause: error,
      });
    }
    throw error;
  }
}

function formatHostPort(a: Address): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Loads the saved history of `room` into the node; returns how many messages it had. */
export async function loadRoomHistory(node: MessengerNode, stateDir: string, room: string) {
  const bytes = await readStateFile(stateDir, historyFileName(room));
  if (bytes === undefined) return 0;
  return node.importHistory(room, decodeHistory(node.codec, bytes, node.limits.maxHistory));
}

/** Saves histories and the DHT table, then closes the node. */
export async function stopNode(node: MessengerNode, stateDir: string): Promise<void> {
  try {
    for (const room of node.joinedRooms) {
      await writeStateFile(
        stateDir,
        historyFileName(room),
        encodeHistory(node.codec, node.recentMessages(room)),
      );
    }
    await saveState(join(stateDir, DHT_STATE), node.dht.toState());
  } finally {
    await node.close();
  }
}
