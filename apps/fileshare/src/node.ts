/**
 * A share node: one torrent session (`@peerkit/piece-exchange`) wired to a DHT node
 * (`@peerkit/kademlia`). This module is the integration the protocol packages leave to the app:
 *
 * - the torrent listens on TCP (`port`), the DHT on UDP (`dhtPort`);
 * - the DHT joins through `bootstrap` addresses and the routing table saved last time;
 * - the node announces the torrent (BEP 5 `announce_peer` with its TCP port) at once and every
 *   `announceIntervalMs`, whether it is downloading or seeding; while the download is incomplete
 *   it runs `get_peers` lookups and hands every peer found, and every peer that announces itself
 *   to us, to the torrent (./dht-discovery.ts);
 * - HTTP trackers named by the torrent, the magnet or the caller get BEP 3 announces
 *   (./tracker-announcer.ts), and `peers` are dialled directly;
 * - `close()` tells the trackers we stop, closes the torrent (which saves resume data), saves
 *   the DHT routing table and closes the sockets.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DHT, loadState, saveState } from '@peerkit/kademlia';
import {
  type EncryptionPolicy,
  formatMagnet,
  parseTorrent,
  requireV1,
  Torrent,
  type TorrentInfo,
  type TorrentStats,
  torrentInfoFromMetainfo,
} from '@peerkit/piece-exchange';
import {
  type Address,
  formatAddress,
  isTransportError,
  type Network,
  nodeNetwork,
} from '@peerkit/transport';
import { startDhtDiscovery } from './dht-discovery';
import { CliError, describeError, errorCode } from './errors';
import type { NodeEventHandler, PeerTotals, StatusFields } from './events';
import { PeerTotalsTracker } from './peer-totals';
import type { StateDir } from './state-dir';
import { readIfExists, writeAtomic } from './state-dir';
import { throttledNetwork } from './throttle';
import { startTrackerAnnouncer } from './tracker-announcer';

export interface ShareNodeOptions {
  /** The content, when known (a .torrent, or `share`). */
  info?: TorrentInfo;
  /** For a magnet link or a bare info-hash: the info dictionary is fetched from peers (BEP 9). */
  infoHash?: Uint8Array;
  /** Display name from a magnet's `dn`. */
  displayName?: string;
  /** Directory the torrent's files are (or go) under. */
  directory: string;
  state: StateDir;
  /** Address to bind TCP and UDP on (default 0.0.0.0). */
  host?: string;
  /** TCP port for peer connections (default 0: any free port). */
  port?: number;
  /** UDP port for the DHT (default 0). */
  dhtPort?: number;
  /** Run a DHT node (default true). */
  dht?: boolean;
  /** DHT nodes to join through; without them the saved routing table is used. */
  bootstrap?: readonly Address[];
  /** Peers to connect to directly. */
  peers?: readonly Address[];
  /** Tracker announce URLs (from the .torrent or the magnet's `tr`); HTTP(S) ones are used. */
  trackers?: readonly string[];
  /** Bytes per second, across all peers. */
  maxUploadRate?: number;
  /** MSE/PE policy for peer connections (piece-exchange's `encryption`, default `prefer`). */
  encryption?: EncryptionPolicy;
  /** Verify every piece on disk at start instead of trusting resume data. */
  recheck?: boolean;
  /**
   * The content on disk was just hashed into `info` by the caller (`share` making a torrent):
   * seed at once, without hashing or resume data (piece-exchange's `assumeComplete`).
   */
  assumeComplete?: boolean;
  /** Default 15 minutes. */
  announceIntervalMs?: number;
  /** Default 1000 ms. */
  statusIntervalMs?: number;
  /** Where sockets come from (default `nodeNetwork()`). */
  network?: Network;
  onEvent?: NodeEventHandler;
}

export interface ShareNode {
  readonly torrent: Torrent;
  readonly dht: DHT | undefined;
  readonly infoHashHex: string;
  readonly magnet: string;
  /** The TCP address peers connect to. */
  readonly address: Address;
  readonly dhtAddress: Address | undefined;
  /** Resolves when every piece is verified. */
  whenDone(): Promise<void>;
  status(): StatusFields;
  peerTotals(): PeerTotals;
  /** Stops cleanly: lookups, torrent (resume data saved), DHT (routing table saved), sockets. */
  close(signal?: string): Promise<void>;
}

/**
 * Bytes not yet verified (BEP 3 `left`, exact). Before the metadata the size is unknown: a
 * tracker still needs a number, and one that is not 0 (we are not a seed).
 */
function bytesLeft(stats: TorrentStats): number {
  return stats.left ?? 16_384;
}

