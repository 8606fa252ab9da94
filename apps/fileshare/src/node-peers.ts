/**
 * Where a share node's peers come from: `--peer` addresses, the DHT (./dht-discovery.ts: BEP 5
 * announces and lookups) and HTTP trackers (./tracker-announcer.ts: BEP 3). Every address found
 * is handed to the torrent, except our own.
 */
import { networkInterfaces } from 'node:os';
import type { DHT } from '@peerkit/kademlia';
import type { Torrent } from '@peerkit/piece-exchange';
import type { Address, Clock } from '@peerkit/transport';
import { startDhtDiscovery } from './dht-discovery';
import type { NodeEventHandler } from './events';
import { bytesLeft } from './node-report';
import { startTrackerAnnouncer } from './tracker-announcer';

export interface PeerSourceOptions {
  torrent: Torrent;
  dht: DHT | undefined;
  /** Our listen address (peers at it are ourselves). */
  address: Address;
  clock: Clock;
  infoHash: Uint8Array;
  peers: readonly Address[];
  trackers: readonly string[];
  bootstrap: readonly Address[];
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
  const hasTrackers = options.trackers.some((url) => /^https?:/i.test(url));
  if (dht === undefined && options.peers.length === 0 && !hasTrackers && !torrent.done) {
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
          clock: options.clock,
          infoHash: options.infoHash,
          port: address.port,
          bootstrap: options.bootstrap,
          isDone: () => torrent.done,
          feed,
          emit,
          ...(options.announceIntervalMs !== undefined
            ? { announceIntervalMs: options.announceIntervalMs }
            : {}),
        });
  const trackers = startTrackerAnnouncer({
    urls: options.trackers,
    clock: options.clock,
    infoHash: options.infoHash,
    peerId: torrent.peerId,
    port: address.port,
    counters: () => {
      const s = torrent.stats();
      return { uploaded: s.uploaded, downloaded: s.downloaded, left: bytesLeft(s) };
    },
    completed: torrent.done ? new Promise<void>(() => undefined) : options.done,
    feed,
    emit,
  });
  return {
    async stop() {
      stopped = true;
      discovery?.stop();
      // BEP 5 has no "stopped": DHT nodes forget our announce when it expires (30 min).
      await trackers.stop();
    },
  };
}
