/**
 * `DHT`: a Mainline DHT node. It wires the pure parts (routing table, lookup, store, tokens,
 * server) to a datagram socket from a transport `Network`, so the same node runs on real UDP
 * (`nodeNetwork()`) and inside netsim.
 */
import type { BencodeInput } from '@peerkit/bencode';
import {
  type Address,
  type DatagramSocket,
  Emitter,
  type Network,
  type Timer,
} from '@peerkit/transport';
import { contactsOfResponse, peersOfResponse } from './answers';
import { ExternalIpVotes, isValidNodeIdForIp, isVerifiedNode, nodeIdForIp } from './bep42';
import { encodeValue, type Item, itemTarget } from './bep44';
import { InfohashSampler, readSampleResponse, type SampleInfohashesResult } from './bep51';
import type { Contact } from './compact';
import {
  DEFAULT_ALPHA,
  DEFAULT_K,
  DEFAULT_QUERY_TIMEOUT_MS,
  DEFAULT_REFRESH_CHECK_MS,
} from './defaults';
import { DHTError } from './errors';
import type { DHTEvents } from './events';
import type { KrpcResponse, QueryArguments } from './krpc';
import { assertNodeId, idEquals, type NodeId, randomId, randomIdInBucket, toHex } from './node-id';
import type { AnnounceOptions, DHTOptions, ListenOptions } from './options';
import { type DHTState, parseState } from './persistence';
import {
  commitToClosest,
  type LookupEvent,
  type LookupOptions,
  type LookupResult,
  type QueryContext,
  runQuery,
  runQueryToEnd,
} from './query';
import { type ObserveResult, RoutingTable, type TableNode } from './routing-table';
import { Rpc, type RpcOptions, type RpcStats } from './rpc';
import { DEFAULT_MAX_VALUES, handleQuery, type ServerContext } from './server';
import { Store } from './store';
import { type PingContext, pingQuestionable, verifyNode } from './table-pings';
import { TokenManager } from './token';

export type { DHTEvents, IdEvent, NodeEvent, PeerEvent } from './events';
export type { LookupEvent, LookupMethod, LookupOptions, LookupResult, LookupStats } from './query';
export type { AnnounceOptions, DHTOptions, ListenOptions };

/** Queries whose answers carry nodes: the steps of a lookup. */
const ANSWERED_WITH_NODES = new Set(['find_node', 'get_peers', 'get', 'sample_infohashes']);

const VERSION = Uint8Array.of(0x50, 0x4b, 0x00, 0x01); // "PK" 0.1

export class DHT extends Emitter<DHTEvents> {
  readonly network: Network;
  readonly k: number;
  readonly alpha: number;
  readonly store: Store;
  private readonly sampler: InfohashSampler;
  private currentId: NodeId;
  private routing: RoutingTable;
  private readonly tokens: TokenManager;
  private readonly options: DHTOptions;
  private socket: DatagramSocket | undefined;
  private rpc: Rpc | undefined;
  private timers: Timer[] = [];
  /** Hex ids of the nodes being pinged (BEP 5 replacement); created on the first ping. */
  private pinging: Set<string> | undefined;
  private readonly savedNodes: Contact[];
  private readonly ipVotes = new ExternalIpVotes();
  private closed = false;
  /** Our external address as most nodes report it (BEP 42 `ip`), once known. */
  externalAddress: Address | undefined;

  constructor(options: DHTOptions) {
    super(options.onHandlerError ? { onHandlerError: options.onHandlerError } : {});
    this.options = options;
    this.network = options.network;
    this.k = options.k ?? DEFAULT_K;
    this.alpha = options.alpha ?? DEFAULT_ALPHA;
    const saved = options.state ? parseState(options.state) : undefined;
    let id = options.id ?? saved?.id;
    if (!id && options.externalIp) id = nodeIdForIp(options.externalIp, options.network.random);
    this.currentId = id ?? randomId(options.network.random);
    assertNodeId(this.currentId);
    this.savedNodes = saved?.nodes ?? [];
    this.routing = new RoutingTable(this.currentId, this.network.clock, { k: this.k });
    this.store = new Store(this.network.clock, options.store);
    this.tokens = new TokenManager(this.network.clock, this.network.random);
    this.sampler = new InfohashSampler(
      this.store,
      this.network.clock,
      this.network.random,
      options.sampleIntervalSeconds,
    );
  }

  get id(): NodeId {
    return this.currentId;
  }

  get table(): RoutingTable {
    return this.routing;
  }

  /** The bound address (after `listen`). */
  get address(): Address {
    if (!this.socket) throw new DHTError('NOT_LISTENING', 'call listen() first');
    return this.socket.localAddress;
  }

