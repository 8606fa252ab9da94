/**
 * The query driver: the I/O loop around the pure `Lookup` state machine. It asks the lookup which
 * nodes to query next, sends those queries through the RPC layer, feeds the answers back, and
 * reports progress as an async generator of events (js-libp2p style).
 *
 * A lookup is a query (`runQuery`: find_node, get_peers or BEP 44 get, iteratively towards the
 * target). announce_peer (BEP 5) and put (BEP 44) are that query followed by a commit step
 * (`commitToClosest`): one write to each of the k closest nodes that gave us a token.
 */
import type { Address, Clock } from '@peerkit/transport';
import { isValidItem } from './answers';
import type { Item } from './bep44';
import type { Contact } from './compact';
import { DHTError, isDHTError } from './errors';
import { normalizeIp } from './ip';
import type { KrpcResponse, QueryArguments } from './krpc';
import { type Candidate, Lookup } from './lookup';
import { idEquals, type NodeId } from './node-id';
import type { RoutingTable } from './routing-table';
import type { Rpc } from './rpc';
import type { Store } from './store';

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

/** What the driver needs from the node it runs for (the DHT gives it one of these). */
export interface QueryContext {
  readonly rpc: Rpc;
  readonly clock: Clock;
  /** Our id now (it may change under BEP 42 between lookups). */
  readonly id: NodeId;
  readonly table: RoutingTable;
  /** What we store ourselves: we are part of the DHT too. */
  readonly store: Store;
  readonly k: number;
  readonly alpha: number;
  /** After this long a silent node no longer holds one of the alpha slots. */
  readonly slowMs: number;
  /** True once the node closed: no new queries. */
  isClosed(): boolean;
  /** A node answered us: the routing table hears of it. */
  heard(contact: Contact, kind: 'response'): void;
  /** The nodes a response carries (malformed entries counted, not thrown). */
  contactsOf(res: KrpcResponse): Contact[];
  /** The peers a get_peers response carries. */
  peersOf(res: KrpcResponse): Address[];
  /** A lookup found a new peer for `infoHash`. */
  foundPeer(peer: Address, infoHash: NodeId): void;
}

/**
 * The lookup as an async generator of progress events; the last event is `done` with the
 * k closest nodes that answered. Peers (get_peers) and verified items (get) arrive as they come.
 */
export async function* runQuery(
  ctx: QueryContext,
  target: NodeId,
  options: LookupOptions = {},
  extraSeeds: readonly Contact[] = [],
): AsyncGenerator<LookupEvent, LookupResult> {
  const { rpc } = ctx;
  const method = options.method ?? 'find_node';
  const ownId = ctx.id;
  const seeds = [...ctx.table.closest(target, ctx.k * 2), ...extraSeeds].filter(
    (c) => !idEquals(c.id, ownId),
  );
  const state = new Lookup(target, seeds, { k: ctx.k, alpha: ctx.alpha });
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
    for (const p of fresh) ctx.foundPeer(p, target);
    events.push({ type: 'peers', from, peers: fresh });
  };
  // We are part of the DHT too: what we store counts.
  if (method === 'get_peers') addPeers('self', ctx.store.getPeers(target, 1000));
  if (method === 'get') {
    const own = ctx.store.getItem(target);
    if (own && isValidItem(target, own, options.salt)) {
      result.items.push(own);
      events.push({ type: 'value', from: 'self', item: own });
    }
  }
  const args: QueryArguments =
    method === 'get_peers' ? { id: ownId, infoHash: target } : { id: ownId, target };
  if (method === 'get' && options.seq !== undefined) args.seq = options.seq;

  const start = (c: Candidate) => {
    events.push({ type: 'query', to: c.contact, hop: c.hop });
    const slowTimer = ctx.clock.setTimeout(() => {
      state.slow(c.contact.id);
      notify();
    }, ctx.slowMs);
    const onFailure = (error: unknown) => {
      slowTimer.cancel();
      state.fail(c.contact.id);
      // Our own RPC layer closing says nothing about the remote node.
      if (!isDHTError(error, 'REMOTE_ERROR') && !isDHTError(error, 'CLOSED'))
        ctx.table.fail(c.contact.id);
      events.push({
        type: 'failure',
        to: c.contact,
        error: isDHTError(error) ? error : new DHTError('TIMEOUT', String(error)),
      });
      notify();
    };
    const onAnswer = (res: KrpcResponse) => {
      slowTimer.cancel();
      ctx.heard({ id: res.r.id, address: c.contact.address }, 'response');
      if (!idEquals(res.r.id, c.contact.id)) {
        // Someone else answers at that address now: the contact we had is stale.
        onFailure(new DHTError('REMOTE_ERROR', 'node id changed'));
        return;
      }
      const closer = ctx.contactsOf(res);
      state.respond(c.contact.id, closer, res.r.token);
      events.push({ type: 'response', from: c.contact, closer });
      if (method === 'get_peers' && res.r.values) addPeers(c.contact, ctx.peersOf(res));
      if (method === 'get' && res.r.v) {
        const item = itemOfResponse(res, options.salt);
        if (isValidItem(target, item, options.salt)) {
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
  const stopped = () => options.signal?.aborted || ctx.isClosed() || rpc.isClosed;
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
  yield { type: 'done', closest: result.closest.map((c) => c.contact), stats: result.stats };
  return result;
}

/** Runs a query to the end and returns its result. */
export async function runQueryToEnd(
  ctx: QueryContext,
  target: NodeId,
  options: LookupOptions = {},
  extraSeeds: readonly Contact[] = [],
): Promise<LookupResult> {
  const it = runQuery(ctx, target, options, extraSeeds);
  for (;;) {
    const step = await it.next();
    if (step.done) return step.value;
  }
}

/** What a commit step achieved: how many of the closest nodes took the write. */
export interface CommitResult {
  /** Nodes that answered the write with a response. */
  accepted: number;
  /** Nodes that answered with a KRPC error or not at all. */
  refused: number;
}

/**
 * The commit step of announce_peer and put: sends `method` with `args` and each node's own write
 * token to the closest nodes of `result` that handed out a token (BEP 5: "the token received
 * in response to a previous get_peers query"; BEP 44 likewise for put).
 */
export async function commitToClosest(
  rpc: Rpc,
  result: LookupResult,
  method: 'announce_peer' | 'put',
  args: QueryArguments,
): Promise<CommitResult> {
  const sends = result.closest
    .filter((c) => c.token)
    .map((c) => rpc.query(c.contact.address, method, { ...args, token: c.token! }));
  const settled = await Promise.allSettled(sends);
  const accepted = settled.filter((s) => s.status === 'fulfilled').length;
  return { accepted, refused: settled.length - accepted };
}

/** The BEP 44 item a get response carries (checked by the caller). */
function itemOfResponse(res: KrpcResponse, salt: Uint8Array | undefined): Item {
  const item: Item = { v: res.r.v! };
  if (res.r.k) Object.assign(item, { k: res.r.k, sig: res.r.sig, seq: res.r.seq });
  if (salt && salt.length > 0 && item.k) item.salt = salt;
  return item;
}

function statsOf(l: Lookup): LookupStats {
  return { queried: l.queried, responded: l.responded, failed: l.failed, rounds: l.rounds };
}
