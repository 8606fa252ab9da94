/**
 * A small in-memory BEP 15 UDP tracker, bounded: at most `maxTorrents` torrents and
 * `maxPeersPerTorrent` peers each (the oldest announce is dropped), peers forgotten after
 * `peerTimeoutMs` without an announce. Connection ids are random, valid for 2 minutes and only
 * from the address they were given to (BEP 15). Used by the tests; how a learner sees the
 * protocol from the tracker's side.
 */
import type { Address, DatagramSocket, Network } from '@peerkit/transport';
import {
  decodeUdpRequest,
  encodeUdpResponse,
  type PeerAddress,
  type UdpRequest,
  type UdpResponse,
} from './udp-messages';

/** BEP 15: a tracker accepts a connection id for two minutes. */
export const SERVER_CONNECTION_ID_LIFETIME_MS = 120_000;

export interface TrackerServerOptions {
  host: string;
  port?: number;
  /** Announce interval told to clients (seconds, default 1800). */
  interval?: number;
  maxTorrents?: number;
  maxPeersPerTorrent?: number;
  /** Most peers in one answer (default 50; BEP 15 fits 200 IPv4 peers in a packet). */
  maxNumWant?: number;
  peerTimeoutMs?: number;
}

interface SwarmPeer extends PeerAddress {
  left: number;
  seenAt: number;
}

export class UdpTrackerServer {
  readonly #network: Network;
  readonly #socket: DatagramSocket;
  readonly #options: Required<Omit<TrackerServerOptions, 'host' | 'port'>>;
  /** info-hash hex → peer key (host|port) → peer, in announce order. */
  readonly #torrents = new Map<string, Map<string, SwarmPeer>>();
  readonly #connectionIds = new Map<bigint, { from: string; at: number }>();
  readonly #completed = new Map<string, number>();

  private constructor(network: Network, socket: DatagramSocket, options: TrackerServerOptions) {
    this.#network = network;
    this.#socket = socket;
    this.#options = {
      interval: options.interval ?? 1800,
      maxTorrents: options.maxTorrents ?? 10_000,
      maxPeersPerTorrent: options.maxPeersPerTorrent ?? 1_000,
      maxNumWant: options.maxNumWant ?? 50,
      peerTimeoutMs: options.peerTimeoutMs ?? 2 * 1800 * 1000,
    };
    socket.onMessage((data, from) => this.#receive(data, from));
  }

  static async open(network: Network, options: TrackerServerOptions): Promise<UdpTrackerServer> {
    const socket = await network.bindDatagram({ host: options.host, port: options.port ?? 0 });
    return new UdpTrackerServer(network, socket, options);
  }

  get address(): Address {
    return this.#socket.localAddress;
  }

  /** Peers known for `infoHash` (for tests and the CLI). */
  peers(infoHash: Uint8Array): PeerAddress[] {
    const swarm = this.#torrents.get(Buffer.from(infoHash).toString('hex'));
    return swarm ? [...swarm.values()].map(({ host, port }) => ({ host, port })) : [];
  }

  #receive(data: Uint8Array, from: Address): void {
    let request: UdpRequest;
    try {
      request = decodeUdpRequest(data);
    } catch {
      return; // not a tracker request: dropped
    }
    const ipv6 = from.host.includes(':');
    const answer = this.#answer(request, from);
    this.#socket.send(encodeUdpResponse(answer, ipv6), from);
  }

  #answer(request: UdpRequest, from: Address): UdpResponse {
    const now = this.#network.clock.now();
    const fromKey = `${from.host}|${from.port}`;
    if (request.action === 'connect') {
      this.#expireConnectionIds(now);
      const bytes = this.#network.random.bytes(8);
      const id = Buffer.from(bytes).readBigUInt64BE(0);
      if (this.#connectionIds.size < 100_000)
        this.#connectionIds.set(id, { from: fromKey, at: now });
      return { action: 'connect', transactionId: request.transactionId, connectionId: id };
    }
    const connection = this.#connectionIds.get(request.connectionId);
    if (
      connection === undefined ||
      connection.from !== fromKey ||
      now - connection.at > SERVER_CONNECTION_ID_LIFETIME_MS
    )
      return {
        action: 'error',
        transactionId: request.transactionId,
        message: 'Connection ID missmatch.',
      };
    if (request.action === 'scrape') {
      return {
        action: 'scrape',
        transactionId: request.transactionId,
        files: request.infoHashes.map((h) => this.#scrape(Buffer.from(h).toString('hex'), now)),
      };
    }
    const key = Buffer.from(request.infoHash).toString('hex');
    let swarm = this.#torrents.get(key);
    if (swarm === undefined) {
      if (this.#torrents.size >= this.#options.maxTorrents)
        return { action: 'error', transactionId: request.transactionId, message: 'tracker full' };
      swarm = new Map();
      this.#torrents.set(key, swarm);
    }
    this.#expirePeers(swarm, now);
    const peerKey = `${from.host}|${request.port}`;
    swarm.delete(peerKey);
    if (request.event === 'completed')
      this.#completed.set(key, (this.#completed.get(key) ?? 0) + 1);
    if (request.event !== 'stopped') {
      if (swarm.size >= this.#options.maxPeersPerTorrent) {
        const oldest = swarm.keys().next().value;
        if (oldest !== undefined) swarm.delete(oldest);
      }
      swarm.set(peerKey, { host: from.host, port: request.port, left: request.left, seenAt: now });
    }
    const want =
      request.numWant < 0
        ? this.#options.maxNumWant
        : Math.min(request.numWant, this.#options.maxNumWant);
    const ipv6 = from.host.includes(':');
    const others = [...swarm.entries()]
      .filter(([k, p]) => k !== peerKey && p.host.includes(':') === ipv6)
      .map(([, p]) => p);
    const picked: PeerAddress[] = [];
    while (picked.length < want && others.length > 0) {
      const [p] = others.splice(this.#network.random.int(others.length), 1);
      picked.push({ host: p!.host, port: p!.port });
    }
    const stats = this.#scrape(key, now);
    return {
      action: 'announce',
      transactionId: request.transactionId,
      interval: this.#options.interval,
      leechers: stats.leechers,
      seeders: stats.seeders,
      peers: picked,
    };
  }

  #scrape(key: string, now: number) {
    const swarm = this.#torrents.get(key);
    if (swarm) this.#expirePeers(swarm, now);
    let seeders = 0;
    let leechers = 0;
    for (const p of swarm?.values() ?? []) {
      if (p.left === 0) seeders++;
      else leechers++;
    }
    return { seeders, leechers, completed: this.#completed.get(key) ?? 0 };
  }

  #expirePeers(swarm: Map<string, SwarmPeer>, now: number): void {
    for (const [k, p] of swarm) if (now - p.seenAt > this.#options.peerTimeoutMs) swarm.delete(k);
  }

  #expireConnectionIds(now: number): void {
    for (const [id, c] of this.#connectionIds)
      if (now - c.at > SERVER_CONNECTION_ID_LIFETIME_MS) this.#connectionIds.delete(id);
  }

  async close(): Promise<void> {
    await this.#socket.close();
  }
}
