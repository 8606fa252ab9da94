/**
 * The ledger node: chain and mempool wired to peers on a transport `Network` (so the same node
 * runs on sockets and in netsim). Connections and their lifecycle live here; what each message
 * does is in p2p/handlers.ts, block/transaction announcement in p2p/relay.ts, the download
 * policy in p2p/block-download.ts.
 */
import type { Address, Network, Stream, StreamListener, Timer } from '@peerkit/transport';
import { Emitter, formatAddress } from '@peerkit/transport';
import { LedgerError } from './errors';
import { toHex } from './hash';
import { AddressBook, BanList } from './p2p/address-book';
import { BlockDownload } from './p2p/block-download';
import { NODE_NETWORK, NODE_WITNESS, PROTOCOL_VERSION } from './p2p/constants';
import { Handlers } from './p2p/handlers';
import type { VersionMessage } from './p2p/messages/types';
import { Peer } from './p2p/peer';
import type { NodeChain, NodeMempool } from './p2p/ports';
import { Relay } from './p2p/relay';
import { type ChainParams, REGTEST } from './params';
import type { Block } from './primitives/block';
import { type Transaction, txid } from './primitives/transaction';

export interface LedgerNodeOptions {
  network: Network;
  chain: NodeChain;
  mempool: NodeMempool;
  params?: ChainParams;
  /** Where to accept connections; omit to accept none. Port 0: any free port. */
  listen?: { host: string; port: number };
  maxInbound?: number;
  maxOutbound?: number;
  userAgent?: string;
  /** How long a misbehaving host stays banned (default 24 h, Core's DEFAULT_MISBEHAVING_BANTIME). */
  banTimeMs?: number;
  /**
   * Ban loopback hosts too (default false). Core disconnects a misbehaving local peer but does
   * not discourage its address, since every local peer shares it (net_processing.cpp,
   * MaybeDiscourageAndDisconnect). netsim hosts live in 127/8, so simulations turn this on.
   */
  banLocal?: boolean;
  /** Download policy knobs (see BlockDownload). */
  stallTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** How often queued transaction announcements go out (default 100 ms). */
  relayIntervalMs?: number;
  pingIntervalMs?: number;
  /** Retry delay for `addNode` connections (default 5,000 ms). */
  reconnectMs?: number;
  /**
   * Unix time in milliseconds at which `network.clock` read 0: the clock only measures
   * intervals, but `version` (and addr) carry Unix timestamps. The app passes
   * `Date.now() - clock.now()`; the default, 0, suits simulations.
   */
  epochMs?: number;
}

export interface PeerSummary {
  id: number;
  address: string;
  inbound: boolean;
  version: number;
  services: bigint;
  userAgent: string;
  startHeight: number;
  /** Height of the best header this peer is known to have. */
  syncedHeaders: number;
  bytesSent: number;
  bytesReceived: number;
  pingTimeMs: number | undefined;
  connectedAt: number;
  score: number;
}

export interface NodeEvents {
  peer: { peer: PeerSummary; connected: boolean; reason?: string };
  /** The active chain changed (blocks connected, possibly after a reorg). */
  tip: { hash: Uint8Array; height: number; connected: Block[]; disconnected: Block[] };
  /** A transaction entered the mempool (`from`: the peer id, or undefined when local). */
  tx: { txid: Uint8Array; from?: number };
  banned: { host: string; reason: string };
  /** Sync progress: connected height and best header height. */
  sync: { height: number; headerHeight: number };
  /** A compact block was received (BIP 152): how many of its transactions came from the mempool. */
  compact: {
    hash: Uint8Array;
    transactions: number;
    prefilled: number;
    fromMempool: number;
    missing: number;
  };
  /** Something noteworthy that is not an error of the node (a rejected block, a failed dial). */
  warning: { message: string; error?: unknown };
}

interface Connection {
  peer: Peer;
  stream: Stream;
  host: string;
}

