/**
 * The `peerkit-share` command line: each command is a thin layer over a function exported from
 * the package (`createTorrentFile`, `describeTarget`, `runShare`, `runGet`, `runDhtNode`); this
 * file only parses arguments, prints, and maps errors to one line and a non-zero exit.
 */
import { Command, Option } from 'commander';
import {
  addNodeOptions,
  type CommonOptionValues,
  nodeOptionsFrom,
  reporterFor,
  runUntilStopped,
  ShutdownSignals,
} from './commands/common';
import { createTorrentFile } from './commands/create';
import { runDhtNode } from './commands/dht-node';
import { runGet } from './commands/get';
import { describeTarget, formatSummary } from './commands/info';
import { runShare } from './commands/share';
import { runTracker } from './commands/tracker';
import { describeError, errorCode } from './errors';
import { parsePeerAddress, parsePort, parseSize } from './input';
import { formatBytes } from './report';
import { openStateDir } from './state-dir';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** Prints one error line (and a JSON error event with `--json`); sets exit code 1. */
function fail(error: unknown, json: boolean): void {
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ event: 'error', time: Date.now(), code: errorCode(error), message: describeError(error) })}\n`,
    );
  }
  process.stderr.write(`peerkit-share: error: ${describeError(error)}\n`);
  if (process.env.PEERKIT_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
}

export function buildProgram(): Command {
  const program = new Command('peerkit-share')
    .description(
      'Share and fetch files with BitTorrent peers found through the DHT (BEP 3, 5, 9, 10).',
    )
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('create')
    .description('write a .torrent file for a file or folder')
    .argument('<path>', 'file or folder to describe')
    .option('-o, --out <file>', 'where to write the .torrent (default: <name>.torrent)')
    .option(
      '--piece-length <bytes>',
      'piece length, a power of two ≥ 16k (default: ~1000-2000 pieces)',
    )
    .option('--name <name>', 'torrent name (default: the file or folder name)')
    .option('--tracker <url>', 'tracker announce URL (repeatable)', collect)
    .option('--private', 'set the BEP 27 private flag (no DHT)')
    .option('--comment <text>', 'comment stored in the torrent')
    .option('--json', 'print the result as JSON')
    .action(
      async (
        path: string,
        o: {
          out?: string;
          pieceLength?: string;
          name?: string;
          tracker?: string[];
          private?: boolean;
          comment?: string;
          json?: boolean;
        },
      ) => {
        const made = await createTorrentFile({
          path,
          ...(o.out !== undefined ? { out: o.out } : {}),
          ...(o.pieceLength !== undefined
            ? { pieceLength: parseSize(o.pieceLength, '--piece-length') }
            : {}),
          ...(o.name !== undefined ? { name: o.name } : {}),
          trackers: o.tracker ?? [],
          ...(o.private ? { private: true } : {}),
          ...(o.comment !== undefined ? { comment: o.comment } : {}),
        });
        const infoHash = Buffer.from(made.metainfo.infoHash).toString('hex');
        if (o.json) {
          process.stdout.write(
            `${JSON.stringify({ event: 'created', file: made.out, infoHash, magnet: made.magnet, pieces: made.metainfo.pieceCount, pieceLength: made.metainfo.pieceLength, length: made.metainfo.length })}\n`,
          );
        } else {
          process.stdout.write(
            `wrote ${made.out}\ninfo-hash: ${infoHash}\nmagnet:    ${made.magnet}\n`,
          );
        }
      },
    );

  program
    .command('info')
    .description('show what a .torrent file, magnet link or info-hash describes')
    .argument('<target>', '.torrent file, magnet link or info-hash')
    .option('--json', 'print the result as JSON')
    .action(async (target: string, o: { json?: boolean }) => {
      const summary = await describeTarget(target);
      if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else process.stdout.write(`${formatSummary(summary, formatBytes).join('\n')}\n`);
    });

  addNodeOptions(
    program
      .command('share')
      .description(
        'seed a file or folder: announce it on the DHT, print its magnet link, serve peers until interrupted',
      )
      .argument('<path>', 'file or folder to seed')
      .option(
        '--torrent <file>',
        'an existing .torrent describing <path> (default: made on the fly)',
      )
      .option('--piece-length <bytes>', 'piece length of the torrent made on the fly')
      .option('--recheck', 'verify the files against the torrent before seeding'),
  ).action(
    async (
      path: string,
      o: CommonOptionValues & { torrent?: string; pieceLength?: string; recheck?: boolean },
    ) => {
      const signals = new ShutdownSignals();
      const reporter = reporterFor(o, 'share');
      const node = await runShare({
        path,
        ...(await nodeOptionsFrom(o)),
        ...(o.torrent !== undefined ? { torrentFile: o.torrent } : {}),
        ...(o.pieceLength !== undefined
          ? { pieceLength: parseSize(o.pieceLength, '--piece-length') }
          : {}),
        ...(o.recheck ? { recheck: true } : {}),
        onEvent: (e) => reporter.event(e),
      });
      await runUntilStopped(node, reporter, false, signals);
    },
  );

  addNodeOptions(
    program
      .command('get')
      .description(
        'download a torrent (magnet link, .torrent file or info-hash), verify it, then seed it',
      )
      .argument('<target>', 'magnet link, .torrent file or info-hash')
      .option('-o, --out <dir>', 'download directory', '.')
      .option('--exit-when-done', 'exit once every piece is verified instead of seeding')
      .option('--recheck', 'verify the files already on disk instead of trusting resume data'),
  ).action(
    async (
      target: string,
      o: CommonOptionValues & { out: string; exitWhenDone?: boolean; recheck?: boolean },
    ) => {
      const signals = new ShutdownSignals();
      const reporter = reporterFor(o, 'get');
      const node = await runGet({
        target,
        out: o.out,
        ...(await nodeOptionsFrom(o)),
        ...(o.recheck ? { recheck: true } : {}),
        onEvent: (e) => reporter.event(e),
      });
      await runUntilStopped(node, reporter, o.exitWhenDone === true, signals);
    },
  );

  program
    .command('dht-node')
    .description('run a standalone DHT bootstrap node (BEP 5) until interrupted')
    .option('--port <port>', 'UDP port', '6881')
    .option('--host <ip>', 'address to bind to', '0.0.0.0')
    .option('--bootstrap <host:port>', 'DHT node to join at start (repeatable)', collect)
    .option('--state-dir <dir>', 'where the routing table is saved (default: ~/.peerkit-share)')
    .addOption(new Option('--json', 'print one JSON event per line'))
    .action(
      async (o: {
        port: string;
        host: string;
        bootstrap?: string[];
        stateDir?: string;
        json?: boolean;
      }) => {
        const signals = new ShutdownSignals();
        const bootstrap = [];
        for (const text of o.bootstrap ?? []) bootstrap.push(await parsePeerAddress(text));
        const state = await openStateDir(o.stateDir);
        const node = await runDhtNode({
          host: o.host,
          port: parsePort(o.port, '--port'),
          bootstrap,
          statePath: `${state.root}/dht-node.json`,
        });
        const print = (event: string, fields: Record<string, unknown>, text: string) => {
          if (o.json)
            process.stdout.write(`${JSON.stringify({ event, time: Date.now(), ...fields })}\n`);
          else process.stderr.write(`${text}\n`);
        };
        print(
          'listening',
          {
            host: node.address.host,
            dhtPort: node.address.port,
            id: Buffer.from(node.dht.id).toString('hex'),
          },
          `DHT node listening on UDP ${node.address.host}:${node.address.port}`,
        );
        const timer = setInterval(
          () => {
            print(
              'status',
              { nodes: node.dht.table.size },
              `routing table: ${node.dht.table.size} node(s)`,
            );
          },
          o.json ? 1000 : 30_000,
        );
        const signal = await signals.next();
        signals.markStopping();
        clearInterval(timer);
        print('stopping', { signal }, 'stopping: saving the routing table');
        await node.close();
        print('stopped', {}, 'stopped');
      },
    );

  program
    .command('tracker')
    .description('run a UDP tracker (BEP 15, in memory) until interrupted')
    .option('--port <port>', 'UDP port', '6969')
    .option('--host <ip>', 'address to bind to', '0.0.0.0')
    .option('--interval <seconds>', 'announce interval told to clients', '1800')
    .action(async (o: { port: string; host: string; interval: string }) => {
      const signals = new ShutdownSignals();
      const interval = Number(o.interval);
      if (!Number.isInteger(interval) || interval < 1)
        throw new Error(`--interval must be a positive number of seconds, not ${o.interval}`);
      const server = await runTracker({
        host: o.host,
        port: parsePort(o.port, '--port'),
        interval,
      });
      process.stderr.write(
        `tracker listening on udp://${server.address.host}:${server.address.port}/announce\n`,
      );
      await signals.next();
      signals.markStopping();
      await server.close();
      process.stderr.write('stopped\n');
    });

  return program;
}

/** Runs the command line with `argv` (as in `process.argv`). */
export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    fail(error, argv.includes('--json'));
  }
}
