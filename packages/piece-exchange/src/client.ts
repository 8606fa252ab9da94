/**
 * `TorrentClient`: many torrents in one process, as libtorrent's `session` or webtorrent's
 * `Client` (not to be confused with `session/`, the state machine of one peer connection).
 *
 * - One listen port for every torrent (TCP, and uTP on the same port when `network` is
 *   `@peerkit/utp`'s `dualNetwork`): the info-hash of each incoming handshake, or MSE's SKEY,
 *   picks the torrent (client/route.ts).
 * - Shared limits (client/limits.ts): connections across all torrents (`maxConnections`), upload
 *   slots across all torrents (`uploadSlots`, max-min fair, rotating), upload and download rates
 *   in bytes per second (transport's `RateLimiter`; the download limit holds back reading from
 *   the sockets, client/throttle.ts) and one disk budget (`diskConcurrency` reads and writes in
 *   flight across every torrent's files).
 * - One tick for everything: a torrent in a client has no timer of its own; the client's one
 *   interval drives every torrent's keep-alives, request timeouts, redials and choker. An idle
 *   torrent costs no timer at all, and an idle peer only a check per tick.
 *
 * Each torrent is a plain `Torrent` (same events, stats, pause/resume, close); `Torrent.open`
 * without a client still runs standalone exactly as before.
 */
import type {
  Address,
  BindOptions,
  Network,
  Stream,
  StreamListener,
  Timer,
} from '@peerkit/transport';
import { Emitter, RateLimiter } from '@peerkit/transport';
import { RECHOKE_INTERVAL_MS } from './choker';
import type { AttachedTorrent, ClientLink } from './client/attach';
import { allocateUploadSlots, ConnectionBudget, UploadSlots } from './client/limits';
import { routeIncoming } from './client/route';
import { budgetedFileSystem, DiskBudget, RateLimitedStream } from './client/throttle';
import { PieceExchangeError } from './errors';
import type { EncryptionPolicy } from './mse/connect';
import { req2Hash } from './mse/keys';
import { DEFAULT_LIMITS } from './session/peer-limits';
import { Torrent } from './torrent';
import { defaultPeerId, TICK_MS, type TorrentOptions } from './torrent-options';

/** Defaults of `TorrentClientOptions`. */
export const CLIENT_DEFAULTS = {
  maxConnections: 500,
  uploadSlots: 8,
  diskConcurrency: 8,
  maxHandshakes: 100,
} as const;

export interface TorrentClientOptions {
  network: Network;
  /** The one address every torrent is reached on (default: do not listen). */
  listen?: BindOptions;
  /** Connections across all torrents, handshakes and dials included (default 500). */
  maxConnections?: number;
  /** Unchoked peers across all torrents (default 8). */
  uploadSlots?: number;
  /** Bytes per second sent, across all torrents (default: no limit). */
  uploadRate?: number;
  /** Bytes per second received, across all torrents (default: no limit). */
  downloadRate?: number;
  /** A rate limit's burst, as milliseconds of its rate (default 250, at least 16 KiB). */
  burstMs?: number;
  /** Disk reads, writes and syncs in flight across all torrents (default 8). */
  diskConcurrency?: number;
  /** Incoming connections still in their handshake (default 100; more are refused). */
  maxHandshakes?: number;
  /** MSE/PE for every torrent: `prefer` (default), `require`, `plain` (see `TorrentOptions`). */
  encryption?: EncryptionPolicy;
  /** The one tick (default 1,000 ms). */
  tickMs?: number;
  /** One peer id for every torrent (default `-PK0100-` + 12 random bytes). */
  peerId?: Uint8Array;
}

/** What `add` takes: a torrent's own options (the client supplies network, listener, tick). */
export type ClientTorrentOptions = Omit<
  TorrentOptions,
  'network' | 'listen' | 'client' | 'tickMs' | 'encryption'
>;

export interface TorrentClientEvents {
  /** An incoming connection was refused before reaching a torrent. */
  rejected: {
    address: Address;
    reason: 'connection-limit' | 'handshake-limit' | 'handshake' | 'unknown-torrent';
    error?: Error;
  };
}

export interface TorrentClientStats {
  torrents: number;
  /** Connections counted against `maxConnections` (dialling, in handshake, open). */
  connections: number;
  /** Peers unchoked across all torrents. */
  unchoked: number;
  /** Disk operations in flight, and the most seen at once. */
  disk: { active: number; peak: number };
}

interface Entry {
  readonly torrent: AttachedTorrent;
  readonly key: string;
}

const UNROUTED = '';
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

