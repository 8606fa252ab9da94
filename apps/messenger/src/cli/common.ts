/**
 * What every command shares: the common options, the state dir, starting a node from them,
 * printing (human or `--json`) and shutting down cleanly.
 */
import { join } from 'node:path';
import { loadState, saveState } from '@peerkit/kademlia';
import { type Address, nodeNetwork, parseAddress } from '@peerkit/transport';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { ChatError, isChatError } from '../errors';
import type { ChatEvent } from '../events';
import { decodeHistory, encodeHistory, historyFileName } from '../history-file';
import { MessengerNode } from '../node';
import {
  defaultStateDir,
  loadOrCreateIdentity,
  loadProfile,
  readStateFile,
  writeStateFile,
} from '../state-dir';

export interface CommonOptions {
  port?: number;
  dhtPort?: number;
  host: string;
  bootstrap?: Address[];
  stateDir: string;
  json: boolean;
  nick?: string;
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InvalidArgumentError('a port is an integer in 0-65535');
  }
  return n;
}

function bootstrapAddress(value: string, previous: Address[] = []): Address[] {
  try {
    return [...previous, parseAddress(value)];
  } catch {
    throw new InvalidArgumentError(`'${value}' is not host:port (e.g. 127.0.0.1:6881)`);
  }
}

/** Adds the common options to a command (so that each command's --help lists them). */
export function withCommonOptions(command: Command, node = true): Command {
  command
    .option('--state-dir <dir>', 'where the identity and state are kept', defaultStateDir())
    .option('--json', 'print machine-readable events, one JSON object per line', false);
  if (!node) return command;
  return command
    .addOption(
      new Option('--port <port>', 'TCP port for peer connections (default: any)').argParser(
        portNumber,
      ),
    )
    .addOption(
      new Option('--dht-port <port>', 'UDP port of the DHT node (default: any)').argParser(
        portNumber,
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

/** The output channel: human lines on stdout/stderr, or JSON events on stdout. */
export class Output {
  constructor(readonly json: boolean) {}

  event(value: object): void {
    if (this.json) process.stdout.write(`${JSON.stringify(value)}\n`);
  }

  line(text: string): void {
    if (!this.json) process.stdout.write(`${text}\n`);
  }

  /** One clear error line (and a JSON `error` event); sets a non-zero exit code. */
  error(error: unknown, exitCode = 1): void {
    const code = isChatError(error) ? error.code : ((error as { code?: string })?.code ?? 'ERROR');
    const message = error instanceof Error ? error.message : String(error);
    if (this.json) process.stdout.write(`${JSON.stringify({ type: 'error', code, message })}\n`);
    process.stderr.write(`peerkit-chat: ${message}\n`);
    process.exitCode = exitCode;
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
  if (created) out.line(`created a new identity in ${options.stateDir}`);
  const bootstrap = options.bootstrap ?? [];
  const dhtState =
    bootstrap.length === 0 ? await loadState(join(options.stateDir, DHT_STATE)) : undefined;
  const nick = options.nick ?? profile.nick;
  try {
    return await MessengerNode.start({
      network: nodeNetwork(),
      identity,
      host: options.host,
      bootstrap,
      transient,
      onEvent:
        onEvent ??
        ((event) => {
          out.event(event);
          if (event.type === 'warning' && !out.json) {
            process.stderr.write(`peerkit-chat: ${event.message}\n`);
          }
        }),
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.dhtPort !== undefined ? { dhtPort: options.dhtPort } : {}),
      ...(dhtState ? { dhtState } : {}),
      ...(nick !== undefined ? { nick } : {}),
    });
  } catch (error) {
    const code = (error as { code?: string })?.code;
    if (code === 'ADDRESS_IN_USE') {
      throw new ChatError('BAD_INPUT', `port in use: ${(error as Error).message}`, {
        cause: error,
      });
    }
    throw error;
  }
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