export class LedgerNode extends Emitter<NodeEvents> {
  readonly network: Network;
  readonly chain: NodeChain;
  readonly mempool: NodeMempool;
  readonly params: ChainParams;
  readonly download: BlockDownload;
  readonly addresses = new AddressBook();
  readonly bans = new BanList();
  readonly relay: Relay;
  readonly #opts: LedgerNodeOptions;
  readonly #connections = new Map<number, Connection>();
  readonly #localNonces = new Set<bigint>();
  readonly #handlers: Handlers;
  readonly #timers: Timer[] = [];
  readonly #addNodes = new Map<string, { address: Address; connected: boolean }>();
  #listener: StreamListener | undefined;
  #closed = false;
  /** Serialises chain and mempool work: one message at a time, in arrival order. */
  #work: Promise<void> = Promise.resolve();

  constructor(options: LedgerNodeOptions) {
    super();
    this.#opts = options;
    this.network = options.network;
    this.chain = options.chain;
    this.mempool = options.mempool;
    this.params = options.params ?? REGTEST;
    this.download = new BlockDownload({
      stallTimeoutMs: options.stallTimeoutMs,
      requestTimeoutMs: options.requestTimeoutMs,
    });
    this.relay = new Relay(this);
    this.#handlers = new Handlers(this);
    const clock = this.network.clock;
    this.#timers.push(clock.setInterval(() => this.#tick(), 1000));
    this.#timers.push(clock.setInterval(() => this.relay.flush(), options.relayIntervalMs ?? 100));
  }

