/**
 * Where a share node's peers come from: `--peer` addresses, the DHT (./dht-discovery.ts: BEP 5
 * announces and lookups) and trackers (./node-trackers.ts: piece-exchange's announcer, BEP 3,
 * 12, 15). Every address found is handed to the torrent, except our own. A private torrent
 * (BEP 27) never uses the DHT: a magnet whose metadata says `private` stops its DHT lookups and
 * announces as soon as the metadata arrives.
 */
import { networkInterfaces } from 'node:os';
import type { DHT } from '@peerkit/kademlia';
import type { Torrent } from '@peerkit/piece-exchange';
import type { Address, Clock, Network } from '@peerkit/transport';
import { startDhtDiscovery } from './dht-discovery';
import type { NodeEventHandler } from './events';
import { bytesLeft } from './node-report';
import { startNodeTrackers } from './node-trackers';

export interface PeerSourceOptions {
  torrent: Torrent;
  dht: DHT | undefined;
  /** Our listen address (peers at it are ourselves). */
  address: Address;
  clock: Clock;
  /** The network trackers are reached on (not throttled). */
  network: Network;
  /** Bind address of the node (the UDP tracker client binds there too). */
  host: string;
  infoHash: Uint8Array;
  peers: readonly Address[];
  /** Tracker URLs (a tier each) and BEP 12 tiers. */
  trackers: readonly (string | readonly string[])[];
  bootstrap: readonly Address[];
  /** The DHT joined once for many torrents (`seed-dir`): no bootstrap per torrent. */
  dhtJoined?: Promise<number>;
  announceIntervalMs: number | undefined;
  /** Resolves when every piece is verified (trackers get `event=completed`). */
  done: Promise<void>;
  emit: NodeEventHandler;
}

export interface PeerSources {
  /** Stops lookups and tells the trackers we leave (BEP 3 `event=stopped`, at most 3 s). */
  stop(): Promise<void>;
}

/** `::ffff:1.2.3.4` (an IPv4 address as an IPv6 socket reports it) is `1.2.3.4`. */
function plainHost(host: string): string {
  const lower = host.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
}

/**
 * The hosts our listener answers on: the bound address itself, or for a wildcard bind
 * (`0.0.0.0`, `::`) every address of this machine's interfaces (loopback included); a `::`
 * listener also takes IPv4 (dual stack).
 */
export function listenHosts(
  listen: Address,
  interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces(),
): Set<string> {
  const host = plainHost(listen.host);
  if (host !== '0.0.0.0' && host !== '::') return new Set([host]);
  const hosts = new Set<string>([host]);
  for (const list of Object.values(interfaces)) {
    for (const entry of list ?? []) {
      if (host === '0.0.0.0' && entry.family !== 'IPv4') continue;
      hosts.add(plainHost(entry.address));
    }
  }
  return hosts;
}

/** Whether `peer` is our own listener (a DHT or tracker reply that lists us), by address. */
export function isOwnAddress(peer: Address, listen: Address, hosts: ReadonlySet<string>): boolean {
  return peer.port === listen.port && hosts.has(plainHost(peer.host));
}

export function startPeerSources(options: PeerSourceOptions): PeerSources {
  const { torrent, dht, address, emit } = options;
  let stopped = false;
  const ownHosts = listenHosts(address);
  const isSelf = (peer: Address) => isOwnAddress(peer, address, ownHosts);
  const feed = (peer: Address) => {
    if (!stopped && !isSelf(peer)) torrent.addPeer(peer);
  };
  for (const peer of options.peers) feed(peer);
  const hasTrackers = options.trackers.length > 0;
  if (dht === undefined && options.peers.length === 0 && !hasTrackers && !torrent.done) {
    emit({
      type: 'warning',
      code: 'NO_PEER_SOURCE',
      message: 'no DHT, no --peer and no tracker: only peers that connect to us can be used',
    });
  }
  const dhtDiscovery = () =>
    dht === undefined || torrent.info?.private
      ? undefined
      : startDhtDiscovery({
          dht,
          clock: options.clock,
          infoHash: options.infoHash,
          port: address.port,
          bootstrap: options.bootstrap,
          ...(options.dhtJoined !== undefined ? { joined: options.dhtJoined } : {}),
          isDone: () => torrent.done,
          feed,
          emit,
          ...(options.announceIntervalMs !== undefined
            ? { announceIntervalMs: options.announceIntervalMs }
            : {}),
        });
  const discovery = dhtDiscovery();
  // BEP 27: the metadata of a magnet says `private`: no more DHT for this torrent.
  const offMetadata = torrent.on('metadata', (info) => {
    if (info.private) discovery?.stop();
  });
  const trackers = startNodeTrackers({
    network: options.network,
    host: options.host,
    trackers: options.trackers,
    infoHash: options.infoHash,
    peerId: torrent.peerId,
    port: address.port,
    stats: () => {
      const s = torrent.stats();
      return { uploaded: s.uploaded, downloaded: s.downloaded, left: bytesLeft(s) };
    },
    feed,
    emit,
  });
  // BEP 3: `completed` only for a download that completes here (not one complete at start).
  if (!torrent.done) void options.done.then(() => trackers?.complete()).catch(() => undefined);
  return {
    async stop() {
      stopped = true;
      discovery?.stop();
      offMetadata();
      // BEP 5 has no "stopped": DHT nodes forget our announce when it expires (30 min).
      await trackers?.close();
    },
  };
}