/** Wraps a TCP/UDP bind failure into the CLI's one-line error. */
function bindError(error: unknown, what: string, port: number | undefined): unknown {
  if (isTransportError(error, 'ADDRESS_IN_USE')) {
    return new CliError(
      'PORT_IN_USE',
      `${what} port ${port ?? 0} is already in use (choose another with ${what === 'TCP' ? '--port' : '--dht-port'})`,
      {
        cause: error,
      },
    );
  }
  return error;
}

/** Starts a node for one torrent; resolves once its sockets are bound. */
export async function startShareNode(options: ShareNodeOptions): Promise<ShareNode> {
  const emit: NodeEventHandler = options.onEvent ?? (() => undefined);
  const network = options.network ?? nodeNetwork();
  const host = options.host ?? '0.0.0.0';
  const infoHash = options.info?.infoHash ?? options.infoHash;
  if (infoHash === undefined) throw new RangeError('startShareNode needs `info` or `infoHash`');
  const hex = Buffer.from(infoHash).toString('hex');
  const started = network.clock.now();

  // A magnet fetched before: its info dictionary was saved in the state directory.
  let info = options.info;
  const savedTorrent = options.state.torrentPath(hex);
  if (info === undefined) {
    const bytes = await readIfExists(savedTorrent);
    if (bytes !== undefined) {
      try {
        info = torrentInfoFromMetainfo(requireV1(parseTorrent(bytes)));
      } catch (error) {
        emit({
          type: 'warning',
          code: errorCode(error),
          message: `ignoring ${savedTorrent}: ${describeError(error)}`,
        });
      }
    }
  }

  const torrentNetwork = options.maxUploadRate
    ? throttledNetwork(network, options.maxUploadRate)
    : network;
  let torrent: Torrent;
  try {
    torrent = await Torrent.open({
      network: torrentNetwork,
      directory: options.directory,
      ...(info ? { info } : { infoHash }),
      listen: { host, port: options.port ?? 0 },
      resume: options.state.resumePath(hex),
      recheck: options.recheck ?? false,
      assumeComplete: options.assumeComplete ?? false,
      clientName: 'peerkit-share 0.1',
      encryption: options.encryption ?? 'prefer',
    });
  } catch (error) {
    throw bindError(error, 'TCP', options.port);
  }

  let dht: DHT | undefined;
  if (options.dht !== false) {
    try {
      const state = await loadState(options.state.dhtPath).catch((error: unknown) => {
        emit({
          type: 'warning',
          code: errorCode(error),
          message: `ignoring saved DHT table: ${describeError(error)}`,
        });
        return undefined;
      });
      dht = new DHT({ network, ...(state ? { state } : {}) });
      await dht.listen({ host, port: options.dhtPort ?? 0 });
    } catch (error) {
      await dht?.close();
      await torrent.close();
      throw bindError(error, 'UDP', options.dhtPort);
    }
  }

  const address: Address = torrent.listenAddress!;
  const magnet = formatMagnet({
    infoHash,
    ...((info?.name ?? options.displayName) ? { name: info?.name ?? options.displayName } : {}),
    trackers: [],
    peers: [],
    webSeeds: [],
  });
  emit({ type: 'listening', host, port: address.port, dhtPort: dht?.address.port });
  emit({
    type: 'torrent',
    infoHash: hex,
    magnet,
    name: info?.name ?? options.displayName,
    torrentFile: info ? savedTorrent : undefined,
  });

  const peerTotals = new PeerTotalsTracker();
  const status = (): StatusFields => {
    const s = torrent.stats();
    peerTotals.observe(s);
    return {
      verified: s.verifiedPieces,
      pieces: s.pieceCount,
      length: s.totalLength,
      downloaded: s.downloaded,
      uploaded: s.uploaded,
      downloadRate: Math.round(s.downloadRate),
      uploadRate: Math.round(s.uploadRate),
      peers: s.peers.length,
      left: s.left,
      eta: s.done || s.downloadRate <= 0 ? undefined : Math.ceil(bytesLeft(s) / s.downloadRate),
    };
  };

  // --- torrent events -------------------------------------------------------------------------
  const reportMetadata = (i: TorrentInfo, fetched: boolean) => {
    const length = i.files.reduce((n, f) => n + f.length, 0);
    const pieces = Math.ceil(length / i.pieceLength);
    const files = i.files.filter((f) => !f.padding).length;
    emit({
      type: 'metadata',
      name: i.name,
      length,
      pieces,
      pieceLength: i.pieceLength,
      files,
      fetched,
    });
    emit({ type: 'resumed', verified: torrent.stats().resumedPieces, pieces });
  };
  if (torrent.info !== undefined) reportMetadata(torrent.info, false);
  torrent.on('metadata', (fetchedInfo) => {
    // Keep the fetched info dictionary (as a minimal .torrent), so a restart need not fetch it.
    if (fetchedInfo.infoBytes !== undefined) {
      const bytes = Buffer.concat([
        Buffer.from('d4:info'),
        fetchedInfo.infoBytes,
        Buffer.from('e'),
      ]);
      void writeAtomic(savedTorrent, bytes).catch((error: unknown) =>
        emit({
          type: 'warning',
          code: errorCode(error),
          message: `cannot save ${savedTorrent}: ${describeError(error)}`,
        }),
      );
    }
    reportMetadata(fetchedInfo, true);
  });
  torrent.on('piece', ({ index, contributors }) => {
    const s = torrent.stats();
    peerTotals.observe(s);
    peerTotals.piece(contributors);
    emit({
      type: 'piece',
      index,
      verified: s.verifiedPieces,
      pieces: s.pieceCount,
      from: contributors.map((c) => c.listenAddress ?? c.address),
    });
  });
  torrent.on('hashFailure', ({ index, peers }) => emit({ type: 'hash-failure', index, peers }));
  torrent.on('peer', (event) => {
    if (event.type === 'disconnect') peerTotals.observe(torrent.stats());
    const reasons = [
      event.type === 'rejected' ? event.reason : undefined,
      event.error ? describeError(event.error) : undefined,
    ].filter((r) => r !== undefined);
    emit({
      type: 'peer',
      action: event.type,
      address: formatAddress(event.address),
      ...(reasons.length > 0 ? { reason: reasons.join(': ') } : {}),
    });
  });
  torrent.on('error', (error) =>
    emit({ type: 'warning', code: errorCode(error), message: describeError(error) }),
  );

  const alreadyDone = torrent.done;
  const done = torrent.whenDone().then(() => {
    const s = torrent.stats();
    peerTotals.observe(s);
    emit({
      type: 'done',
      elapsedMs: network.clock.now() - started,
      downloaded: s.downloaded,
      resumed: s.resumedPieces,
      peerTotals: peerTotals.totals(),
      path: join(options.directory, torrent.info?.name ?? ''),
    });
  });

  // --- peer discovery: --peer, the DHT, trackers ----------------------------------------------
  let closed = false;
  const isSelf = (peer: Address) =>
    peer.port === address.port &&
    (peer.host === '127.0.0.1' || peer.host === '::1' || peer.host === address.host);
  const feed = (peer: Address) => {
    if (!closed && !isSelf(peer)) torrent.addPeer(peer);
  };
  for (const peer of options.peers ?? []) feed(peer);
  const hasTrackers = (options.trackers ?? []).some((url) => /^https?:/i.test(url));
  if (dht === undefined && (options.peers ?? []).length === 0 && !hasTrackers && !torrent.done) {
    emit({
      type: 'warning',
      code: 'NO_PEER_SOURCE',
      message: 'no DHT, no --peer and no HTTP tracker: only peers that connect to us can be used',
    });
  }
  const discovery =
    dht === undefined
      ? undefined
      : startDhtDiscovery({
          dht,
          clock: network.clock,
          infoHash,
          port: address.port,
          bootstrap: options.bootstrap ?? [],
          isDone: () => torrent.done,
          feed,
          emit,
          ...(options.announceIntervalMs !== undefined
            ? { announceIntervalMs: options.announceIntervalMs }
            : {}),
        });
  const trackers = startTrackerAnnouncer({
    urls: options.trackers ?? [],
    clock: network.clock,
    infoHash,
    peerId: torrent.peerId,
    port: address.port,
    counters: () => {
      const s = torrent.stats();
      return { uploaded: s.uploaded, downloaded: s.downloaded, left: bytesLeft(s) };
    },
    completed: alreadyDone ? new Promise<void>(() => undefined) : done,
    feed,
    emit,
  });

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
      discovery?.stop();
      // Trackers are told we leave (BEP 3 `event=stopped`, at most 3 s). BEP 5 has no such
      // message: DHT nodes forget our announce when it expires (30 min).
      await trackers.stop();
      await torrent.close();
      if (dht !== undefined) {
        try {
          await mkdir(dirname(options.state.dhtPath), { recursive: true });
          await saveState(options.state.dhtPath, dht.toState());
        } catch (error) {
          emit({
            type: 'warning',
            code: errorCode(error),
            message: `cannot save DHT table: ${describeError(error)}`,
          });
        }
        await dht.close();
      }
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
    dhtAddress: dht?.address,
    whenDone: () => done,
    status,
    peerTotals: () => peerTotals.totals(),
    close,
  };
}