  get stats(): RpcStats {
    if (!this.rpc) throw new DHTError('NOT_LISTENING', 'call listen() first');
    return this.rpc.stats;
  }

  /** Binds the UDP socket and starts the refresh timer. */
  async listen(options: ListenOptions = {}): Promise<Address> {
    if (this.closed) throw new DHTError('CLOSED', 'DHT closed');
    if (this.socket) return this.socket.localAddress;
    const socket = await this.network.bindDatagram({
      host: options.host ?? '0.0.0.0',
      port: options.port ?? 0,
    });
    this.socket = socket;
    const rpcOptions: RpcOptions = {
      version: VERSION,
      ...(this.options.readOnly ? { readOnly: true } : {}),
      ...this.options.rpc,
    };
    const rpc = new Rpc(socket, this.network.clock, this.network.random, rpcOptions);
    this.rpc = rpc;
    const dht = this;
    const ctx: ServerContext = {
      get id() {
        return dht.currentId;
      },
      get table() {
        return dht.routing;
      },
      store: this.store,
      tokens: this.tokens,
      maxValues: this.options.maxValues ?? DEFAULT_MAX_VALUES,
      sampler: this.sampler,
      versionBytes: rpcOptions.version?.length ?? 0,
      onAnnounce: (infoHash, peer) => this.emit('announce', { peer, infoHash }),
      onUnverified: (node) => this.verify(node),
    };
    rpc.onQuery = (query, from) => {
      // BEP 43: a read-only querier does not go into the routing table.
      if (!query.ro) this.heard({ id: query.a.id, address: from }, 'query');
      const reply = handleQuery(ctx, query, from);
      // A lookup step from a node we know only by its queries: ping it back (after the reply),
      // so that it is handed out to others once it answered (docs/security.md, "DHT").
      if (!query.ro && ANSWERED_WITH_NODES.has(query.q)) {
        const node = this.routing.get(query.a.id);
        if (node?.lastResponse === undefined && node?.address.port === from.port) {
          this.verify(node);
        }
      }
      return reply;
    };
    rpc.onResponse = (response, from) => this.voteExternalIp(response, from);
    const clock = this.network.clock;
    // One timer: refresh stale buckets (BEP 5) and drop expired store entries.
    this.timers.push(
      clock.setInterval(() => {
        this.refresh();
        this.store.prune();
      }, this.options.refreshCheckMs ?? DEFAULT_REFRESH_CHECK_MS),
    );
    return socket.localAddress;
  }

  /**
   * Joins the DHT: asks each address (and the nodes of a saved state) for the nodes closest to
   * our id, then looks up our own id. Resolves with the routing table size.
   */
  async bootstrap(addresses: readonly Address[] = []): Promise<number> {
    const rpc = this.requireRpc();
    const seeds: Contact[] = [];
    const ask = async (address: Address) => {
      try {
        const res = await rpc.query(address, 'find_node', {
          id: this.currentId,
          target: this.currentId,
        });
        const from = { id: res.r.id, address };
        this.heard(from, 'response');
        seeds.push(from, ...this.contactsOf(res));
      } catch {
        // An unreachable bootstrap address is skipped; the others may work.
      }
    };
    await Promise.all([...addresses.map(ask), ...this.savedNodes.map((n) => ask(n.address))]);
    await this.runLookup(this.currentId, { method: 'find_node' }, seeds);
    // Kademlia paper, "Node join": then refresh every bucket farther than our closest neighbour.
    // Ours are the buckets that are not full; the far half of the id space is empty otherwise.
    await Promise.all(
      [...Array(Math.max(0, this.routing.bucketCount - 1)).keys()]
        .filter((i) => this.routing.bucketNodes(i).length < this.k)
        .map((i) => {
          this.routing.touchBucket(i);
          const target = randomIdInBucket(this.currentId, i, this.network.random);
          return this.runLookup(target, { method: 'find_node' });
        }),
    );
    return this.routing.size;
  }

  /**
   * Sends one query to `address` (our `id` is filled in) and resolves with the response; rejects
   * with `DHTError` (`TIMEOUT`, `REMOTE_ERROR` with `remoteCode`, ...). For tools and tests.
   */
  async queryNode(
    address: Address,
    method: string,
    args: Omit<QueryArguments, 'id'> = {},
  ): Promise<KrpcResponse> {
    const res = await this.requireRpc().query(address, method, { ...args, id: this.currentId });
    this.heard({ id: res.r.id, address }, 'response');
    return res;
  }

