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
 *
 * Peers find each torrent as they find a `share`: its trackers (the .torrent's BEP 12 tiers and
 * `--tracker`) get BEP 3 announces with the torrent's own uploaded/downloaded/left
 * (../node-trackers.ts, through ../node-peers.ts), and a public torrent is announced on the DHT
 * (BEP 5) by one DHT node for all of them, on the client's UDP port (the uTP socket's datagram
 * side). A private torrent (BEP 27) is never announced on the DHT.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DHT } from '@peerkit/kademlia';
import {
  type StorageLock,
  type Torrent,
  TorrentClient,
  torrentInfoFromMetainfo,
} from '@peerkit/piece-exchange';
import { type Address, isTransportError, type Network, nodeNetwork } from '@peerkit/transport';
import { dualNetwork, type UtpNetwork, utpNetwork } from '@peerkit/utp';
import { CliError, describeError, errorCode } from '../errors';
import type { NodeEvent } from '../events';
import { readTorrentFile } from '../input';
import type { TransportMode } from '../node';
import { closeDht, openDht } from '../node-dht';
import { type PeerSources, startPeerSources } from '../node-peers';
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
  /** Trackers announced to for every torrent as well (`--tracker`: a tier each). */
  trackers?: readonly string[];
  /** Run a DHT node for the public torrents (default true; BEP 27: never for a private one). */
  dht?: boolean;
  /** UDP port of the DHT (default: the uTP port; any free port with `--transport tcp`). */
  dhtPort?: number;
  /** DHT nodes to join through; without them the saved routing table is used. */
  bootstrap?: readonly Address[];
  /** DHT re-announce interval (default 15 minutes). */
  announceIntervalMs?: number;
  network?: Network;
  /** One event per torrent and peer (`--json`: each carries the torrent's `infoHash`). */
  onEvent: (name: string, fields: Readonly<Record<string, unknown>>) => void;
}

export interface SeededTorrent {
  readonly file: string;
  readonly infoHash: string;
  readonly name: string;
  readonly torrent: Torrent;
  /** BEP 27: announced to its trackers only, never on the DHT. */
  readonly private: boolean;
  /** Its BEP 12 tiers (announce-list, or announce). */
  readonly trackers: readonly (readonly string[])[];
}

export interface SeedDirNode {
  readonly client: TorrentClient;
  readonly address: Address;
  /** The DHT node shared by the public torrents (none with `--no-dht` or no public torrent). */
  readonly dht: DHT | undefined;
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
  const base = options.network ?? nodeNetwork();
  const host = options.host ?? '0.0.0.0';
  const { network, utp } = clientNetwork(base, transport);
  const port = options.port ?? 0;
  let client: TorrentClient;
  try {
    client = await TorrentClient.open({
      network,
      listen: { host, port },
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
      seeding.push({
        file,
        infoHash,
        name: metainfo.name,
        torrent,
        private: metainfo.private,
        trackers: metainfo.announce,
      });
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
  let dht: DHT | undefined;
  let discovery: PeerSources | undefined;
  const close = async () => {
    // Trackers hear `stopped` (BEP 3, at most 3 s each, all at once) before the port closes.
    await discovery?.stop();
    await client.close();
    if (dht !== undefined) await closeDht(dht, options.state.dhtPath, nodeEmit(emit));
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
  // BEP 27: only public torrents bring the DHT up; one node serves them all.
  if (options.dht !== false && seeding.some((s) => !s.private)) {
    try {
      // One UDP port for the DHT and uTP (as `share` does), unless --dht-port names another.
      const dhtPort = options.dhtPort ?? (utp !== undefined ? address.port : 0);
      dht = await openDht(options.state.dhtPath, utp ?? base, host, dhtPort, nodeEmit(emit));
    } catch (error) {
      await close();
      throw error;
    }
  }
  discovery = startDiscovery(seeding, { ...options, address, host, network: base, dhtNode: dht });
  emit('ready', {
    seeding: seeding.length,
    skipped: skipped.length,
    port: address.port,
    ...(dht !== undefined ? { dhtPort: dht.address.port } : {}),
  });
  return { client, address, dht, seeding, skipped, close };
}

/** A node event (../events.ts) as a seed-dir event; with `infoHash` for one torrent's. */
function nodeEmit(emit: SeedDirOptions['onEvent'], infoHash?: string) {
  return (event: NodeEvent) => {
    const { type, ...fields } = event;
    emit(type, infoHash !== undefined ? { infoHash, ...fields } : fields);
  };
}

/**
 * Each torrent's trackers, and the DHT for the public ones (joined once: `dht-ready` and a
 * `DHT_EMPTY` warning are the node's, not each torrent's). The shared wiring of `share`
 * (../node-peers.ts): `tracker` events and warnings come per torrent, with its info-hash.
 */
function startDiscovery(
  seeding: readonly SeededTorrent[],
  context: SeedDirOptions & {
    address: Address;
    host: string;
    network: Network;
    dhtNode: DHT | undefined;
  },
): PeerSources {
  const { dhtNode: dht, onEvent: emit } = context;
  const bootstrap = context.bootstrap ?? [];
  let stopped = false;
  const joined = dht?.bootstrap(bootstrap).catch(() => 0);
  void joined?.then((nodes) => {
    if (stopped) return;
    emit('dht-ready', { nodes });
    if (nodes === 0)
      emit('warning', {
        code: 'DHT_EMPTY',
        message: 'no DHT nodes answered: pass --bootstrap host:port',
      });
  });
  const done = Promise.resolve();
  const sources = seeding.map((s) =>
    startPeerSources({
      torrent: s.torrent,
      dht: s.private ? undefined : dht,
      ...(joined !== undefined ? { dhtJoined: joined } : {}),
      address: context.address,
      clock: context.network.clock,
      network: context.network,
      host: context.host,
      infoHash: s.torrent.infoHash,
      peers: [],
      trackers: [...(context.trackers ?? []), ...s.trackers],
      bootstrap,
      announceIntervalMs: context.announceIntervalMs,
      done,
      emit: nodeEmit(emit, s.infoHash),
    }),
  );
  return {
    async stop() {
      stopped = true;
      await Promise.all(sources.map((s) => s.stop()));
    },
  };
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
