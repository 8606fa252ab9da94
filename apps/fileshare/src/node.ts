/**
 * A share node: one torrent session (`@peerkit/piece-exchange`) wired to a DHT node
 * (`@peerkit/kademlia`). This module is the integration the protocol packages leave to the app:
 *
 * - the torrent listens on uTP (BEP 29, @peerkit/utp) and TCP on one port number (`port`) and
 *   dials uTP first with TCP as the fallback (`transport`: 'both', or only 'utp' or 'tcp'); the
 *   DHT shares the uTP socket (one UDP port, as libtorrent does) unless `dhtPort` says another;
 * - the DHT joins through `bootstrap` addresses and the routing table saved last time;
 * - the node announces the torrent (BEP 5 `announce_peer` with its TCP port) at once and every
 *   `announceIntervalMs`, whether it is downloading or seeding; while the download is incomplete
 *   it runs `get_peers` lookups and hands every peer found, and every peer that announces itself
 *   to us, to the torrent (./dht-discovery.ts);
 * - trackers named by the torrent (BEP 12 tiers), the magnet or the caller, `http://`,
 *   `https://` and `udp://`, get BEP 3 announces (./node-trackers.ts), and `peers` are dialled
 *   directly;
 * - a private torrent (BEP 27) never opens the DHT: trackers and `peers` only;
 * - `close()` tells the trackers we stop, closes the torrent (which saves resume data), saves
 *   the DHT routing table and closes the sockets.
 *
 * Its parts: events and status (./node-report.ts), peer sources (./node-peers.ts), and your
 * files (./node-storage.ts: the torrent's lock in the state directory, disk errors that end a
 * download or are retried while seeding; piece-exchange locks the files themselves, never
 * follows a link and never overwrites a file that is not this torrent's data).
 */
import type { DHT } from '@peerkit/kademlia';
import {
  type EncryptionPolicy,
  type ExistingFilePolicy,
  formatMagnet,
  type MagnetLink,
  parseTorrent,
  Torrent,
  type TorrentInfo,
  type TorrentOptions,
  torrentInfoFromMetainfo,
} from '@peerkit/piece-exchange';
import { type Address, formatAddress, type Network, nodeNetwork } from '@peerkit/transport';
import { dualNetwork, type UtpNetwork, utpNetwork } from '@peerkit/utp';
import { reportingDials } from './dial-report';
import { describeError, errorCode } from './errors';
import type { NodeEventHandler, PeerTotals, StatusFields } from './events';
import { bindError, closeDht, openDht } from './node-dht';
import { startPeerSources } from './node-peers';
import { reportDone, reportTorrentEvents, torrentStatus } from './node-report';
import { lockTorrentState, storageErrorForCli, watchStorageErrors } from './node-storage';
import { PeerTotalsTracker } from './peer-totals';
import type { StateDir } from './state-dir';
import { readIfExists } from './state-dir';
import { limitedNetwork } from './throttle';

/** Which transports peer connections use: uTP then TCP (`both`), or only one. */
export type TransportMode = 'utp' | 'tcp' | 'both';

export interface ShareNodeOptions {
  /** The content, when known (a .torrent, or `share`). */
  info?: TorrentInfo;
  /** For a magnet link or a bare info-hash: the info dictionary is fetched from peers (BEP 9). */
  infoHash?: Uint8Array;
  /** A magnet's v2 (SHA-256) info-hash: what the fetched info dictionary is checked against. */
  infoHashV2?: Uint8Array;
  /** Display name from a magnet's `dn`. */
  displayName?: string;
  /** Directory the torrent's files are (or go) under. */
  directory: string;
  state: StateDir;
  /** Address to bind TCP and UDP on (default 0.0.0.0). */
  host?: string;
  /** Port for peer connections, TCP and/or uTP (UDP) (default 0: any free port). */
  port?: number;
  /** UDP port for the DHT (default: the uTP port when uTP is on, else any free port). */
  dhtPort?: number;
  /** Peer connections over uTP then TCP (`both`, the default), or only `utp` or `tcp`. */
  transport?: TransportMode;
  /** Run a DHT node (default true; never for a private torrent, BEP 27). */
  dht?: boolean;
  /** DHT nodes to join through; without them the saved routing table is used. */
  bootstrap?: readonly Address[];
  /** Peers to connect to directly. */
  peers?: readonly Address[];
  /**
   * Trackers: each entry a URL (a tier of its own: `--tracker`, a magnet's `tr`) or a BEP 12
   * tier (a .torrent's `announce-list`); `http://`, `https://` and `udp://` ones are used.
   */
  trackers?: readonly (string | readonly string[])[];
  /** Bytes per second, across all peers. */
  maxUploadRate?: number;
  /** MSE/PE policy for peer connections (piece-exchange's `encryption`, default `prefer`). */
  encryption?: EncryptionPolicy;
  /** Bytes per second, across all peers. */
  maxDownloadRate?: number;
  /** Verify every piece on disk at start instead of trusting resume data. */
  recheck?: boolean;
  /** A file already there that is not this torrent's data: refuse (`verify`, default) or overwrite. */
  existing?: ExistingFilePolicy;
  /** A disk error before every piece is verified ends the node (`get`) instead of a retry. */
  failOnStorageError?: boolean;
  /** Delay before a session paused by a disk error is resumed (default 30 s). */
  storageRetryMs?: number;
  /** Stops a re-check between two pieces (Ctrl-C): starting rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * The content on disk was just hashed into `info` by the caller (`share` making a torrent):
   * seed at once, without hashing or resume data (piece-exchange's `assumeComplete`).
   */
  assumeComplete?: boolean;
  /** Default 15 minutes. */
  announceIntervalMs?: number;
  /** Default 1000 ms. */
  statusIntervalMs?: number;
  /** Where sockets come from (default `nodeNetwork()`): TCP streams and UDP datagrams. */
  network?: Network;
  /** Which files to download, and which first (piece-exchange's `filePriorities`). */
  filePriorities?: TorrentOptions['filePriorities'];
  onEvent?: NodeEventHandler;
}

