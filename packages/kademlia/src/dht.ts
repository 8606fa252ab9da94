/**
 * `DHT`: a Mainline DHT node. It wires the pure parts (routing table, lookup, store, tokens,
 * server) to a datagram socket from a transport `Network`, so the same node runs on real UDP
 * (`nodeNetwork()`) and inside netsim.
 */
import { EventEmitter } from 'node:events';
import type { BencodeInput } from '@peerkit/bencode';
import type { Address, DatagramSocket, Network, Timer } from '@peerkit/transport';
import { contactsOfResponse, isValidItem, peersOfResponse } from './answers';
import { ExternalIpVotes, isValidNodeIdForIp, isVerifiedNode, nodeIdForIp } from './bep42';
import { encodeValue, type Item, itemTarget } from './bep44';
import { InfohashSampler, readSampleResponse, type SampleInfohashesResult } from './bep51';
import type { Contact } from './compact';
import { DHTError, isDHTError } from './errors';
import { normalizeIp } from './ip';
import type { KrpcResponse, QueryArguments } from './krpc';
import { type Candidate, Lookup } from './lookup';
import { assertNodeId, idEquals, type NodeId, randomId, randomIdInBucket, toHex } from './node-id';
import { type DHTState, parseState } from './persistence';
import { type ObserveResult, RoutingTable, type TableNode } from './routing-table';
import { Rpc, type RpcOptions, type RpcStats } from './rpc';
import { DEFAULT_MAX_VALUES, handleQuery, type ServerContext } from './server';
import { Store, type StoreLimits } from './store';
import { TokenManager } from './token';

export interface DHTOptions {
  /** Where sockets, time and randomness come from. */
  network: Network;
  /** Our node id (20 bytes); default: random, or BEP 42-derived from `externalIp`. */
  id?: NodeId;
  /** Our external IP, if known: the id is derived from it (BEP 42). */
  externalIp?: string;
  /** Bucket size and lookup width (BEP 5: 8). */
  k?: number;
  /** Lookup parallelism (default 3). */
  alpha?: number;
  /** BEP 43 read-only node: sends `ro`, answers no queries. */
  readOnly?: boolean;
  /** Store limits for what other nodes announce and put here. */
  store?: StoreLimits;
  /** RPC tuning: timeouts, retries, congestion window, rate limit. */
  rpc?: RpcOptions;
  /** A saved state (`dht.toState()`): its id and nodes are reused. */
  state?: DHTState;
  /** How often to look for stale buckets to refresh (default 60 s). */
  refreshCheckMs?: number;
  /** Peers per get_peers response (default 50). */
  maxValues?: number;
  /** Follow BEP 42 votes about our external IP and re-derive our id (default true). */
  adoptExternalIp?: boolean;
  /**
   * BEP 51 `interval` we answer `sample_infohashes` with, in seconds (0-21600, default 60): how
   * long a sample of a store too big for one response is kept.
   */
  sampleIntervalSeconds?: number;
}

