/**
 * The `seed-dir` command's options and output (the work is in ./seed-dir.ts): one line per
 * torrent seeded or left out, peer lines with -v, and with `--json` one event per line, each
 * torrent's carrying its `infoHash` (docs/cli.md).
 */
import { addOutputOptions, Interrupts, type Output, type OutputFlags } from '@peerkit/cli-kit';
import type { Address } from '@peerkit/transport';
import { type Command, Option } from 'commander';
import { parsePeerAddress, parsePort, parsePositive, parseSize } from '../input';
import { openStateDir } from '../state-dir';
import { parseTransport } from './common';
import { runSeedDir } from './seed-dir';

interface SeedDirValues extends OutputFlags {
  data?: string;
  host: string;
  port?: string;
  transport: string;
  stateDir?: string;
  maxUploadRate?: string;
  maxDownloadRate?: string;
  maxConnections?: string;
  uploadSlots?: string;
  encryption: 'prefer' | 'require' | 'plain';
  tracker?: string[];
  dht: boolean;
  dhtPort?: string;
  bootstrap?: string[];
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export function addSeedDirCommand(program: Command, outputFor: (flags: OutputFlags) => Output) {
  const command = program
    .command('seed-dir')
    .description(
      'seed every .torrent in a folder from one process on one port, announced to its trackers and (public torrents) the DHT, until interrupted',
    )
    .argument('<dir>', 'folder of .torrent files')
    .option('--data <dir>', 'where the content is (default: next to the .torrent files)')
    .option('--host <ip>', 'address to bind TCP and UDP to', '0.0.0.0')
    .option('--port <port>', 'the one port for every torrent, uTP (UDP) and TCP (default: any)')
    .option('--transport <utp|tcp|both>', 'accept peers over uTP, TCP, or both', 'both')
    .option(
      '--dht-port <port>',
      'UDP port for the DHT (default: the uTP port, or any free port with --transport tcp)',
    )
    .option(
      '--bootstrap <host:port>',
      'DHT node to join through (repeatable; default: the table saved by the last run)',
      collect,
    )
    .option(
      '--tracker <url>',
      'tracker to announce every torrent to as well: http://, https://, udp:// (repeatable)',
      collect,
    )
    .option('--no-dht', 'do not run a DHT node (trackers and incoming peers only)')
    .option('--state-dir <dir>', 'resume data, locks and the DHT table (default: ~/.peerkit-share)')
    .option('--max-upload-rate <bytes>', 'upload limit across all torrents, e.g. 512k or 2M')
    .option('--max-download-rate <bytes>', 'download limit across all torrents')
    .option('--max-connections <n>', 'peer connections across all torrents (default 500)')
    .option('--upload-slots <n>', 'unchoked peers across all torrents (default 8)')
    .addOption(
      new Option('--encryption <policy>', 'MSE/PE: prefer, require (RC4 only) or plain')
        .choices(['prefer', 'require', 'plain'])
        .default('prefer'),
    );
  addOutputOptions(command).action(async (dir: string, o: SeedDirValues) => {
    const out = outputFor(o);
    const interrupts = new Interrupts();
    try {
      const bootstrap: Address[] = [];
      for (const text of o.bootstrap ?? [])
        bootstrap.push(await parsePeerAddress(text, '--bootstrap'));
      const node = await runSeedDir({
        dir,
        ...(o.data !== undefined ? { data: o.data } : {}),
        state: await openStateDir(o.stateDir),
        host: o.host,
        ...(o.port !== undefined ? { port: parsePort(o.port, '--port') } : {}),
        transport: parseTransport(o.transport),
        ...(o.maxUploadRate !== undefined
          ? { maxUploadRate: parseSize(o.maxUploadRate, '--max-upload-rate') }
          : {}),
        ...(o.maxDownloadRate !== undefined
          ? { maxDownloadRate: parseSize(o.maxDownloadRate, '--max-download-rate') }
          : {}),
        ...(o.maxConnections !== undefined
          ? { maxConnections: parsePositive(o.maxConnections, '--max-connections', true) }
          : {}),
        ...(o.uploadSlots !== undefined
          ? { uploadSlots: parsePositive(o.uploadSlots, '--upload-slots', true) }
          : {}),
        encryption: o.encryption,
        ...(o.tracker !== undefined ? { trackers: o.tracker } : {}),
        dht: o.dht,
        ...(o.dhtPort !== undefined ? { dhtPort: parsePort(o.dhtPort, '--dht-port') } : {}),
        bootstrap,
        onEvent: (name, fields) => {
          out.event(name, fields);
          if (name === 'seeding') out.info(`seeding ${fields.name} (${fields.infoHash})`);
          else if (name === 'torrent-error') out.warn(`${fields.file}: ${fields.message}`);
          else if (name === 'listening') out.info(`listening on port ${fields.port}`);
          else if (name === 'peer')
            out.detail(`peer ${fields.action} ${fields.address} (${fields.infoHash})`);
          else if (name === 'warning')
            out.warn(
              fields.infoHash ? `${fields.infoHash}: ${fields.message}` : `${fields.message}`,
            );
          else if (name === 'tracker')
            out.detail(`tracker ${fields.url}: ${fields.peers} peers (${fields.infoHash})`);
          else if (name === 'dht-ready') out.detail(`DHT: ${fields.nodes} nodes`);
        },
      });
      out.info(
        `seeding ${node.seeding.length} of ${node.seeding.length + node.skipped.length} torrents on port ${node.address.port} until Ctrl-C`,
      );
      const signal = await interrupts.next();
      out.event('stopping', { signal });
      await node.close();
      out.event('stopped', { signal });
      out.info('stopped');
    } finally {
      interrupts.close();
    }
  });
}
