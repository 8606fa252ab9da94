/**
 * A small in-memory HTTP tracker (BEP 3; compact BEP 23, IPv6 BEP 7, scrape BEP 48) on
 * transport's `Network` (so it runs in netsim), bounded: the swarms of ./swarms.ts, at most
 * `maxConnections` requests at once, a request head of at most 8 KiB read within
 * `requestTimeoutMs`. One request per connection (`Connection: close`). Bad requests get a
 * bencoded `failure reason`. Pass the same `swarms` to a `UdpTrackerServer` to serve one swarm
 * over both protocols.
 */
import type { Address, Network, Stream, StreamListener } from '@peerkit/transport';
import {
  encodeAnnounceAnswer,
  encodeFailure,
  encodeScrapeAnswer,
  parseTrackerRequest,
} from './http-request';
import { type TrackerLimits, TrackerSwarms } from './swarms';
import type { PeerAddress } from './udp-messages';

/** Longest request head read (request line and headers). */
export const MAX_REQUEST_HEAD = 8_192;

export interface HttpTrackerServerOptions extends TrackerLimits {
  host: string;
  port?: number;
  swarms?: TrackerSwarms;
  /** Requests served at once (default 256); more connections are closed at once. */
  maxConnections?: number;
  /** Default 10 s. */
  requestTimeoutMs?: number;
}

/** One request handled, for a learner watching the tracker (and for tests). */
export interface HttpTrackerRequestLog {
  from: Address;
  /** `announce`, `scrape` or `failure`. */
  kind: string;
  /** The announce's event and listen port, when an announce. */
  event?: string;
  port?: number;
  left?: number;
  uploaded?: number;
  downloaded?: number;
  reason?: string;
}

/** `::ffff:1.2.3.4` (IPv4 on a dual-stack socket) is `1.2.3.4`. */
const plainHost = (host: string) => {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  return m ? m[1]! : host;
};

export class HttpTrackerServer {
  readonly #network: Network;
  readonly #swarms: TrackerSwarms;
  readonly #options: HttpTrackerServerOptions;
  readonly #open = new Set<Stream>();
  readonly #log: ((entry: HttpTrackerRequestLog) => void) | undefined;
  #listener: StreamListener | undefined;

  private constructor(
    network: Network,
    options: HttpTrackerServerOptions,
    log?: (entry: HttpTrackerRequestLog) => void,
  ) {
    this.#network = network;
    this.#options = options;
    this.#swarms = options.swarms ?? new TrackerSwarms(network.random, options);
    this.#log = log;
  }

  /** Listens on `host:port`; `onRequest` sees every request handled. */
  static async open(
    network: Network,
    options: HttpTrackerServerOptions,
    onRequest?: (entry: HttpTrackerRequestLog) => void,
  ): Promise<HttpTrackerServer> {
    const server = new HttpTrackerServer(network, options, onRequest);
    server.#listener = await network.listen(
      { host: options.host, port: options.port ?? 0 },
      (stream) => server.#accept(stream),
    );
    return server;
  }

  get address(): Address {
    return this.#listener!.localAddress;
  }

  /** The announce URL, e.g. `http://127.0.0.1:6969/announce`. */
  get announceUrl(): string {
    const { host, port } = this.address;
    return `http://${host.includes(':') ? `[${host}]` : host}:${port}/announce`;
  }

  peers(infoHash: Uint8Array): PeerAddress[] {
    return this.#swarms.peers(infoHash);
  }

  #accept(stream: Stream): void {
    if (this.#open.size >= (this.#options.maxConnections ?? 256)) {
      stream.destroy();
      return;
    }
    this.#open.add(stream);
    const timer = this.#network.clock.setTimeout(
      () => stream.destroy(),
      this.#options.requestTimeoutMs ?? 10_000,
    );
    void this.#serve(stream)
      .catch(() => stream.destroy())
      .finally(() => {
        timer.cancel();
        this.#open.delete(stream);
      });
  }

  async #serve(stream: Stream): Promise<void> {
    let head = Buffer.alloc(0);
    // Read by hand: leaving a `for await` early would give the stream up before we answer.
    const reader = stream[Symbol.asyncIterator]();
    while (head.indexOf('\r\n\r\n') < 0 && head.length <= MAX_REQUEST_HEAD) {
      const next = await reader.next();
      if (next.done) break;
      head = Buffer.concat([head, next.value]);
    }
    const end = head.indexOf('\r\n\r\n');
    const line = /^GET (\S+) HTTP\/1\.[01]\r\n/.exec(
      head.subarray(0, Math.max(0, end + 2)).toString('latin1'),
    );
    const from = { host: plainHost(stream.remoteAddress.host), port: stream.remoteAddress.port };
    let status = 200;
    let body: Uint8Array;
    if (end < 0 || line === null) {
      status = 400;
      body = encodeFailure('bad request');
      this.#log?.({ from, kind: 'failure', reason: 'bad request' });
    } else body = this.#answer(line[1]!, from, (s) => (status = s));
    const reason = status === 200 ? 'OK' : status === 404 ? 'Not Found' : 'Bad Request';
    const header =
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    await stream.write(Buffer.concat([Buffer.from(header, 'latin1'), body]));
    await stream.end();
  }

  #answer(target: string, from: Address, setStatus: (status: number) => void): Uint8Array {
    const request = parseTrackerRequest(target);
    const now = this.#network.clock.now();
    if (request.kind === 'failure') {
      setStatus(request.status);
      this.#log?.({ from, kind: 'failure', reason: request.reason });
      return encodeFailure(request.reason);
    }
    if (request.kind === 'scrape') {
      this.#log?.({ from, kind: 'scrape' });
      const entries = request.infoHashes.map((h) => this.#swarms.scrape(h, now));
      return encodeScrapeAnswer(request.infoHashes, entries);
    }
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
    );
    this.#log?.({
      from,
      kind: 'announce',
      event: request.event,
      port: request.port,
      left: request.left,
      uploaded: request.uploaded,
      downloaded: request.downloaded,
      ...(answer.ok ? {} : { reason: answer.reason }),
    });
    if (!answer.ok) return encodeFailure(answer.reason);
    return encodeAnnounceAnswer(request, answer);
  }

  async close(): Promise<void> {
    for (const stream of this.#open) stream.destroy();
    await this.#listener?.close();
  }
}