export interface ListenOptions {
  /** Default 0.0.0.0. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
}

export interface LookupStats {
  queried: number;
  responded: number;
  failed: number;
  rounds: number;
}

/** Progress of a lookup, yielded as it happens (js-libp2p style). */
export type LookupEvent =
  | { type: 'query'; to: Contact; hop: number }
  | { type: 'response'; from: Contact; closer: Contact[] }
  | { type: 'failure'; to: Contact; error: DHTError }
  | { type: 'peers'; from: Contact | 'self'; peers: Address[] }
  | { type: 'value'; from: Contact | 'self'; item: Item }
  | { type: 'done'; closest: Contact[]; stats: LookupStats };

export type LookupMethod = 'find_node' | 'get_peers' | 'get';

export interface LookupOptions {
  /** find_node (default), get_peers (target = info-hash) or get (BEP 44 target). */
  method?: LookupMethod;
  /** BEP 44 get: the salt the target was made with (needed to verify mutable items). */
  salt?: Uint8Array;
  /** BEP 44 get: only items with a higher seq. */
  seq?: number;
  signal?: AbortSignal;
}

export interface LookupResult {
  closest: Candidate[];
  stats: LookupStats;
  peers: Address[];
  items: Item[];
}

export interface AnnounceOptions {
  /** BEP 5 implied_port: the receiver uses our UDP source port (default: when no port given). */
  impliedPort?: boolean;
}

export interface DHTEvents {
  /** A node joined our routing table. */
  node: [contact: Contact];
  /** A lookup found a peer for an info-hash. */
  peer: [peer: Address, infoHash: NodeId];
  /** Someone announced a peer to us. */
  announce: [peer: Address, infoHash: NodeId];
  /** Our id changed (BEP 42, after enough nodes agreed on our external IP). */
  id: [id: NodeId];
}

const VERSION = Uint8Array.of(0x50, 0x4b, 0x00, 0x01); // "PK" 0.1

export class DHT extends EventEmitter<DHTEvents> {
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
    super();
    this.options = options;
    this.network = options.network;
    this.k = options.k ?? 8;
    this.alpha = options.alpha ?? 3;
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
      onAnnounce: (infoHash, peer) => this.emit('announce', peer, infoHash),
    };
    rpc.onQuery = (query, from) => {
      // BEP 43: a read-only querier does not go into the routing table.
      if (!query.ro) this.heard({ id: query.a.id, address: from }, 'query');
      return handleQuery(ctx, query, from);
    };
    rpc.onResponse = (response, from) => this.voteExternalIp(response, from);
    const clock = this.network.clock;
    // One timer: refresh stale buckets (BEP 5) and drop expired store entries.
    this.timers.push(
      clock.setInterval(() => {
        this.refresh();
        this.store.prune();
      }, this.options.refreshCheckMs ?? 60_000),
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
    const sends = result.closest
      .filter((c) => c.token)
      .map((c) => rpc.query(c.contact.address, 'announce_peer', { ...args, token: c.token! }));
    const settled = await Promise.allSettled(sends);
    return {
      announced: settled.filter((s) => s.status === 'fulfilled').length,
      peers: result.peers,
    };
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
    const sends = result.closest
      .filter((c) => c.token)
      .map((c) => rpc.query(c.contact.address, 'put', { ...args, token: c.token! }));
    const settled = await Promise.allSettled(sends);
    return { target, stored: settled.filter((s) => s.status === 'fulfilled').length };
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
   * The lookup as an async generator of progress events; the last event is `done` with the
   * k closest nodes that answered. Peers (get_peers) and verified items (get) arrive as they come.
   */
  async *lookup(
    target: NodeId,
    options: LookupOptions = {},
    extraSeeds: readonly Contact[] = [],
  ): AsyncGenerator<LookupEvent, LookupResult> {
    assertNodeId(target, 'target');
    const rpc = this.requireRpc();
    const method = options.method ?? 'find_node';
    const seeds = [...this.routing.closest(target, this.k * 2), ...extraSeeds].filter(
      (c) => !idEquals(c.id, this.currentId),
    );
    const state = new Lookup(target, seeds, { k: this.k, alpha: this.alpha });
    const result: LookupResult = { closest: [], stats: statsOf(state), peers: [], items: [] };
    const seenPeers = new Set<string>();
    const events: LookupEvent[] = [];
    let wake: (() => void) | undefined;
    const notify = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const addPeers = (from: Contact | 'self', peers: Address[]) => {
      const fresh = peers.filter((p) => {
        const key = `${normalizeIp(p.host) ?? p.host}|${p.port}`;
        if (seenPeers.has(key)) return false;
        seenPeers.add(key);
        return true;
      });
      if (fresh.length === 0) return;
      result.peers.push(...fresh);
      for (const p of fresh) this.emit('peer', p, target);
      events.push({ type: 'peers', from, peers: fresh });
    };
    // We are part of the DHT too: what we store counts.
    if (method === 'get_peers') addPeers('self', this.store.getPeers(target, 1000));
    if (method === 'get') {
      const own = this.store.getItem(target);
      if (own && this.validItem(target, own, options.salt)) {
        result.items.push(own);
        events.push({ type: 'value', from: 'self', item: own });
      }
    }
    const args: QueryArguments =
      method === 'get_peers'
        ? { id: this.currentId, infoHash: target }
        : { id: this.currentId, target };
    if (method === 'get' && options.seq !== undefined) args.seq = options.seq;
    const slowMs = this.options.rpc?.timeoutMs ?? 1000;
    const start = (c: Candidate) => {
      events.push({ type: 'query', to: c.contact, hop: c.hop });
      const slowTimer = this.network.clock.setTimeout(() => {
        state.slow(c.contact.id);
        notify();
      }, slowMs);
      const onFailure = (error: unknown) => {
        slowTimer.cancel();
        state.fail(c.contact.id);
        // Our own RPC layer closing says nothing about the remote node.
        if (!isDHTError(error, 'REMOTE_ERROR') && !isDHTError(error, 'CLOSED'))
          this.routing.fail(c.contact.id);
        events.push({
          type: 'failure',
          to: c.contact,
          error: isDHTError(error) ? error : new DHTError('TIMEOUT', String(error)),
        });
        notify();
      };
      const onAnswer = (res: KrpcResponse) => {
        slowTimer.cancel();
        this.heard({ id: res.r.id, address: c.contact.address }, 'response');
        if (!idEquals(res.r.id, c.contact.id)) {
          // Someone else answers at that address now: the contact we had is stale.
          onFailure(new DHTError('REMOTE_ERROR', 'node id changed'));
          return;
        }
        const closer = this.contactsOf(res);
        state.respond(c.contact.id, closer, res.r.token);
        events.push({ type: 'response', from: c.contact, closer });
        if (method === 'get_peers' && res.r.values) addPeers(c.contact, this.peersOf(res));
        if (method === 'get' && res.r.v) {
          const item: Item = { v: res.r.v };
          if (res.r.k) Object.assign(item, { k: res.r.k, sig: res.r.sig, seq: res.r.seq });
          if (options.salt && options.salt.length > 0 && item.k) item.salt = options.salt;
          if (this.validItem(target, item, options.salt)) {
            result.items.push(item);
            events.push({ type: 'value', from: c.contact, item });
          }
        }
        notify();
      };
      rpc.query(c.contact.address, method, args).then((res) => {
        try {
          onAnswer(res);
        } catch (error) {
          // A bug or an answer we cannot use must not stall the lookup.
          onFailure(error);
        }
      }, onFailure);
    };
    // Stop asking once aborted or closed (close() or our socket closed under the RPC layer,
    // which also rejects every query in flight with CLOSED, so the loop ends at once).
    const stopped = () => options.signal?.aborted || this.closed || rpc.isClosed;
    for (let guard = 0; guard < 100_000; guard++) {
      if (!stopped()) for (const c of state.next()) start(c);
      while (events.length > 0) yield events.shift()!;
      if (state.pending === 0 && (state.done || stopped())) break;
      // Stop early when an immutable item was found: its hash proves it.
      if (method === 'get' && result.items.some((i) => !i.k) && state.pending === 0) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    result.closest = state.closest();
    result.stats = statsOf(state);
    const done: LookupEvent = {
      type: 'done',
      closest: result.closest.map((c) => c.contact),
      stats: result.stats,
    };
    yield done;
    return result;
  }

  /** Runs `lookup` to the end and returns its result. */
  async runLookup(
    target: NodeId,
    options: LookupOptions = {},
    extraSeeds: readonly Contact[] = [],
  ): Promise<LookupResult> {
    const it = this.lookup(target, options, extraSeeds);
    for (;;) {
      const step = await it.next();
      if (step.done) return step.value;
    }
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

  private contactsOf(res: KrpcResponse): Contact[] {
    return contactsOfResponse(res, this.currentId, this.countMalformed);
  }

  private peersOf(res: KrpcResponse): Address[] {
    return peersOfResponse(res, this.countMalformed);
  }

  private validItem(target: NodeId, item: Item, salt?: Uint8Array): boolean {
    return isValidItem(target, item, salt);
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
    if (result.kind === 'added') this.emit('node', contact);
    if (result.kind === 'pending') this.pingOne(result.ping);
  }

  /** BEP 5: ping the least recently seen questionable node of a full bucket. */
  private pingOne(candidates: TableNode[]) {
    const rpc = this.rpc;
    if (!rpc) return;
    const lastSeen = (n: TableNode) => Math.max(n.lastResponse ?? -1, n.lastQuery ?? -1);
    this.pinging ??= new Set();
    const pinging = this.pinging;
    const node = [...candidates]
      .sort((a, b) => lastSeen(a) - lastSeen(b))
      .find((n) => !pinging.has(toHex(n.id)));
    if (!node) return;
    const key = toHex(node.id);
    pinging.add(key);
    rpc.query(node.address, 'ping', { id: this.currentId }).then(
      (res) => {
        pinging.delete(key);
        if (idEquals(res.r.id, node.id))
          this.heard({ id: node.id, address: node.address }, 'response');
        else this.routing.fail(node.id, true);
      },
      (error: unknown) => {
        pinging.delete(key);
        if (isDHTError(error, 'CLOSED')) return; // we closed, the node did nothing wrong
        // The RPC layer already retried: BEP 5's "try once more before discarding".
        const { promoted } = this.routing.fail(node.id, true);
        if (promoted) this.emit('node', promoted);
      },
    );
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
    this.emit('id', id);
  }
}

function statsOf(l: Lookup): LookupStats {
  return { queried: l.queried, responded: l.responded, failed: l.failed, rounds: l.rounds };
}
