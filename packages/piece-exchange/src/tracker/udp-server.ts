/**
 * A small in-memory BEP 15 UDP tracker, bounded: at most `maxTorrents` torrents and
 * `maxPeersPerTorrent` peers each (the oldest announce is dropped), peers forgotten after
 * `peerTimeoutMs` without an announce. Connection ids are random, valid for 2 minutes and only
 * from the address they were given to (BEP 15). Used by the tests; how a learner sees the
 * protocol from the tracker's side.
 */
import type { Address, DatagramSocket, Network } from '@peerkit/transport';
import { type TrackerLimits, TrackerSwarms } from './swarms';
import {
  decodeUdpRequest,
  encodeUdpResponse,
  type PeerAddress,
  type UdpRequest,
  type UdpResponse,
} from './udp-messages';

/** BEP 15: a tracker accepts a connection id for two minutes. */
export const SERVER_CONNECTION_ID_LIFETIME_MS = 120_000;
/** Connection ids remembered at most (each is 2 minutes old at most). */
const MAX_CONNECTION_IDS = 100_000;

export interface TrackerServerOptions extends TrackerLimits {
  host: string;
  port?: number;
  /** The peers to serve, when shared with another server (the HTTP one); default: its own. */
  swarms?: TrackerSwarms;
}

export class UdpTrackerServer {
  readonly #network: Network;
  readonly #socket: DatagramSocket;
  readonly #swarms: TrackerSwarms;
  readonly #connectionIds = new Map<bigint, { from: string; at: number }>();

  private constructor(network: Network, socket: DatagramSocket, options: TrackerServerOptions) {
    this.#network = network;
    this.#socket = socket;
    this.#swarms = options.swarms ?? new TrackerSwarms(network.random, options);
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
    return this.#swarms.peers(infoHash);
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
      if (this.#connectionIds.size < MAX_CONNECTION_IDS)
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
        files: request.infoHashes.map((h) => this.#swarms.scrape(h, now)),
      };
    }
    const ipv6 = from.host.includes(':');
    const answer = this.#swarms.announce(
      {
        infoHash: request.infoHash,
        peerId: request.peerId,
        host: from.host,
        port: request.port,
        left: request.left,
        event: request.event,
        numWant: request.numWant,
      },
      now,
      ipv6 ? 6 : 4,
    );
    if (!answer.ok)
      return { action: 'error', transactionId: request.transactionId, message: answer.reason };
    return {
      action: 'announce',
      transactionId: request.transactionId,
      interval: answer.interval,
      leechers: answer.leechers,
      seeders: answer.seeders,
      peers: answer.peers.map(({ host, port }) => ({ host, port })),
    };
  }

  #expireConnectionIds(now: number): void {
    for (const [id, c] of this.#connectionIds)
      if (now - c.at > SERVER_CONNECTION_ID_LIFETIME_MS) this.#connectionIds.delete(id);
  }

  async close(): Promise<void> {
    await this.#socket.close();
  }
}