  /**
   * BEP 51: asks the node at `address` for a sample of the info-hashes it stores, and for the
   * nodes it knows closest to `target` (default: a random id), to walk the keyspace with one
   * query per node. Rejects like `queryNode` (`TIMEOUT`; `REMOTE_ERROR` with `remoteCode` 204
   * from a node without BEP 51), and with `MALFORMED_MESSAGE` when the response lacks
   * `samples`, `num` or `interval` (a node that answered as if it were find_node).
   */
  async sampleInfohashes(address: Address, target?: NodeId): Promise<SampleInfohashesResult> {
    if (target !== undefined) assertNodeId(target, 'target');
    const res = await this.queryNode(address, 'sample_infohashes', {
      target: target ?? randomId(this.network.random),
    });
    return readSampleResponse(res, this.currentId);
  }

  /** The k nodes closest to `target`, found by an iterative find_node lookup. */
  async findNode(target: NodeId): Promise<Contact[]> {
    const result = await this.runLookup(target, { method: 'find_node' });
    return result.closest.map((c) => c.contact);
  }

  /** Peers announced for `infoHash` (BEP 5 get_peers lookup). */
  async getPeers(infoHash: NodeId): Promise<Address[]> {
    assertNodeId(infoHash, 'infoHash');
    return (await this.runLookup(infoHash, { method: 'get_peers' })).peers;
  }

  /**
   * Announces that we have `infoHash` on `port` (BEP 5 announce_peer to the k closest nodes,
   * with their tokens). Without a port, `implied_port` is used. Resolves with the number of
   * nodes that accepted and the peers the lookup found on the way.
   */
  async announce(
    infoHash: NodeId,
    port?: number,
    options: AnnounceOptions = {},
  ): Promise<{ announced: number; peers: Address[] }> {
    assertNodeId(infoHash, 'infoHash');
    const rpc = this.requireRpc();
    const impliedPort = options.impliedPort ?? port === undefined;
    const result = await this.runLookup(infoHash, { method: 'get_peers' });
    const args: QueryArguments = { id: this.currentId, infoHash, port: port ?? this.address.port };
    if (impliedPort) args.impliedPort = true;
    const { accepted } = await commitToClosest(rpc, result, 'announce_peer', args);
    return { announced: accepted, peers: result.peers };
  }

  /**
   * Stores a BEP 44 item on the k closest nodes to its target: a value to store immutably, or a
   * signed mutable item (`createMutableItem`), optionally with BEP 44 `cas` (the seq it replaces).
   * Resolves with the target and how many nodes took it.
   */
  async put(
    item: Item | { value: BencodeInput },
    options: { cas?: number } = {},
  ): Promise<{ target: NodeId; stored: number }> {
    const rpc = this.requireRpc();
    const full: Item = 'value' in item ? { v: encodeValue(item.value) } : item;
    const target = itemTarget(full);
    const result = await this.runLookup(target, { method: 'get' });
    const args: QueryArguments = { id: this.currentId, v: full.v };
    if (full.k) {
      args.k = full.k;
      args.sig = full.sig!;
      args.seq = full.seq!;
      if (full.salt && full.salt.length > 0) args.salt = full.salt;
      // BEP 44 CAS: only overwrite nodes whose stored seq is `cas`.
      if (options.cas !== undefined) args.cas = options.cas;
    }
    const { accepted } = await commitToClosest(rpc, result, 'put', args);
    return { target, stored: accepted };
  }

  /**
   * Gets a BEP 44 item by target: the first immutable value whose hash matches, or the mutable
   * item with the highest valid `seq` (pass the `salt` the target was made with).
   */
  async get(
    target: NodeId,
    options: { salt?: Uint8Array; seq?: number } = {},
  ): Promise<Item | undefined> {
    assertNodeId(target, 'target');
    const result = await this.runLookup(target, { method: 'get', ...options });
    let best: Item | undefined;
    for (const item of result.items) {
      if (!item.k) return item;
      if (!best || (item.seq ?? 0) > (best.seq ?? 0)) best = item;
    }
    return best;
  }

  /**
   * The lookup as an async generator of progress events (the query driver, `query.ts`); the
   * last event is `done` with the k closest nodes that answered. Peers (get_peers) and verified
   * items (get) arrive as they come.
   */
  async *lookup(
    target: NodeId,
    options: LookupOptions = {},
    extraSeeds: readonly Contact[] = [],
  ): AsyncGenerator<LookupEvent, LookupResult> {
    assertNodeId(target, 'target');
    return yield* runQuery(this.queryContext(), target, options, extraSeeds);
  }

  /** Runs `lookup` to the end and returns its result. */
  async runLookup(
    target: NodeId,
    options: LookupOptions = {},
    extraSeeds: readonly Contact[] = [],
  ): Promise<LookupResult> {
    assertNodeId(target, 'target');
    return runQueryToEnd(this.queryContext(), target, options, extraSeeds);
  }

