/**
 * `GossipNode`: a gossip peer on a `Network`. It owns the I/O: the listener, dialled and
 * accepted streams (one `Connection` each), the heartbeat timer and the connection manager,
 * and hands everything protocol-related to the `Router`.
 */
import {
  type Address,
  Emitter,
  type Network,
  reportHandlerError,
  type Stream,
  type StreamListener,
  type Timer,
} from '@peerkit/transport';
import { Connection } from './connection';
import { addressKey, ConnectionManager } from './connection-manager';
import { GossipError, isGossipError } from './errors';
import type { GossipEvent, GossipEvents, PeerEvent } from './events';
import { msgKey, type PeerKey, peerKey } from './ids';
import { type GossipOptions, type ResolvedOptions, resolveOptions } from './options';
import { type GossipStats, Router } from './router';
import { Identity } from './signing';
import { type Hello, type PeerRecord, PROTOCOL_VERSION, type Rpc, WireCodec } from './wire';

/** Options of `addStream`. */
export interface AddStreamOptions {
  /** Whether we opened the stream (it decides which of two duplicate connections survives). */
  outbound?: boolean;
  /**
   * The remote's authenticated 32-byte Ed25519 peer id (e.g. a noise session's
   * `remoteIdentity`): the remote's hello must carry exactly this id, else the stream is
   * refused with `BAD_HELLO` (a `refused` peer event) and the peer is penalised. Default: the
   * stream's own `remoteIdentity`, if it has one (a @peerkit/noise `SecureStream` does).
   */
  expectedPeerId?: Uint8Array;
}

export type { GossipEvent, GossipEvents, PeerEvent } from './events';

const HELLO_TIMEOUT_MS = 10_000;
const KEEP_ALIVE: Rpc = { type: 'rpc' };

export class GossipNode extends Emitter<GossipEvents> {
  readonly network: Network;
  readonly options: ResolvedOptions;
  readonly identity: Identity;
  /** Our peer id (Ed25519 public key) and its hex form. */
  readonly peerId: Uint8Array;
  readonly peerKey: PeerKey;
  private readonly router: Router;
  private readonly codec: WireCodec;
  private readonly manager: ConnectionManager;
  private readonly upgrade: GossipOptions['upgrade'];
  private readonly onError: (error: unknown) => void;
  private readonly encodeCache = new WeakMap<Rpc, Uint8Array>();
  /** Established connections by peer. */
  private readonly connections = new Map<PeerKey, Connection>();
  /** Every open stream, established or not (closed on `close()`). */
  private readonly open = new Set<Connection>();
  private readonly dialed = new WeakMap<Connection, Address>();
  private readonly runs = new Set<Promise<void>>();
  private listener: StreamListener | undefined;
  private heartbeatTimer: Timer | undefined;
  private closed = false;
  /** Aborts dials in flight when the node closes. */
  private readonly dials = new AbortController();

  private constructor(network: Network, options: GossipOptions) {
    const onError = options.onError ?? ((error: unknown) => reportHandlerError(error, 'gossip'));
    super({ onHandlerError: (error) => onError(error) });
    this.network = network;
    this.options = resolveOptions(options);
    this.upgrade = options.upgrade;
    this.onError = onError;
    this.identity = Identity.fromSeed(options.identitySeed ?? network.random.bytes(32));
    this.peerId = this.identity.publicKey;
    this.peerKey = peerKey(this.peerId);
    this.codec = new WireCodec(this.options.limits);
    const o = this.options;
    this.manager = new ConnectionManager(
      {
        targetPeers: o.targetPeers,
        maxPeers: o.maxPeers,
        backoffMs: o.reconnectBackoffMs,
        maxBackoffMs: o.maxReconnectBackoffMs,
        maxConcurrentDials: o.maxConcurrentDials,
        maxFailures: 5,
        maxKnown: 1024,
      },
      network.random,
    );
    this.router = new Router(
      this.options,
      {
        now: () => network.clock.now(),
        random: network.random,
        send: (peer, rpc) => this.connections.get(peer)?.send(rpc),
        deliver: (message, id, from) => this.emit('message', { message, id, from }),
        connectPx: (records) => this.connectPx(records),
        pxRecord: (peer) => this.pxRecord(peer),
        onError: (error) => this.onError(error),
      },
      this.identity,
    );
  }

