/**
 * The `peerkit-share` command line: each command is a thin layer over a function exported from
 * the package (`createTorrentFile`, `describeTarget`, `runShare`, `runGet`, `runDhtNode`); this
 * file only parses arguments and prints. The conventions (JSON envelope, exit codes 0/1/2/130,
 * one-line errors, -q/-v, colour on stderr) come from @peerkit/cli-kit; docs/cli.md has them.
 */
import {
  addOutputOptions,
  createProgram,
  EXIT_INTERRUPTED,
  InterruptedError,
  Interrupts,
  Output,
  type OutputFlags,
  runProgram,
  verbosityFrom,
} from '@peerkit/cli-kit';
import { formatAddress } from '@peerkit/transport';
import type { Command } from 'commander';
import {
  addNodeOptions,
  type CommonOptionValues,
  describeSeeding,
  nodeOptionsFrom,
  runUntilStopped,
  seedLimitsFrom,
} from './commands/common';
import { createTorrentFile } from './commands/create';
import { runDhtNode } from './commands/dht-node';
import { runGet } from './commands/get';
import { describeTarget, formatSummary } from './commands/info';
import { addSeedDirCommand } from './commands/seed-dir-cli';
import { runShare } from './commands/share';
import { runStream } from './commands/stream';
import { runTracker } from './commands/tracker';
import type { NodeEvent } from './events';
import {
  addSelectionOptions,
  checkSelectionFlags,
  type FileSelectionFlags,
  filePrioritiesFor,
  hasSelection,
} from './file-selection';
import { parsePeerAddress, parsePort, parsePositive, parseSize } from './input';
import { formatBytes, humanReporter, jsonReporter, type Reporter } from './report';
import { openStateDir } from './state-dir';

const PROGRAM = 'peerkit-share';
const VERSION = '0.1.0';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

function outputFor(flags: OutputFlags): Output {
  return new Output({
    program: PROGRAM,
    json: flags.json === true,
    verbosity: verbosityFrom(flags),
  });
}

function reporterFor(out: Output, mode: 'get' | 'share' | 'create', afterDone?: string): Reporter {
  return out.json
    ? jsonReporter(out)
    : humanReporter(mode, out, afterDone !== undefined ? { afterDone } : {});
}

/** Ctrl-C while hashing: nothing was written; exit 130 after one line. */
function interrupted(out: Output, error: unknown, what: string): boolean {
  if (!(error instanceof InterruptedError)) return false;
  out.event('stopped', { signal: error.signal, interrupted: what });
  out.info(`stopped: ${what} interrupted (${error.signal}); nothing written`);
  process.exitCode = EXIT_INTERRUPTED;
  return true;
}