  /** Network-adjusted Unix time in seconds (see `epochMs`). */
  unixTime(): number {
    return ((this.#opts.epochMs ?? 0) + this.network.clock.now()) / 1000;
  }

  /** The address the node listens on (after `start`). */
  get listenAddress(): Address | undefined {
    return this.#listener?.localAddress;
  }

  /** Starts listening (when `listen` was given). Rejects with the transport's error. */
  async start(): Promise<void> {
    if (this.#opts.listen) {
      this.#listener = await this.network.listen(this.#opts.listen, (stream) =>
        this.#accept(stream),
      );
    }
  }

  /** Ready peers. */
  readyPeers(): Peer[] {
    return [...this.#connections.values()].map((c) => c.peer).filter((p) => p.state === 'ready');
  }

  peerSummaries(): PeerSummary[] {
    return [...this.#connections.values()].map((c) => this.#summary(c.peer));
  }

  /** Opens an outbound connection; resolves once the handshake completed. */
  async connect(address: Address): Promise<Peer> {
    if (this.#closed) throw new LedgerError('CLOSED', 'node closed');
    if (this.bans.isBanned(address.host, this.network.clock.now())) {
      throw new LedgerError('PROTOCOL', `${formatAddress(address)} is banned`);
    }
    const outbound = [...this.#connections.values()].filter((c) => c.peer.outbound).length;
    if (outbound >= (this.#opts.maxOutbound ?? 8))
      throw new LedgerError('LIMIT', 'outbound connection limit reached');
    const stream = await this.network.dial(address, { timeoutMs: 10_000 });
    const peer = this.#attach(stream, true);
    return new Promise<Peer>((resolve, reject) => {
      if (peer.state === 'ready') resolve(peer);
      const offReady = peer.on('ready', () => {
        offClosed();
        resolve(peer);
      });
      const offClosed = peer.on('closed', (e) => {
        offReady();
        reject(
          new LedgerError(
            'PROTOCOL',
            `connection to ${formatAddress(address)} closed: ${e.reason}`,
          ),
        );
      });
    });
  }

  /**
   * Keeps an outbound connection to `address` (bitcoind's `addnode ... add` / `-connect`):
   * dials now and again `reconnectMs` after each loss.
   */
  addNode(address: Address): void {
    const key = formatAddress(address);
    if (this.#addNodes.has(key)) return;
    this.#addNodes.set(key, { address, connected: false });
    this.#dialAddNode(key);
  }

  removeNode(address: Address): boolean {
    return this.#addNodes.delete(formatAddress(address));
  }

  /** A block from outside the network (the local miner, RPC `submitblock`): accepted and relayed. */
  async submitBlock(block: Block): Promise<'connected' | 'stored' | 'orphan' | 'duplicate'> {
    let status: 'connected' | 'stored' | 'orphan' | 'duplicate' = 'duplicate';
    await this.#serial(async () => {
      status = await this.#handlers.processBlock(block, undefined);
    });
    return status;
  }

  /** A transaction from outside (the wallet, RPC `sendrawtransaction`): accepted and relayed. */
  async submitTransaction(tx: Transaction): Promise<Uint8Array> {
    await this.#serial(async () => {
      await this.#handlers.processTransaction(tx, undefined, true);
    });
    return txid(tx);
  }

  /** Closes every connection to `address` (bitcoind's `disconnectnode`); returns how many. */
  disconnect(address: Address): number {
    let n = 0;
    for (const c of [...this.#connections.values()]) {
      if (
        c.stream.remoteAddress.host === address.host &&
        c.stream.remoteAddress.port === address.port
      ) {
        c.peer.close('disconnected by request');
        n++;
      }
    }
    return n;
  }

  /** Disconnects and bans `host` for `banTimeMs`. */
  ban(host: string, reason: string): void {
    // The misbehaving peer has closed itself; a local address is not banned (see banLocal).
    if (!this.#opts.banLocal && (host.startsWith('127.') || host === '::1')) return;
    this.bans.ban(host, this.network.clock.now() + (this.#opts.banTimeMs ?? 24 * 3600_000));
    this.emit('banned', { host, reason });
    for (const c of this.#connections.values())
      if (c.host === host) c.peer.close(`banned: ${reason}`);
  }

  /** For the handlers: runs `job` after all earlier chain/mempool work. */
  serial(job: () => Promise<void>): Promise<void> {
    return this.#serial(job);
  }

  /** For the handlers and relay: emits node events. */
  report<K extends keyof NodeEvents>(event: K, payload: NodeEvents[K]): void {
    this.emit(event, payload);
  }

  /**
   * Tops up the download queue from the chain's missing blocks (headers without blocks on the
   * best-header chain), when it ran below half a window or when `force`d after new headers.
   */
  refillWanted(force = false): void {
    const chain = this.chain;
    if (chain.bestHeader.height <= chain.tip.height) return;
    if (!force && this.download.pending >= this.download.window / 2) return;
    const missing = chain.missingBlocks(this.download.window + 64);
    this.download.want(
      missing.map((e) => ({ hash: e.hash, key: toHex(e.hash), height: e.height })),
    );
  }

  /** Requests blocks from every ready peer with free download slots. */
  scheduleDownloads(): void {
    this.refillWanted();
    const now = this.network.clock.now();
    const tipHeight = this.chain.tip.height;
    for (const peer of this.readyPeers()) {
      const blocks = this.download.assign(peer.id, tipHeight, now);
      if (blocks.length === 0) continue;
      this.#handlers.requestBlocks(peer, blocks);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) t.cancel();
    this.#addNodes.clear();
    await this.#listener?.close();
    for (const c of [...this.#connections.values()]) {
      c.peer.close('node closing');
      c.stream.destroy();
    }
    this.#connections.clear();
    await this.#work.catch(() => undefined);
  }

  #serial(job: () => Promise<void>): Promise<void> {
    const run = this.#work.then(job);
    this.#work = run.catch(() => undefined);
    return run;
  }

  #dialAddNode(key: string): void {
    const entry = this.#addNodes.get(key);
    if (!entry || this.#closed || entry.connected) return;
    const retry = (): void => {
      entry.connected = false;
      if (this.#closed || !this.#addNodes.has(key)) return;
      this.#timers.push(
        this.network.clock.setTimeout(() => this.#dialAddNode(key), this.#opts.reconnectMs ?? 5000),
      );
    };
    this.connect(entry.address).then(
      (peer) => {
        entry.connected = true;
        peer.on('closed', retry);
      },
      (error) => {
        this.emit('warning', { message: `addnode ${key}: ${String(error)}`, error });
        retry();
      },
    );
  }

  #accept(stream: Stream): void {
    const host = stream.remoteAddress.host;
    const inbound = [...this.#connections.values()].filter((c) => !c.peer.outbound).length;
    if (
      this.#closed ||
      this.bans.isBanned(host, this.network.clock.now()) ||
      inbound >= (this.#opts.maxInbound ?? 117)
    ) {
      stream.destroy();
      return;
    }
    this.#attach(stream, false);
  }

  #attach(stream: Stream, outbound: boolean): Peer {
    const peer = new Peer({
      magic: this.params.magic,
      clock: this.network.clock,
      random: this.network.random,
      outbound,
      address: formatAddress(stream.remoteAddress),
      localVersion: () => this.#version(stream),
      isLocalNonce: (n) => this.#localNonces.has(n),
      pingIntervalMs: this.#opts.pingIntervalMs,
      send: (bytes) => {
        stream.write(bytes).catch((error) => peer.close(`write failed: ${String(error)}`));
      },
    });
    const conn: Connection = { peer, stream, host: stream.remoteAddress.host };
    this.#connections.set(peer.id, conn);
    peer.on('ready', () => {
      this.emit('peer', { peer: this.#summary(peer), connected: true });
      this.#handlers.onReady(peer);
    });
    peer.on('message', ({ message }) => {
      this.#serial(() => this.#handlers.handle(peer, message)).catch((error) => {
        this.emit('warning', {
          message: `handling ${message.command} from ${peer.address}`,
          error,
        });
      });
    });
    peer.on('misbehaved', (e) => {
      if (e.banned) this.ban(conn.host, e.reason);
    });
    peer.on('closed', (e) => {
      this.#connections.delete(peer.id);
      this.#localNonces.delete(peer.localNonce);
      this.download.peerGone(peer.id);
      this.relay.peerGone(peer.id);
      this.#handlers.peerGone(peer.id);
      stream.destroy();
      this.emit('peer', { peer: this.#summary(peer), connected: false, reason: e.reason });
      this.scheduleDownloads();
    });
    void this.#readLoop(peer, stream);
    return peer;
  }

  async #readLoop(peer: Peer, stream: Stream): Promise<void> {
    try {
      for await (const chunk of stream) {
        peer.receive(chunk);
        if (peer.state === 'closed') break;
        // Backpressure: read on only once the messages of this chunk were processed.
        await this.#work;
      }
      peer.close('connection closed by peer');
    } catch (error) {
      peer.close(`connection error: ${String(error)}`);
    }
  }

  #version(stream: Stream): VersionMessage {
    const b = this.network.random.bytes(8);
    const nonce = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
    this.#localNonces.add(nonce);
    const services = NODE_NETWORK | NODE_WITNESS;
    return {
      command: 'version',
      version: PROTOCOL_VERSION,
      services,
      timestamp: BigInt(Math.floor(this.unixTime())),
      receiver: { services: 0n, host: stream.remoteAddress.host, port: stream.remoteAddress.port },
      sender: { services, host: stream.localAddress.host, port: this.listenAddress?.port ?? 0 },
      nonce,
      userAgent: this.#opts.userAgent ?? '/peerkit-ledger:0.1.0/',
      startHeight: this.chain.tip.height,
      relay: true,
    };
  }

  #tick(): void {
    const now = this.network.clock.now();
    for (const id of this.download.stalling(this.chain.tip.height, now)) {
      this.#connections.get(id)?.peer.close('stalling the block download');
    }
    this.scheduleDownloads();
  }

  #summary(peer: Peer): PeerSummary {
    return {
      id: peer.id,
      address: peer.address,
      inbound: !peer.outbound,
      version: peer.info?.version ?? 0,
      services: peer.info?.services ?? 0n,
      userAgent: peer.info?.userAgent ?? '',
      startHeight: peer.info?.startHeight ?? -1,
      syncedHeaders: this.download.getPeerHeight(peer.id),
      bytesSent: peer.bytesSent,
      bytesReceived: peer.bytesReceived,
      pingTimeMs: peer.pingTimeMs,
      connectedAt: peer.connectedAt,
      score: peer.score,
    };
  }
}