export class TorrentClient extends Emitter<TorrentClientEvents> {
  readonly peerId: Uint8Array;
  readonly encryption: EncryptionPolicy;
  readonly uploadSlots: number;
  readonly #network: Network;
  readonly #budget: ConnectionBudget<string>;
  readonly #slots: UploadSlots<string>;
  /** The torrent giving back borrowed slots in this tick (granted at most its share). */
  #shrinking: string | undefined;
  readonly #disk: DiskBudget;
  readonly #upload: RateLimiter<number> | undefined;
  readonly #download: RateLimiter<number> | undefined;
  readonly #maxHandshakes: number;
  /** Attached torrents by info-hash (hex), in the order they were added. */
  readonly #entries = new Map<string, Entry>();
  readonly #torrents = new Set<Torrent>();
  /** MSE: each torrent's info-hash by `HASH('req2', info-hash)` (hex), kept as torrents come and go. */
  readonly #skeys = new Map<string, Uint8Array>();
  #listener: StreamListener | undefined;
  #tick: Timer | undefined;
  #handshakes = 0;
  #round = 0;
  #lastRotation = 0;
  #closed = false;

  private constructor(options: TorrentClientOptions) {
    super();
    const network = options.network;
    this.#network = network;
    this.peerId = options.peerId ?? defaultPeerId(network.random.bytes(12));
    this.encryption = options.encryption ?? 'prefer';
    this.uploadSlots = options.uploadSlots ?? CLIENT_DEFAULTS.uploadSlots;
    this.#budget = new ConnectionBudget(options.maxConnections ?? CLIENT_DEFAULTS.maxConnections);
    this.#slots = new UploadSlots(this.uploadSlots);
    this.#disk = new DiskBudget(options.diskConcurrency ?? CLIENT_DEFAULTS.diskConcurrency);
    this.#maxHandshakes = options.maxHandshakes ?? CLIENT_DEFAULTS.maxHandshakes;
    const burstMs = options.burstMs ?? 250;
    const limiter = (rate: number | undefined) =>
      rate === undefined
        ? undefined
        : new RateLimiter<number>(network.clock, rate, Math.max(16_384, (rate * burstMs) / 1000));
    this.#upload = limiter(options.uploadRate);
    this.#download = limiter(options.downloadRate);
  }