export function buildProgram(): Command {
  const program = createProgram({
    name: PROGRAM,
    version: VERSION,
    description:
      'Share and fetch files with BitTorrent peers found through the DHT (BEP 3, 5, 9, 10).',
  });

  addOutputOptions(
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
      .option('--no-date', 'leave out the creation date (same input, same bytes)')
      .option('--v2', 'a BitTorrent v2 torrent (BEP 52: SHA-256 merkle trees)')
      .option('--hybrid', 'a v1 + v2 hybrid torrent (BEP 52, BEP 47 pad files)')
      .option('-f, --force', 'overwrite the .torrent if it exists'),
  ).action(
    async (
      path: string,
      o: OutputFlags & {
        out?: string;
        pieceLength?: string;
        name?: string;
        tracker?: string[];
        private?: boolean;
        comment?: string;
        date: boolean;
        force?: boolean;
        v2?: boolean;
        hybrid?: boolean;
      },
    ) => {
      const out = outputFor(o);
      const interrupts = new Interrupts();
      const reporter = reporterFor(out, 'create');
      try {
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
          ...(o.date ? {} : { creationDate: null }),
          ...(o.force ? { force: true } : {}),
          ...(o.v2 || o.hybrid ? { version: o.hybrid ? 'hybrid' : 'v2' } : {}),
          signal: interrupts.signal,
          onProgress: (p) => reporter.event({ type: 'hashing', ...p }),
        });
        const m = made.metainfo;
        const infoHash = Buffer.from(m.infoHash ?? m.infoHashV2).toString('hex');
        out.event('created', {
          file: made.out,
          infoHash,
          ...(m.infoHashV2 ? { infoHashV2: Buffer.from(m.infoHashV2).toString('hex') } : {}),
          magnet: made.magnet,
          pieces: Math.ceil(m.length / m.pieceLength),
          pieceLength: made.metainfo.pieceLength,
          length: made.metainfo.length,
        });
        out.result(`wrote ${made.out}\ninfo-hash: ${infoHash}\nmagnet:    ${made.magnet}`);
      } catch (error) {
        reporter.close(); // what it holds comes before the outcome
        if (!interrupted(out, error, 'hashing')) throw error;
      } finally {
        reporter.close();
        interrupts.close();
      }
    },
  );

  addOutputOptions(
    program
      .command('info')
      .description('show what a .torrent file, magnet link or info-hash describes')
      .argument('<target>', '.torrent file, magnet link or info-hash'),
  ).action(async (target: string, o: OutputFlags) => {
    const out = outputFor(o);
    const summary = await describeTarget(target);
    out.event('info', { ...summary });
    out.result(formatSummary(summary, formatBytes).join('\n'));
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
      .option('--recheck', 'verify the files against the torrent before seeding')
      .option(
        '--seed-valid',
        'with --torrent: seed the pieces that match even when others do not (default: refuse)',
      ),
  ).action(
    async (
      path: string,
      o: CommonOptionValues & {
        torrent?: string;
        pieceLength?: string;
        recheck?: boolean;
        seedValid?: boolean;
      },
    ) => {
      const out = outputFor(o);
      const interrupts = new Interrupts();
      const seed = seedLimitsFrom(o);
      const reporter = reporterFor(out, 'share');
      const pieceLength =
        o.pieceLength !== undefined ? parseSize(o.pieceLength, '--piece-length') : undefined;
      try {
        const node = await runShare({
          path,
          ...(await nodeOptionsFrom(o, (e) => reporter.event(e))),
          ...(o.torrent !== undefined ? { torrentFile: o.torrent } : {}),
          ...(pieceLength !== undefined ? { pieceLength } : {}),
          ...(o.recheck ? { recheck: true } : {}),
          ...(o.seedValid ? { seedValid: true } : {}),
          signal: interrupts.signal,
        });
        if (seed.ratio !== undefined || seed.minutes !== undefined)
          out.info(describeSeeding(seed, false));
        await runUntilStopped(node, { interrupts, reporter, out, seed });
      } catch (error) {
        reporter.close(); // what it holds comes before the outcome
        if (!interrupted(out, error, 'hashing')) throw error;
      } finally {
        reporter.close();
        interrupts.close();
      }
    },
  );

  addSelectionOptions(
    addNodeOptions(
      program
        .command('get')
        .description(
          'download a torrent (magnet link, .torrent file or info-hash), verify it, then seed it',
        )
        .argument('<target>', 'magnet link, .torrent file or info-hash')
        .option('-o, --out <dir>', 'download directory', '.')
        .option('--exit-when-done', 'exit once every piece is verified instead of seeding')
        .option('--recheck', 'verify the files already on disk instead of trusting resume data')
        .option(
          '--overwrite',
          "write into files already in the download directory even if they are not this torrent's data",
        )
        .option(
          '--timeout <seconds>',
          'give up (exit 1) if the download is not complete after this many seconds',
        )
        .option(
          '--on-complete <command>',
          'run this shell command once every piece is verified (env: PEERKIT_PATH, PEERKIT_INFO_HASH, PEERKIT_NAME)',
        ),
    ),
  ).action(
    async (
      target: string,
      o: CommonOptionValues &
        FileSelectionFlags & {
          out: string;
          exitWhenDone?: boolean;
          recheck?: boolean;
          overwrite?: boolean;
          timeout?: string;
          onComplete?: string;
        },
    ) => {
      const out = outputFor(o);
      const interrupts = new Interrupts();
      const seed = seedLimitsFrom(o);
      const timeoutSeconds =
        o.timeout !== undefined ? parsePositive(o.timeout, '--timeout') : undefined;
      checkSelectionFlags(o);
      const reporter = reporterFor(out, 'get', describeSeeding(seed, o.exitWhenDone === true));
      let contentPath: string | undefined;
      const onEvent = (e: NodeEvent) => {
        if (e.type === 'done') contentPath = e.path;
        reporter.event(e);
      };
      try {
        const node = await runGet({
          target,
          out: o.out,
          ...(await nodeOptionsFrom(o, onEvent)),
          ...(o.recheck ? { recheck: true } : {}),
          ...(o.overwrite ? { existing: 'overwrite' as const } : {}),
          // Without selection flags a magnet's BEP 53 `so=` decides (piece-exchange).
          ...(hasSelection(o) ? { filePriorities: (files) => filePrioritiesFor(o, files) } : {}),
          signal: interrupts.signal,
        });
        await runUntilStopped(node, {
          interrupts,
          reporter,
          out,
          exitWhenDone: o.exitWhenDone === true,
          seed,
          ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
          ...(o.onComplete !== undefined ? { onComplete: o.onComplete } : {}),
          contentPath: () => contentPath,
        });
      } catch (error) {
        reporter.close(); // what it holds comes before the outcome
        if (!interrupted(out, error, 'the re-check')) throw error;
      } finally {
        reporter.close();
        interrupts.close();
      }
    },
  );

  addSelectionOptions(
    addNodeOptions(
      program
        .command('stream')
        .description(
          'download a torrent and serve one file over HTTP on 127.0.0.1 while it downloads (range requests: players can seek)',
        )
        .argument('<target>', 'magnet link, .torrent file or info-hash')
        .option(
          '--file <n>',
          'file to serve, counted from 1 as `info` lists them (default: the largest)',
        )
        .requiredOption('--port <port>', 'HTTP port on 127.0.0.1 (0: any free port)')
        .option('-o, --out <dir>', 'download directory', '.'),
      '--peer-port',
    ),
  ).action(
    async (
      target: string,
      o: CommonOptionValues &
        FileSelectionFlags & { peerPort?: string; file?: string; out: string },
    ) => {
      const out = outputFor(o);
      const interrupts = new Interrupts();
      const httpPort = parsePort(o.port!, '--port');
      const file = o.file !== undefined ? parsePositive(o.file, '--file', true) - 1 : undefined;
      checkSelectionFlags(o);
      const reporter = reporterFor(out, 'get', 'streaming until Ctrl-C');
      try {
        const node = await runStream({
          target,
          out: o.out,
          ...(await nodeOptionsFrom({ ...o, port: o.peerPort, peerPortFlag: '--peer-port' }, (e) =>
            reporter.event(e),
          )),
          httpPort,
          ...(file !== undefined ? { file } : {}),
          selection: o,
          signal: interrupts.signal,
        });
        out.event('serving', { url: node.server.url, port: node.server.port });
        out.info(`serving on ${node.server.url}  (e.g. mpv ${node.server.url})`);
        await runUntilStopped(node.node, { interrupts, reporter, out, seed: {} });
        await node.server.close();
      } catch (error) {
        if (!interrupted(out, error, 'the re-check')) throw error;
      } finally {
        reporter.close();
        interrupts.close();
      }
    },
  );

  addOutputOptions(
    program
      .command('dht-node')
      .description('run a standalone DHT bootstrap node (BEP 5) until interrupted')
      .option('--port <port>', 'UDP port', '6881')
      .option('--host <ip>', 'address to bind to', '0.0.0.0')
      .option('--bootstrap <host:port>', 'DHT node to join at start (repeatable)', collect)
      .option('--state-dir <dir>', 'where the routing table is saved (default: ~/.peerkit-share)'),
  ).action(
    async (
      o: OutputFlags & {
        port: string;
        host: string;
        bootstrap?: string[];
        stateDir?: string;
      },
    ) => {
      const out = outputFor(o);
      const interrupts = new Interrupts();
      const bootstrap = [];
      for (const text of o.bootstrap ?? [])
        bootstrap.push(await parsePeerAddress(text, '--bootstrap'));
      const port = parsePort(o.port, '--port');
      const state = await openStateDir(o.stateDir);
      const node = await runDhtNode({
        host: o.host,
        port,
        bootstrap,
        statePath: `${state.root}/dht-node.json`,
      });
      out.event('listening', {
        host: node.address.host,
        dhtPort: node.address.port,
        id: Buffer.from(node.dht.id).toString('hex'),
      });
      out.info(`DHT node listening on UDP ${node.address.host}:${node.address.port}`);
      const timer = setInterval(
        () => {
          out.event('status', { nodes: node.dht.table.size });
          out.info(`routing table: ${node.dht.table.size} node(s)`);
        },
        o.json ? 1000 : 30_000,
      );
      const signal = await interrupts.next();
      clearInterval(timer);
      out.event('stopping', { signal });
      out.info('stopping: saving the routing table');
      await node.close();
      out.event('stopped', {});
      out.info('stopped');
      interrupts.close();
    },
  );

  addSeedDirCommand(program, outputFor);

  addOutputOptions(
    program
      .command('tracker')
      .description('run an HTTP and UDP tracker (BEP 3, 15; in memory) until interrupted')
      .option('--port <port>', 'TCP (HTTP) and UDP port', '6969')
      .option('--host <ip>', 'address to bind to', '0.0.0.0')
      .option('--interval <seconds>', 'announce interval told to clients', '1800'),
  ).action(async (o: OutputFlags & { port: string; host: string; interval: string }) => {
    const out = outputFor(o);
    const interrupts = new Interrupts();
    const port = parsePort(o.port, '--port');
    const interval = parsePositive(o.interval, '--interval', true);
    const server = await runTracker({
      host: o.host,
      port,
      interval,
      // -v: every HTTP request, as the tracker sees it.
      onRequest: (r) =>
        out.detail(
          `${r.kind} from ${formatAddress(r.from)}${r.event !== undefined ? ` event=${r.event} left=${r.left}` : ''}${r.reason !== undefined ? `: ${r.reason}` : ''}`,
        ),
    });
    const where = formatAddress(server.address);
    const url = `http://${where}/announce`;
    const udpUrl = `udp://${where}/announce`;
    out.event('listening', { host: server.address.host, port: server.address.port, url, udpUrl });
    out.info(`tracker listening on ${url} and ${udpUrl}`);
    const signal = await interrupts.next();
    out.event('stopping', { signal });
    await server.close();
    out.event('stopped', {});
    out.info('stopped');
    interrupts.close();
  });

  return program;
}

/** Runs the command line with `argv` (as in `process.argv`); sets `process.exitCode`. */
export async function main(argv: readonly string[]): Promise<void> {
  process.exitCode = await runProgram(buildProgram(), argv);
}