export interface ShareNode {
  readonly torrent: Torrent;
  readonly dht: DHT | undefined;
  readonly infoHashHex: string;
  readonly magnet: string;
  /** The address peers connect to (TCP and/or uTP, per `transport`). */
  readonly address: Address;
  readonly transport: TransportMode;
  readonly dhtAddress: Address | undefined;
  /** Resolves when every piece is verified. */
  whenDone(): Promise<void>;
  /** Resolves with the error that ended the node (`failOnStorageError`); else never. */
  whenFailed(): Promise<Error>;
  status(): StatusFields;
  peerTotals(): PeerTotals;
  /** Stops cleanly: lookups, torrent (resume data saved), DHT (routing table saved), sockets. */
  close(signal?: string): Promise<void>;
}

/**
 * Which socket of the peer port could not be bound, for the message: with `both`, Node's
 * `syscall` tells a TCP `listen` from a UDP `bind`.
 */
function peerPortKind(transport: TransportMode, error: unknown): string {
  if (transport === 'tcp') return 'TCP';
  if (transport === 'utp') return 'UDP (uTP)';
  const cause = error instanceof Error ? error.cause : undefined;
  const syscall = typeof cause === 'object' && cause !== null ? Reflect.get(cause, 'syscall') : '';
  return syscall === 'listen' ? 'TCP' : 'UDP (uTP)';
}

/**
 * The network peer connections use, over `base`'s sockets: uTP (`utp`), TCP (`tcp`), or uTP
 * first with TCP as the fallback on the same port number (`both`), then the rate limits, then
 * failed dials reported as `peer` `rejected` events (with `both`: once TCP failed as well).
 */
function peerNetwork(
  base: Network,
  transport: TransportMode,
  options: ShareNodeOptions,
  emit: NodeEventHandler,
): { network: Network; utp: UtpNetwork | undefined } {
  const utp = transport !== 'tcp' ? utpNetwork(base) : undefined;
  const chosen = utp === undefined ? base : transport === 'utp' ? utp : dualNetwork(utp, base);
  const limited = limitedNetwork(chosen, {
    ...(options.maxUploadRate ? { upload: options.maxUploadRate } : {}),
    ...(options.maxDownloadRate ? { download: options.maxDownloadRate } : {}),
  });
  const network = reportingDials(limited, (address, reason) =>
    emit({ type: 'peer', action: 'rejected', address: formatAddress(address), reason }),
  );
  return { network, utp };
}

/** A btmh magnet of a v2 info-hash: the session checks BEP 9 metadata against it (BEP 52). */
function v2Magnet(infoHashV2: Uint8Array): MagnetLink {
  return { infoHashV2, trackers: [], peers: [], webSeeds: [] };
}

/** The info dictionary of a magnet fetched before (saved in the state directory), if any. */
async function savedInfo(path: string, emit: NodeEventHandler): Promise<TorrentInfo | undefined> {
  const bytes = await readIfExists(path);
  if (bytes === undefined) return undefined;
  try {
    return torrentInfoFromMetainfo(parseTorrent(bytes));
  } catch (error) {
    emit({
      type: 'warning',
      code: errorCode(error),
      message: `ignoring ${path}: ${describeError(error)}`,
    });
    return undefined;
  }
}