  /** Creates a node: listens (if asked), starts the heartbeat and dials the bootstrap peers. */
  static async create(network: Network, options: GossipOptions = {}): Promise<GossipNode> {
    const node = new GossipNode(network, options);
    if (options.listen !== undefined) {
      node.listener = await network.listen(options.listen, (stream) => node.accept(stream));
    }
    for (const address of options.bootstrap ?? []) node.manager.add(address, true);
    node.heartbeatTimer = network.clock.setInterval(
      () => node.heartbeat(),
      node.options.heartbeatIntervalMs,
    );
    node.dialDue();
    return node;
  }

  /** The listening address, if the node listens. */
  get address(): Address | undefined {
    return this.listener?.localAddress;
  }

  get stats(): Readonly<GossipStats> {
    return this.router.stats;
  }

  // ---- pub/sub API -----------------------------------------------------------------------

  subscribe(topic: string): void {
    this.checkOpen();
    this.checkTopic(topic);
    this.router.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    this.checkOpen();
    this.router.unsubscribe(topic);
  }

  /** Our subscriptions. */
  get topics(): string[] {
    return this.router.topics;
  }

  /**
   * Publishes `data` to `topic`. Throws `GossipError`: `NO_PEERS_SUBSCRIBED`, `DUPLICATE`,
   * `MESSAGE_TOO_LARGE`, `INVALID_TOPIC`, `CLOSED`.
   */
  publish(topic: string, data: Uint8Array): { id: Uint8Array; recipients: number } {
    this.checkOpen();
    const result = this.router.publish(topic, data);
    if (this.options.emitSelf) {
      const message = this.router.mcache.get(msgKey(result.id));
      if (message !== undefined)
        this.emit('message', { message, id: result.id, from: this.peerKey });
    }
    return result;
  }

  /** `on('message', handler)`: delivered messages; returns the function that removes it. */
  onMessage(handler: (event: GossipEvent) => void): () => void {
    return this.on('message', handler);
  }

  /**
   * `on('peer', handler)`: peer events (`connect`, `disconnect`, `refused`); returns the
   * function that removes it. A handler that throws goes to `onError`.
   */
  onPeer(handler: (event: PeerEvent) => void): () => void {
    return this.on('peer', handler);
  }

  // ---- introspection ---------------------------------------------------------------------

  /** Connected peers (hex ids). */
  peers(): PeerKey[] {
    return [...this.connections.keys()];
  }

  /** Our mesh peers in `topic`. */
  meshPeers(topic: string): PeerKey[] {
    return [...this.router.mesh.peers(topic)];
  }

  /** Peers we know subscribe to `topic`. */
  subscribers(topic: string): PeerKey[] {
    return this.router.subscribers(topic);
  }

  /** A peer's current score (0 for unknown peers). */
  score(peer: PeerKey): number {
    return this.router.score.score(peer);
  }

  isGraylisted(peer: PeerKey): boolean {
    return this.router.isGraylisted(peer);
  }

  // ---- connections -----------------------------------------------------------------------

  /** Dials `address` now (and keeps it as a permanent peer when `keep`). */
  connect(address: Address, keep = false): void {
    this.checkOpen();
    this.manager.add(address, keep);
    void this.dial(address);
  }

  /**
   * Runs gossip over a stream the application opened or accepted (e.g. a noise session).
   * `options` is `{ outbound, expectedPeerId }` (see `AddStreamOptions`), or just `outbound`.
   * Throws `INVALID_OPTION` for an `expectedPeerId` that is not 32 bytes.
   */
  addStream(stream: Stream, options: boolean | AddStreamOptions = {}): void {
    this.checkOpen();
    const o: AddStreamOptions = typeof options === 'boolean' ? { outbound: options } : options;
    const expected = o.expectedPeerId;
    if (expected !== undefined && expected.length !== 32) {
      throw new GossipError('INVALID_OPTION', 'expectedPeerId must be a 32-byte Ed25519 key');
    }
    this.startConnection(stream, o.outbound ?? false, undefined, expected);
  }

  private accept(stream: Stream): void {
    if (this.closed || !this.manager.acceptInbound(this.connections.size)) {
      stream.destroy();
      return;
    }
    void this.upgraded(stream, false, undefined);
  }

  private async dial(address: Address): Promise<void> {
    try {
      const stream = await this.network.dial(address, {
        timeoutMs: 10_000,
        signal: this.dials.signal,
      });
      if (this.closed) {
        stream.destroy();
        return;
      }
      await this.upgraded(stream, true, address);
    } catch {
      if (!this.closed) this.manager.dialFailed(address, this.network.clock.now());
    }
  }

