/**
 * BEP 15 UDP tracker client on transport's `Network` (so it runs in netsim): connect, then
 * announce or scrape with the connection id, which is reused for `CONNECTION_ID_LIFETIME_MS`
 * (1 minute). A request not answered is sent again after 15·2^n seconds, n = 0..8, then fails
 * with `TrackerError` `TIMEOUT`; an expired connection id is renewed between retries.
 */
import type { Address, DatagramSocket, Network, Timer } from '@peerkit/transport';
import { TrackerError } from './errors';
import {
  type AnnounceEvent,
  decodeUdpResponse,
  encodeAnnounceRequest,
  encodeConnectRequest,
  encodeScrapeRequest,
  type PeerAddress,
  type ScrapeEntry,
  type UdpResponse,
} from './udp-messages';

/** BEP 15: a client may use a connection id for one minute. */
export const CONNECTION_ID_LIFETIME_MS = 60_000;
/** BEP 15: the n-th timeout is 15·2^n seconds, n up to 8. */
export const RETRANSMIT_BASE_MS = 15_000;
export const MAX_RETRANSMITS = 8;

export const retransmitTimeout = (n: number) => RETRANSMIT_BASE_MS * 2 ** n;

export interface AnnounceParams {
  infoHash: Uint8Array;
  peerId: Uint8Array;
  port: number;
  uploaded: number;
  downloaded: number;
  left: number;
  event: AnnounceEvent;
  numWant?: number;
  key?: number;
}

export interface AnnounceResult {
  interval: number;
  leechers: number;
  seeders: number;
  peers: PeerAddress[];
}

interface Pending {
  resolve(response: UdpResponse): void;
  expect: UdpResponse['action'];
}

export class UdpTrackerClient {
  readonly #network: Network;
  readonly #socket: DatagramSocket;
  readonly #pending = new Map<number, Pending>();
  readonly #connections = new Map<string, { id: bigint; at: number }>();
  readonly #timers = new Set<Timer>();
  readonly #maxRetransmits: number;
  #closed = false;
  #retransmissions = 0;

  private constructor(network: Network, socket: DatagramSocket, maxRetransmits: number) {
    this.#network = network;
    this.#socket = socket;
    this.#maxRetransmits = maxRetransmits;
    socket.onMessage((data, from) => this.#receive(data, from));
  }

  /** Binds a UDP socket on `host` (`0.0.0.0`, `127.0.0.1`, `::1`…). */
  static async open(
    network: Network,
    options: { host: string; maxRetransmits?: number },
  ): Promise<UdpTrackerClient> {
    const socket = await network.bindDatagram({ host: options.host });
    return new UdpTrackerClient(network, socket, options.maxRetransmits ?? MAX_RETRANSMITS);
  }

  /** Requests sent again because no answer came in time (BEP 15 back-off). */
  get retransmissions(): number {
    return this.#retransmissions;
  }

  async announce(tracker: Address, params: AnnounceParams): Promise<AnnounceResult> {
    const response = await this.#withConnection(
      tracker,
      (connectionId, transactionId) =>
        encodeAnnounceRequest({
          connectionId,
          transactionId,
          infoHash: params.infoHash,
          peerId: params.peerId,
          downloaded: params.downloaded,
          left: params.left,
          uploaded: params.uploaded,
          event: params.event,
          ip: 0,
          key: params.key ?? 0,
          numWant: params.numWant ?? -1,
          port: params.port,
        }),
      'announce',
    );
    if (response.action !== 'announce') throw new TrackerError('INVALID_RESPONSE', 'not announce');
    const { interval, leechers, seeders, peers } = response;
    return { interval, leechers, seeders, peers };
  }

  async scrape(tracker: Address, infoHashes: readonly Uint8Array[]): Promise<ScrapeEntry[]> {
    const response = await this.#withConnection(
      tracker,
      (connectionId, transactionId) => encodeScrapeRequest(connectionId, transactionId, infoHashes),
      'scrape',
    );
    if (response.action !== 'scrape' || response.files.length !== infoHashes.length)
      throw new TrackerError('INVALID_RESPONSE', 'scrape answer does not match the request');
    return response.files;
  }

  /**
   * Sends `build(connectionId)` until answered, renewing the connection id when it expires;
   * retransmits after 15·2^n s.
   */
  async #withConnection(
    tracker: Address,
    build: (connectionId: bigint, transactionId: number) => Uint8Array,
    expect: 'announce' | 'scrape',
  ): Promise<UdpResponse> {
    const key = `${tracker.host}|${tracker.port}`;
    for (let n = 0; n <= this.#maxRetransmits; n++) {
      if (n > 0) this.#retransmissions++;
      const deadline = this.#network.clock.now() + retransmitTimeout(n);
      let connection = this.#connections.get(key);
      if (
        connection === undefined ||
        this.#network.clock.now() - connection.at >= CONNECTION_ID_LIFETIME_MS
      ) {
        this.#connections.delete(key);
        const sentAt = this.#network.clock.now();
        const answer = await this.#request(
          tracker,
          (tid) => encodeConnectRequest(tid),
          'connect',
          deadline,
        );
        if (answer === undefined) continue;
        if (answer.action !== 'connect') throw this.#failure(answer);
        connection = { id: answer.connectionId, at: sentAt };
        this.#connections.set(key, connection);
      }
      const id = connection.id;
      const answer = await this.#request(tracker, (tid) => build(id, tid), expect, deadline);
      if (answer === undefined) continue;
      if (answer.action === 'error') throw this.#failure(answer);
      return answer;
    }
    throw new TrackerError('TIMEOUT', `no answer from udp://${tracker.host}:${tracker.port}`);
  }

  #failure(answer: UdpResponse): TrackerError {
    return answer.action === 'error'
      ? new TrackerError('TRACKER_FAILURE', answer.message)
      : new TrackerError('INVALID_RESPONSE', `unexpected ${answer.action} response`);
  }

  /** One request with a fresh transaction id; undefined when `deadline` passes first. */
  #request(
    tracker: Address,
    packet: (transactionId: number) => Uint8Array,
    expect: UdpResponse['action'],
    deadline: number,
  ): Promise<UdpResponse | undefined> {
    if (this.#closed) return Promise.reject(new TrackerError('CLOSED', 'client closed'));
    const transactionId = this.#network.random.int(2 ** 32);
    return new Promise((resolve) => {
      const timer = this.#network.clock.setTimeout(
        () => {
          this.#timers.delete(timer);
          this.#pending.delete(transactionId);
          resolve(undefined);
        },
        Math.max(0, deadline - this.#network.clock.now()),
      );
      this.#timers.add(timer);
      this.#pending.set(transactionId, {
        expect,
        resolve: (response) => {
          timer.cancel();
          this.#timers.delete(timer);
          resolve(response);
        },
      });
      this.#socket.send(packet(transactionId), tracker);
    });
  }

  #receive(data: Uint8Array, from: Address): void {
    let response: UdpResponse;
    try {
      response = decodeUdpResponse(data, from.host.includes(':'));
    } catch {
      return; // garbage: ignored, the request times out or another answer comes
    }
    const pending = this.#pending.get(response.transactionId);
    if (pending === undefined) return;
    if (response.action !== pending.expect && response.action !== 'error') return;
    this.#pending.delete(response.transactionId);
    pending.resolve(response);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) timer.cancel();
    this.#timers.clear();
    const error = { action: 'error', transactionId: 0, message: 'client closed' } as const;
    for (const pending of this.#pending.values()) pending.resolve(error);
    this.#pending.clear();
    await this.#socket.close();
  }
}