  /** The routing table as plain data, for `saveState` and `new DHT({ state })`. */
  toState(): DHTState {
    return {
      id: toHex(this.currentId),
      nodes: this.routing
        .nodes()
        .map((n) => ({ id: toHex(n.id), host: n.address.host, port: n.address.port })),
    };
  }

  /** Stops timers, rejects outstanding queries, closes the socket. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) t.cancel();
    this.timers = [];
    this.rpc?.close();
    await this.socket?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private requireRpc(): Rpc {
    if (this.closed) throw new DHTError('CLOSED', 'DHT closed');
    if (!this.rpc) throw new DHTError('NOT_LISTENING', 'call listen() first');
    return this.rpc;
  }

  /** What the query driver needs from this node, read at the start of each lookup. */
  private queryContext(): QueryContext {
    return {
      rpc: this.requireRpc(),
      clock: this.network.clock,
      id: this.currentId,
      table: this.routing,
      store: this.store,
      k: this.k,
      alpha: this.alpha,
      slowMs: this.options.rpc?.timeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS,
      isClosed: () => this.closed,
      heard: (contact, kind) => this.heard(contact, kind),
      contactsOf: (res) => this.contactsOf(res),
      peersOf: (res) => this.peersOf(res),
      foundPeer: (peer, infoHash) => this.emit('peer', { peer, infoHash }),
    };
  }

  private contactsOf(res: KrpcResponse): Contact[] {
    return contactsOfResponse(res, this.currentId, this.countMalformed);
  }

  private peersOf(res: KrpcResponse): Address[] {
    return peersOfResponse(res, this.countMalformed);
  }

  private readonly countMalformed = () => {
    if (this.rpc) this.rpc.stats.malformed++;
  };

  /** A node talked to us: update the routing table, ping questionable nodes if asked to. */
  private heard(contact: Contact, kind: 'response' | 'query') {
    if (this.closed || idEquals(contact.id, this.currentId)) return;
    const result: ObserveResult = this.routing.observe(
      contact,
      kind,
      isVerifiedNode(contact.id, contact.address.host),
    );
    if (result.kind === 'added') this.emit('node', { contact });
    if (result.kind === 'pending') this.ping(result.ping);
  }

  /** Pings a node known only by its queries (`table-pings.ts`). */
  private verify(contact: Contact) {
    const ctx = this.pingContext();
    if (ctx && !this.closed) verifyNode(ctx, contact);
  }

  /** Pings the least recently seen questionable node of a full bucket (`table-pings.ts`). */
  private ping(candidates: TableNode[]) {
    const ctx = this.pingContext();
    if (ctx) pingQuestionable(ctx, candidates);
  }

  private pingContext(): PingContext | undefined {
    if (!this.rpc) return undefined;
    this.pinging ??= new Set();
    const dht = this;
    return {
      rpc: this.rpc,
      id: this.currentId,
      // Read when the answer comes: a BEP 42 id change may have rebuilt the table meanwhile.
      get table() {
        return dht.routing;
      },
      pinging: this.pinging,
      heard: (contact) => this.heard(contact, 'response'),
      promoted: (contact) => this.emit('node', { contact }),
    };
  }

  /** BEP 5: refresh buckets unchanged for 15 minutes with a lookup of a random id in them. */
  private refresh() {
    if (this.closed || !this.rpc) return;
    for (const index of this.routing.bucketsToRefresh()) {
      this.routing.touchBucket(index);
      const target = randomIdInBucket(this.currentId, index, this.network.random);
      this.runLookup(target, { method: 'find_node' }).catch(() => {
        // Closing mid-refresh: nothing to do.
      });
    }
  }

  /**
   * BEP 42: responses tell us the address they saw us at. Once 3 distinct nodes agree on a
   * public IP our id is not valid for, we take a new id derived from it.
   */
  private voteExternalIp(response: KrpcResponse, from: Address) {
    const ip = response.ip;
    const host = ip && this.ipVotes.vote(ip.host, from.host);
    if (!ip || !host) return;
    this.externalAddress = { host, port: ip.port };
    if (this.options.adoptExternalIp === false || this.options.id) return;
    if (isValidNodeIdForIp(this.currentId, host)) return;
    const id = nodeIdForIp(host, this.network.random);
    if (id) this.changeId(id);
  }

  /** Moves to a new id: the routing table is rebuilt around it with the nodes we know. */
  private changeId(id: NodeId) {
    const old = this.routing.nodes();
    this.currentId = id;
    this.routing = new RoutingTable(id, this.network.clock, { k: this.k });
    for (const n of old) {
      this.routing.observe(n, n.lastResponse !== undefined ? 'response' : 'query', n.verified);
    }
    this.emit('id', { id });
  }
}