  /** Starts the client: listens (when asked) and starts the one tick. */
  static async open(options: TorrentClientOptions): Promise<TorrentClient> {
    const client = new TorrentClient(options);
    if (options.listen !== undefined) {
      client.#listener = await options.network.listen(options.listen, (stream) =>
        client.#incoming(stream),
      );
    }
    client.#tick = options.network.clock.setInterval(
      () => client.#onTick(),
      options.tickMs ?? TICK_MS,
    );
    return client;
  }

  /** The one address every torrent of this client is reached on, when listening. */
  get listenAddress(): Address | undefined {
    return this.#listener?.localAddress;
  }

  /** The torrents running, in the order they were added. */
  get torrents(): Torrent[] {
    return [...this.#torrents];
  }

  /**
   * Opens a torrent in this client (as `Torrent.open`, with the client's network, port, peer id,
   * encryption, limits and tick). Rejects with `DUPLICATE_TORRENT` when the info-hash runs
   * already, or with what `Torrent.open` rejects with.
   */
  async add(options: ClientTorrentOptions): Promise<Torrent> {
    if (this.#closed) throw new PieceExchangeError('CLIENT_CLOSED', 'the client is closed');
    let key: string | undefined;
    const link: ClientLink = {
      fileSystem: (fs) => budgetedFileSystem(fs, this.#disk),
      attach: (torrent) => {
        key = hex(torrent.infoHash);
        if (this.#entries.has(key))
          throw new PieceExchangeError('DUPLICATE_TORRENT', `torrent ${key} is already running`);
        const req2 = hex(req2Hash(torrent.infoHash));
        this.#entries.set(key, { torrent, key });
        this.#skeys.set(req2, torrent.infoHash);
        const self = this;
        const registered = key;
        return {
          get listenAddress() {
            return self.#listener?.localAddress;
          },
          slots: () =>
            self.#entries.has(registered)
              ? self.#slots.grant(
                  registered,
                  uploadDemandOf(torrent),
                  self.#shrinking === registered,
                )
              : 0,
          detach: () => {
            self.#entries.delete(registered);
            self.#slots.remove(registered);
            self.#skeys.delete(req2);
          },
        };
      },
    };
    const torrent = await Torrent.open({
      peerId: this.peerId,
      ...options,
      network: this.#torrentNetwork(() => key ?? UNROUTED),
      encryption: this.encryption,
      client: link,
    });
    this.#torrents.add(torrent);
    return torrent;
  }

  /** Closes a torrent of this client (as `torrent.close()`). */
  async remove(torrent: Torrent): Promise<void> {
    this.#torrents.delete(torrent);
    await torrent.close();
  }

  stats(): TorrentClientStats {
    let unchoked = 0;
    for (const { torrent } of this.#entries.values())
      for (const p of torrent.peers.values()) if (p.isOpen && !p.amChoking) unchoked++;
    return {
      torrents: this.#entries.size,
      connections: this.#budget.total,
      unchoked,
      disk: { active: this.#disk.active, peak: this.#disk.peak },
    };
  }

  /** Closes every torrent (saving resume data), the listener and the tick. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#tick?.cancel();
    await this.#listener?.close();
    const torrents = [...this.#torrents];
    this.#torrents.clear();
    await Promise.all(torrents.map((t) => t.close()));
  }

  // --- connections ---------------------------------------------------------------------------

  #limited(stream: Stream): Stream {
    if (this.#upload === undefined && this.#download === undefined) return stream;
    return new RateLimitedStream(stream, {
      clock: this.#network.clock,
      upload: this.#upload,
      download: this.#download,
    });
  }

  /** The network a torrent of this client dials on: counted, rate-limited; it does not listen. */
  #torrentNetwork(key: () => string): Network {
    const network = this.#network;
    return {
      clock: network.clock,
      random: network.random,
      bindDatagram: (bind) => network.bindDatagram(bind),
      listen: () =>
        Promise.reject(new PieceExchangeError('CLIENT_LISTENS', 'the client listens for it')),
      dial: async (to, dialOptions) => {
        const k = key();
        if (!this.#budget.tryOpen(k))
          throw new PieceExchangeError('CONNECTION_LIMIT', 'client connection limit reached');
        let stream: Stream;
        try {
          stream = await network.dial(to, dialOptions);
        } catch (error) {
          this.#budget.release(k);
          throw error;
        }
        void stream.closed.then(() => this.#budget.release(k));
        return this.#limited(stream);
      },
    };
  }

  #incoming(raw: Stream): void {
    const address = raw.remoteAddress;
    if (this.#closed || !this.#budget.tryOpen(UNROUTED)) {
      raw.destroy();
      this.emit('rejected', { address, reason: 'connection-limit' });
      return;
    }
    let key = UNROUTED;
    void raw.closed.then(() => this.#budget.release(key));
    if (this.#handshakes >= this.#maxHandshakes) {
      raw.destroy();
      this.emit('rejected', { address, reason: 'handshake-limit' });
      return;
    }
    this.#handshakes++;
    routeIncoming(this.#limited(raw), {
      policy: this.encryption,
      lookupSkey: (req2) => this.#skeys.get(hex(req2)),
      clock: this.#network.clock,
      random: this.#network.random,
      timeoutMs: DEFAULT_LIMITS.handshakeTimeoutMs,
    })
      .then(
        ({ infoHash, stream }) => {
          const entry = this.#entries.get(hex(infoHash));
          if (entry === undefined || this.#closed) {
            stream.destroy();
            this.emit('rejected', { address, reason: 'unknown-torrent' });
            return;
          }
          this.#budget.transfer(UNROUTED, entry.key);
          key = entry.key;
          entry.torrent.peers.accept(stream, true);
        },
        (error: unknown) => {
          const e = error instanceof Error ? error : new Error(String(error));
          if (!this.#closed) this.emit('rejected', { address, reason: 'handshake', error: e });
        },
      )
      .finally(() => this.#handshakes--);
  }

  // --- the one tick --------------------------------------------------------------------------

  #onTick(): void {
    if (this.#closed) return;
    const entries = [...this.#entries.values()];
    for (const e of entries) e.torrent.tick();
    // Rotate the slots that do not divide evenly once per rechoke interval (BEP 3's 10 s).
    const now = this.#network.clock.now();
    if (now - this.#lastRotation >= RECHOKE_INTERVAL_MS) {
      this.#lastRotation = now;
      this.#round++;
    }
    this.#allocateSlots(entries);
  }

  /**
   * Shares the upload slots among the torrents by their interested peers (max-min fair,
   * rotating); torrents holding more than their new share rechoke first and give the rest back,
   * then those granted less than their share take theirs. A torrent rechoking between ticks may
   * borrow slots nobody holds (`UploadSlots.grant`); the total never exceeds `uploadSlots`.
   */
  #allocateSlots(entries: Entry[]): void {
    const demands = entries.map((e) => uploadDemandOf(e.torrent));
    const shares = allocateUploadSlots(this.uploadSlots, demands, this.#round);
    const slots = this.#slots;
    entries.forEach((e, i) => {
      slots.setShare(e.key, shares[i]!);
    });
    for (const e of entries) {
      if (slots.granted(e.key) <= slots.share(e.key)) continue;
      this.#shrinking = e.key;
      e.torrent.rechoke();
      this.#shrinking = undefined;
    }
    entries.forEach((e, i) => {
      if (slots.granted(e.key) < Math.min(shares[i]!, demands[i]!)) e.torrent.rechoke();
    });
  }
}

/** Open, interested peers that can take data: what a torrent wants of the upload slots. */
function uploadDemandOf(torrent: AttachedTorrent): number {
  let n = 0;
  for (const p of torrent.peers.values()) if (p.isOpen && p.peerInterested && !p.isSeed) n++;
  return n;
}
