/**
 * `peerkit-share seed-dir <dir>`: seed every `.torrent` in a folder from one process on one port,
 * as transmission-daemon or qBittorrent users do (piece-exchange's `TorrentClient`: one
 * listener, one tick, shared connection, upload-slot, rate and disk limits).
 *
 * Each torrent's content is looked for next to its .torrent (`<dir>/<name>`), or under `--data
 * <dir>` when given. It is checked as `share --torrent` checks it: resume data in the state
 * directory is trusted only for files whose size and modification time did not change, and a
 * torrent seen for the first time is hashed in full. A torrent that cannot be seeded (unreadable
 * .torrent, content missing or not matching, files locked by another process) is reported in
 * one line and left out; the others are seeded. The same locks as `share` apply: one process
 * per torrent and state directory, one writer per set of files.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  type StorageLock,
  type Torrent,
  TorrentClient,
  torrentInfoFromMetainfo,
} from '@peerkit/piece-exchange';
import { type Address, isTransportError, type Network, nodeNetwork } from '@peerkit/transport';
import { dualNetwork, type UtpNetwork, utpNetwork } from '@peerkit/utp';
import { CliError, describeError, errorCode } from '../errors';
import { readTorrentFile } from '../input';
import type { TransportMode } from '../node';
import { lockTorrentState, storageErrorForCli } from '../node-storage';
import type { StateDir } from '../state-dir';
import { readIfExists } from '../state-dir';

export interface SeedDirOptions {
  /** The folder of .torrent files. */
  dir: string;
  /** Where the content is (default: `dir`, next to the .torrent files). */
  data?: string;
  state: StateDir;
  host?: string;
  port?: number;
  transport?: TransportMode;
  maxUploadRate?: number;
  maxDownloadRate?: number;
  maxConnections?: number;
  uploadSlots?: number;
  encryption?: 'prefer' | 'require' | 'plain';
  network?: Network;
  /** One event per torrent and peer (`--json`: each carries the torrent's `infoHash`). */
  onEvent: (name: string, fields: Readonly<Record<string, unknown>>) => void;
}

export interface SeededTorrent {
  readonly file: string;
  readonly infoHash: string;
  readonly name: string;
  readonly torrent: Torrent;
}

export interface SeedDirNode {
  readonly client: TorrentClient;
  readonly address: Address;
  readonly seeding: readonly SeededTorrent[];
  /** The .torrent files left out, with the one line that says why. */
  readonly skipped: readonly { file: string; code: string; message: string }[];
  close(): Promise<void>;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

async function torrentFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw new CliError('MISSING_PATH', `cannot read the folder ${dir}: ${describeError(error)}`, {
      cause: error,
    });
  }
  const files = names.filter((n) => n.endsWith('.torrent')).sort();
  if (files.length === 0) throw new CliError('NO_TORRENTS', `no .torrent files in ${dir}`);
  return files.map((n) => join(dir, n));
}

function clientNetwork(base: Network, transport: TransportMode) {
  const utp: UtpNetwork | undefined = transport !== 'tcp' ? utpNetwork(base) : undefined;
  const network = utp === undefined ? base : transport === 'utp' ? utp : dualNetwork(utp, base);
  return { network, utp };
}

export async function runSeedDir(options: SeedDirOptions): Promise<SeedDirNode> {
  const dir = resolve(options.dir);
  const data = resolve(options.data ?? options.dir);
  const files = await torrentFiles(dir);
  const emit = options.onEvent;
  const transport = options.transport ?? 'both';
  const { network, utp } = clientNetwork(options.network ?? nodeNetwork(), transport);
  const port = options.port ?? 0;
  let client: TorrentClient;
  try {
    client = await TorrentClient.open({
      network,
      listen: { host: options.host ?? '0.0.0.0', port },
      ...(options.maxUploadRate ? { uploadRate: options.maxUploadRate } : {}),
      ...(options.maxDownloadRate ? { downloadRate: options.maxDownloadRate } : {}),
      ...(options.maxConnections ? { maxConnections: options.maxConnections } : {}),
      ...(options.uploadSlots ? { uploadSlots: options.uploadSlots } : {}),
      ...(options.encryption ? { encryption: options.encryption } : {}),
    });
  } catch (error) {
    await utp?.close();
    if (isTransportError(error, 'ADDRESS_IN_USE'))
      throw new CliError(
        'PORT_IN_USE',
        `port ${port} is already in use (choose another with --port)`,
        {
          cause: error,
        },
      );
    throw error;
  }
  const address = client.listenAddress!;
  emit('listening', { host: address.host, port: address.port, transport });
  const seeding: SeededTorrent[] = [];
  const skipped: { file: string; code: string; message: string }[] = [];
  const stateLocks: StorageLock[] = [];
  for (const file of files) {
    let infoHash: string | undefined;
    let stateLock: StorageLock | undefined;
    try {
      const { metainfo } = await readTorrentFile(file);
      const info = torrentInfoFromMetainfo(metainfo);
      infoHash = hex(info.infoHash);
      await stat(join(data, metainfo.name)).catch((error: unknown) => {
        throw new CliError('MISSING_PATH', `${join(data, metainfo.name)} is missing`, {
          cause: error,
        });
      });
      stateLock = await lockTorrentState(options.state, infoHash);
      const resume = options.state.resumePath(infoHash);
      // First time this torrent is seeded from here: verify the content against it.
      const recheck = (await readIfExists(resume)) === undefined;
      const torrent = await client.add({
        directory: data,
        info,
        resume,
        recheck,
      });
      const { verifiedPieces, pieceCount } = torrent.stats();
      if (verifiedPieces < pieceCount) {
        await client.remove(torrent);
        throw new CliError(
          'CONTENT_MISMATCH',
          `${join(data, metainfo.name)} does not match: only ${verifiedPieces} of ${pieceCount} pieces are valid`,
        );
      }
      stateLocks.push(stateLock);
      seeding.push({ file, infoHash, name: metainfo.name, torrent });
      forwardEvents(torrent, infoHash, emit);
      emit('seeding', { infoHash, name: metainfo.name, file, pieces: pieceCount });
    } catch (error) {
      await stateLock?.release();
      const cli = storageErrorForCli(error);
      const entry = { file, code: errorCode(cli), message: describeError(cli) };
      skipped.push(entry);
      emit('torrent-error', { ...entry, ...(infoHash ? { infoHash } : {}) });
    }
  }
  const close = async () => {
    await client.close();
    await Promise.all(stateLocks.map((l) => l.release()));
    await utp?.close();
  };
  if (seeding.length === 0) {
    await close();
    throw new CliError(
      'NO_TORRENTS',
      `none of the ${files.length} torrents in ${dir} can be seeded`,
    );
  }
  emit('ready', { seeding: seeding.length, skipped: skipped.length, port: address.port });
  return { client, address, seeding, skipped, close };
}

/** A torrent's peer and upload events, each with its info-hash. */
function forwardEvents(torrent: Torrent, infoHash: string, emit: SeedDirOptions['onEvent']): void {
  torrent.on('peer', (e) => {
    const address = `${e.address.host}:${e.address.port}`;
    emit('peer', {
      infoHash,
      action: e.type,
      address,
      ...('transport' in e && e.transport !== undefined ? { transport: e.transport } : {}),
    });
  });
  torrent.on('error', (error) =>
    emit('storage-error', { infoHash, code: errorCode(error), message: describeError(error) }),
  );
}