  private async upgraded(stream: Stream, outbound: boolean, address: Address | undefined) {
    let s = stream;
    if (this.upgrade !== undefined) {
      try {
        s = await this.upgrade(stream, outbound);
      } catch (error) {
        stream.destroy();
        if (address !== undefined) throw error;
        return;
      }
    }
    if (this.closed) {
      s.destroy();
      return;
    }
    this.startConnection(s, outbound, address);
  }

  private startConnection(
    stream: Stream,
    outbound: boolean,
    address: Address | undefined,
    expectedId: Uint8Array | undefined = stream.remoteIdentity,
  ): void {
    const conn = new Connection(
      stream,
      {
        codec: this.codec,
        outbound,
        maxQueuedFrames: this.options.maxQueuedFrames,
        encodeCache: this.encodeCache,
        ...(expectedId === undefined ? {} : { expectedId }),
      },
      () => this.network.clock.now(),
    );
    if (address !== undefined) this.dialed.set(conn, address);
    this.open.add(conn);
    const hello: Hello = { type: 'hello', version: PROTOCOL_VERSION, id: this.peerId };
    const port = this.listener?.localAddress.port;
    if (port !== undefined) hello.port = port;
    const timer = this.network.clock.setTimeout(
      () => conn.close(new GossipError('BAD_HELLO', 'no hello in time')),
      HELLO_TIMEOUT_MS,
    );
    const run = conn.run(
      hello,
      {
        onHello: (c, h) => this.onHello(c, h),
        onRpc: (c, rpc) => {
          if (c.peer !== undefined && this.connections.get(c.peer) === c) {
            this.router.handleRpc(c.peer, rpc);
          }
        },
        onClose: (c, error) => this.onClose(c, error),
      },
      timer,
    );
    this.runs.add(run);
    void run.finally(() => this.runs.delete(run));
  }

  private onHello(conn: Connection, hello: Hello): boolean {
    const peer = conn.peer as PeerKey;
    if (peer === this.peerKey) return false; // dialled ourselves
    const existing = this.connections.get(peer);
    if (existing !== undefined) {
      // Two connections to one peer: keep the one dialled by the smaller peer id (both ends
      // apply the same rule), or the older one when both were dialled by the same side.
      const dialer = (c: Connection) => (c.outbound ? this.peerKey : peer);
      const keepNew = dialer(existing) !== dialer(conn) && dialer(conn) < dialer(existing);
      if (!keepNew) return false;
      this.connections.delete(peer);
      this.router.removePeer(peer);
      existing.close();
    }
    if (this.router.isGraylisted(peer)) {
      if (existing !== undefined) this.emitPeer({ type: 'disconnect', peer });
      return false;
    }
    conn.openedAt = this.network.clock.now();
    this.connections.set(peer, conn);
    const address = this.dialed.get(conn);
    if (address !== undefined) this.manager.connected(address);
    else if (hello.port !== undefined) {
      this.manager.connected({ host: conn.stream.remoteAddress.host, port: hello.port });
    }
    this.router.addPeer(peer, conn.outbound, conn.stream.remoteAddress.host);
    if (existing === undefined) {
      this.emitPeer({
        type: 'connect',
        peer,
        outbound: conn.outbound,
        remoteAddress: conn.stream.remoteAddress,
      });
    }
    return true;
  }

  private onClose(conn: Connection, error: unknown): void {
    this.open.delete(conn);
    const peer = conn.peer;
    const now = this.network.clock.now();
    if (peer !== undefined && this.connections.get(peer) === conn) {
      // A peer that broke the wire protocol leaves with a behaviour penalty (kept in its score).
      if (isGossipError(error)) this.router.score.addPenalty(peer, 1);
      this.connections.delete(peer);
      this.router.removePeer(peer);
      const address = this.dialed.get(conn) ?? this.listenAddressOf(conn);
      if (address !== undefined && !this.closed) {
        this.manager.disconnected(address, now, now - conn.openedAt);
      }
      this.emitPeer(
        error === undefined ? { type: 'disconnect', peer } : { type: 'disconnect', peer, error },
      );
    } else {
      if (conn.hello === undefined && isGossipError(error)) this.refused(conn, error);
      const address = this.dialed.get(conn);
      if (address !== undefined && !this.closed && !this.isConnectedTo(address)) {
        this.manager.dialFailed(address, now);
      }
    }
  }