/** Starts a node for one torrent; resolves once its sockets are bound. */
export async function startShareNode(options: ShareNodeOptions): Promise<ShareNode> {
  const emit: NodeEventHandler = options.onEvent ?? (() => undefined);
  const base = options.network ?? nodeNetwork();
  const transport = options.transport ?? 'both';
  const host = options.host ?? '0.0.0.0';
  const infoHash = options.info?.infoHash ?? options.infoHash;
  if (infoHash === undefined) throw new RangeError('startShareNode needs `info` or `infoHash`');
  const hex = Buffer.from(infoHash).toString('hex');
  const started = base.clock.now();
  const savedTorrent = options.state.torrentPath(hex);
  const info = options.info ?? (await savedInfo(savedTorrent, emit));

  // --- the torrent (locked: one process per torrent and state directory), then the DHT --------
  const stateLock = await lockTorrentState(options.state, hex);
  const { network, utp } = peerNetwork(base, transport, options, emit);
  const recheckLength = info?.files.reduce((n, f) => n + f.length, 0) ?? 0;
  let torrent: Torrent;
  try {
    torrent = await Torrent.open({
      network,
      directory: options.directory,
      ...(info ? { info } : { infoHash }),
      ...(!info && options.infoHashV2 ? { magnet: v2Magnet(options.infoHashV2) } : {}),
      listen: { host, port: options.port ?? 0 },
      resume: options.state.resumePath(hex),
      recheck: options.recheck ?? false,
      // A re-check reports its progress as `hashing` events and stops on the signal.
      onRecheck: (piece) => {
        options.signal?.throwIfAborted();
        if (info === undefined) return;
        const hashed = Math.min(recheckLength, (piece + 1) * info.pieceLength);
        emit({ type: 'hashing', name: info.name, hashed, length: recheckLength });
      },
      assumeComplete: options.assumeComplete ?? false,
      existing: options.existing ?? 'verify',
      clientName: 'peerkit-share 0.1',
      encryption: options.encryption ?? 'prefer',
      ...(options.filePriorities !== undefined ? { filePriorities: options.filePriorities } : {}),
    });
  } catch (error) {
    await utp?.close();
    await stateLock.release();
    throw storageErrorForCli(
      bindError(error, peerPortKind(transport, error), options.port, '--port'),
    );
  }
  let dht: DHT | undefined;
  // BEP 27: a private torrent gets its peers from its trackers only, never from the DHT.
  if (options.dht !== false && info?.private !== true) {
    try {
      // One UDP port for the DHT and uTP (as libtorrent does): the DHT takes the datagram side
      // of the uTP socket, unless --dht-port names another port.
      const dhtPort = options.dhtPort ?? (utp !== undefined ? torrent.listenAddress!.port : 0);
      dht = await openDht(options.state.dhtPath, utp ?? base, host, dhtPort, emit);
    } catch (error) {
      await torrent.close();
      await utp?.close();
      await stateLock.release();
      throw error;
    }
  }

  const address: Address = torrent.listenAddress!;
  const name = info?.name ?? options.displayName;
  const magnet = formatMagnet({
    infoHash,
    ...(name !== undefined ? { name } : {}),
    trackers: [],
    peers: [],
    webSeeds: [],
  });
  emit({ type: 'listening', host, port: address.port, dhtPort: dht?.address.port, transport });
  emit({
    type: 'torrent',
    infoHash: hex,
    magnet,
    name,
    torrentFile: info ? savedTorrent : undefined,
  });

  // --- what the torrent does: events, disk errors, peers, status -----------------------------
  const peerTotals = new PeerTotalsTracker();
  const status = () => torrentStatus(torrent, peerTotals);
  const report = { emit, peerTotals, savedTorrent };
  reportTorrentEvents(torrent, { ...report, clock: network.clock });
  const storage = watchStorageErrors(torrent, {
    emit,
    clock: network.clock,
    failOnStorageError: options.failOnStorageError ?? false,
    retryMs: options.storageRetryMs ?? 30_000,
  });
  const done = reportDone(torrent, {
    ...report,
    clock: network.clock,
    started,
    directory: options.directory,
  });
  const sources = startPeerSources({
    torrent,
    dht,
    address,
    clock: network.clock,
    network: base,
    host,
    infoHash,
    peers: options.peers ?? [],
    trackers: options.trackers ?? [],
    bootstrap: options.bootstrap ?? [],
    announceIntervalMs: options.announceIntervalMs,
    done,
    emit,
  });
  let closed = false;
  const statusTimer = network.clock.setInterval(() => {
    if (!closed) emit({ type: 'status', ...status() });
  }, options.statusIntervalMs ?? 1000);

  let closing: Promise<void> | undefined;
  const close = (signal?: string): Promise<void> => {
    closing ??= (async () => {
      emit({ type: 'stopping', signal });
      const last = status();
      const lastTotals = peerTotals.totals();
      closed = true;
      statusTimer.cancel();
      storage.stop();
      await sources.stop();
      await torrent.close();
      if (dht !== undefined) await closeDht(dht, options.state.dhtPath, emit);
      await utp?.close();
      await stateLock.release();
      emit({ type: 'stopped', ...last, peerTotals: lastTotals });
    })();
    return closing;
  };

  return {
    torrent,
    dht,
    infoHashHex: hex,
    magnet,
    address,
    transport,
    dhtAddress: dht?.address,
    whenDone: () => done,
    whenFailed: () => storage.failure,
    status,
    peerTotals: () => peerTotals.totals(),
    close,
  };
}