  private isConnectedTo(address: Address): boolean {
    const key = addressKey(address);
    for (const conn of this.connections.values()) {
      const a = this.dialed.get(conn) ?? this.listenAddressOf(conn);
      if (a !== undefined && addressKey(a) === key) return true;
    }
    return false;
  }

  private listenAddressOf(conn: Connection): Address | undefined {
    const port = conn.hello?.port;
    return port === undefined ? undefined : { host: conn.stream.remoteAddress.host, port };
  }

  private pxRecord(peer: PeerKey): PeerRecord | undefined {
    const conn = this.connections.get(peer);
    const hello = conn?.hello;
    if (conn === undefined || hello === undefined) return undefined;
    const record: PeerRecord = { id: hello.id };
    if (hello.port !== undefined) {
      record.host = conn.stream.remoteAddress.host;
      record.port = hello.port;
    }
    return record;
  }

  private connectPx(records: readonly PeerRecord[]): void {
    for (const r of records) {
      if (r.host === undefined || r.port === undefined) continue;
      if (this.connections.has(peerKey(r.id))) continue;
      this.manager.add({ host: r.host, port: r.port }, false);
    }
    this.dialDue();
  }

  private dialDue(): void {
    if (this.closed) return;
    let outbound = 0;
    for (const c of this.connections.values()) if (c.outbound) outbound++;
    const due = this.manager.due(this.network.clock.now(), outbound, this.connections.size);
    for (const address of due) void this.dial(address);
  }

  // ---- heartbeat and lifecycle -----------------------------------------------------------

  /** One heartbeat (normally run by the timer every `heartbeatIntervalMs`). */
  heartbeat(): void {
    if (this.closed) return;
    this.router.heartbeat();
    this.keepAlive();
    this.dialDue();
  }

  /**
   * Liveness: an empty RPC on connections idle for `keepAliveIntervalMs`, and a connection
   * that has received nothing for `idleTimeoutMs` is closed. A peer that vanished without a
   * reset (a partition, a crash whose reset was lost) is detected this way, so the connection
   * manager can dial again.
   */
  private keepAlive(): void {
    const now = this.network.clock.now();
    const o = this.options;
    for (const conn of this.connections.values()) {
      if (now - conn.lastReceived >= o.idleTimeoutMs) {
        conn.close(new GossipError('CLOSED', 'peer idle for too long'));
      } else if (now - conn.lastSent >= o.keepAliveIntervalMs) {
        conn.send(KEEP_ALIVE);
      }
    }
  }

  /** A stream closed before its hello completed, for a wire-level fault. */
  private refused(conn: Connection, error: GossipError): void {
    const expected = conn.expectedId === undefined ? undefined : peerKey(conn.expectedId);
    const claimed = conn.claimedId === undefined ? undefined : peerKey(conn.claimedId);
    // The authenticated peer claimed another id: a behaviour penalty, kept even though it never
    // became a peer. (A slow or broken hello alone is not penalised: it may be the network.)
    if (expected !== undefined && claimed !== undefined && !this.closed) {
      if (this.router.hasPeer(expected)) this.router.score.addPenalty(expected, 1);
      else this.router.score.penalizeAbsent(expected, 1, this.network.clock.now());
    }
    this.emitPeer({
      type: 'refused',
      error,
      outbound: conn.outbound,
      remoteAddress: conn.stream.remoteAddress,
      ...(expected === undefined ? {} : { expected }),
      ...(claimed === undefined ? {} : { claimed }),
    });
  }

  private emitPeer(event: PeerEvent): void {
    if (!this.closed) this.emit('peer', event);
  }

  private checkOpen(): void {
    if (this.closed) throw new GossipError('CLOSED', 'the node is closed');
  }

  private checkTopic(topic: string): void {
    if (topic.length === 0 || topic.length > this.options.limits.maxTopicLength) {
      throw new GossipError(
        'INVALID_TOPIC',
        `topic length must be in [1, ${this.options.limits.maxTopicLength}]`,
      );
    }
  }

  /** Stops the heartbeat, the listener and every connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.heartbeatTimer?.cancel();
    this.dials.abort();
    const listener = this.listener;
    this.listener = undefined;
    for (const conn of [...this.open]) conn.close();
    await listener?.close();
    await Promise.allSettled([...this.runs]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
