/**
 * Answers incoming KRPC queries (the "server" half of a DHT node): BEP 5 `ping`, `find_node`,
 * `get_peers`, `announce_peer`, BEP 44 `get`, `put`, and BEP 51 `sample_infohashes`. Pure apart
 * from the state it is given.
 *
 * Size rules for our responses: at most `k` nodes per family, at most `maxValues` peers, BEP 44
 * values of at most 1,000 bytes; every response stays below `MAX_RESPONSE_BYTES` (1,500, a UDP
 * datagram that crosses an Ethernet MTU unfragmented for find_node and get_peers). A BEP 51
 * response carries as many samples as fit in `MAX_RESPONSE_BYTES`, the whole datagram counted.
 */
import { Buffer } from 'node:buffer';
import type { Address } from '@peerkit/transport';
import { checkItem, type Item, itemTarget } from './bep44';
import type { InfohashSampler } from './bep51';
import { type Contact, encodeCompactNodes, encodeCompactPeer, ipFamily } from './compact';
import {
  encodeMessage,
  KRPC_ERROR,
  type KrpcQuery,
  type ResponseValues,
  SAMPLE_BYTES,
} from './krpc';
import type { NodeId } from './node-id';
import type { RoutingTable } from './routing-table';
import type { QueryReply } from './rpc';
import type { Store } from './store';
import type { TokenManager } from './token';

export const MAX_RESPONSE_BYTES = 1500;
/** Peers returned in one get_peers response (IPv4: 50 x 6 bytes; IPv6: 50 x 18 bytes). */
export const DEFAULT_MAX_VALUES = 50;

export interface ServerContext {
  readonly id: NodeId;
  readonly table: RoutingTable;
  readonly store: Store;
  readonly tokens: TokenManager;
  readonly maxValues: number;
  /** BEP 51: picks the info-hashes of `sample_infohashes` responses. */
  readonly sampler: InfohashSampler;
  /** Bytes of the top-level `v` the RPC layer adds to each response (for BEP 51 sizing). */
  readonly versionBytes: number;
  /** Called when a peer announced itself to us. */
  onAnnounce(infoHash: NodeId, peer: Address): void;
  /**
   * Called for a node left out of an answer because it never answered us (it only queried):
   * the node pings it, so that once it answers it is handed out too.
   */
  onUnverified(node: Contact): void;
}

const protocolError = (message: string): QueryReply => ({
  e: { code: KRPC_ERROR.PROTOCOL, message },
});

/** The answer to `query` from `from` (undefined: stay silent). */
export function handleQuery(ctx: ServerContext, query: KrpcQuery, from: Address): QueryReply {
  const a = query.a;
  switch (query.q) {
    case 'ping':
      return { r: { id: ctx.id } };
    case 'find_node': {
      if (!a.target) return protocolError('find_node needs target');
      return { r: { id: ctx.id, ...closestNodes(ctx, a.target, from, a.want) } };
    }
    case 'get_peers': {
      if (!a.infoHash) return protocolError('get_peers needs info_hash');
      const r: ResponseValues = {
        id: ctx.id,
        token: ctx.tokens.issue(from.host),
        ...closestNodes(ctx, a.infoHash, from, a.want),
      };
      const peers = ctx.store.getPeers(a.infoHash, ctx.maxValues, ipFamily(from.host));
      if (peers.length > 0) r.values = peers.map(encodeCompactPeer);
      return { r };
    }
    case 'announce_peer': {
      if (!a.infoHash || !a.token) return protocolError('announce_peer needs info_hash and token');
      if (!ctx.tokens.verify(a.token, from.host)) return protocolError('bad token');
      // BEP 5: with implied_port set, the port is the UDP source port.
      const port = a.impliedPort ? from.port : a.port;
      if (port === undefined || port === 0) return protocolError('announce_peer needs port');
      const peer = { host: from.host, port };
      // A full store says so (KRPC 202) instead of a success reply for a peer it did not keep:
      // the announcer learns the truth and counts this node as not storing (docs/security.md).
      if (!ctx.store.addPeer(a.infoHash, peer)) {
        return { e: { code: KRPC_ERROR.SERVER, message: 'store full' } };
      }
      ctx.onAnnounce(a.infoHash, peer);
      return { r: { id: ctx.id } };
    }
    case 'get': {
      if (!a.target) return protocolError('get needs target');
      const r: ResponseValues = {
        id: ctx.id,
        token: ctx.tokens.issue(from.host),
        ...closestNodes(ctx, a.target, from, a.want),
      };
      const item = ctx.store.getItem(a.target);
      if (item) {
        if (item.k === undefined) r.v = item.v;
        else {
          r.seq = item.seq!;
          // BEP 44: with `seq` given, k, v and sig are left out unless ours is newer.
          if (a.seq === undefined || item.seq! > a.seq) {
            r.v = item.v;
            r.k = item.k;
            r.sig = item.sig!;
          }
        }
      }
      return { r };
    }
    case 'put':
      return handlePut(ctx, query, from);
    case 'sample_infohashes': {
      // BEP 51 "message format": the request carries "target", the response "nodes" like find_node.
      if (!a.target) return protocolError('sample_infohashes needs target');
      return { r: sampleResponse(ctx, query, from, a.target) };
    }
    default:
      return { e: { code: KRPC_ERROR.METHOD_UNKNOWN, message: 'Method Unknown' } };
  }
}

function handlePut(ctx: ServerContext, query: KrpcQuery, from: Address): QueryReply {
  const a = query.a;
  if (!a.token || !a.v) return protocolError('put needs token and v');
  if (!ctx.tokens.verify(a.token, from.host)) return protocolError('bad token');
  // Copies: decoded fields are views into the datagram, which the store must not keep alive.
  const item: Item = { v: new Uint8Array(a.v) };
  if (a.k) item.k = new Uint8Array(a.k);
  if (a.sig) item.sig = new Uint8Array(a.sig);
  if (a.seq !== undefined) item.seq = a.seq;
  if (a.salt && a.salt.length > 0) item.salt = new Uint8Array(a.salt);
  const problem = checkItem(item);
  if (problem) return { e: problem };
  const target = itemTarget(item);
  const existing = ctx.store.getItem(target);
  if (existing && item.k !== undefined && existing.seq !== undefined) {
    // BEP 44 "CAS": the put applies only if cas equals the stored seq (ignored with no value).
    if (a.cas !== undefined && a.cas !== existing.seq) {
      return { e: { code: KRPC_ERROR.CAS_MISMATCH, message: 'CAS mismatch' } };
    }
    const seq = item.seq!;
    const same = seq === existing.seq && Buffer.compare(existing.v, item.v) === 0;
    if (seq < existing.seq || (seq === existing.seq && !same)) {
      return {
        e: { code: KRPC_ERROR.SEQUENCE_TOO_LOW, message: 'sequence number less than current' },
      };
    }
  }
  if (!ctx.store.putItem(target, item)) {
    return { e: { code: KRPC_ERROR.SERVER, message: 'store full' } };
  }
  return { r: { id: ctx.id } };
}

/**
 * BEP 51: `interval`, `num`, `samples` and the nodes close to `target`, with as many samples as
 * fit: the response is measured with an empty `samples` (and the `ip` and `v` the RPC layer
 * adds), and each sample takes 20 bytes of what is left (3 bytes are kept for the longer length
 * prefix of `samples`).
 */
function sampleResponse(
  ctx: ServerContext,
  query: KrpcQuery,
  from: Address,
  target: NodeId,
): ResponseValues {
  const r: ResponseValues = {
    id: ctx.id,
    ...closestNodes(ctx, target, from, query.a.want),
    interval: ctx.sampler.intervalSeconds,
    // An upper bound of `num` (expired info-hashes not yet pruned count), for the size only.
    num: ctx.store.infoHashCount,
    samples: new Uint8Array(0),
  };
  const base = encodeMessage({
    y: 'r',
    t: query.t,
    r,
    ip: { host: ipFamily(from.host) === 6 ? '::' : '0.0.0.0', port: 0 },
    ...(ctx.versionBytes > 0 ? { version: new Uint8Array(ctx.versionBytes) } : {}),
  }).length;
  const room = Math.max(0, Math.floor((MAX_RESPONSE_BYTES - base - 3) / SAMPLE_BYTES));
  const sample = ctx.sampler.sample(room);
  return { ...r, ...sample };
}

/** `nodes` / `nodes6` close to `target`: the requested families (BEP 32 `want`) or the querier's. */
function closestNodes(
  ctx: ServerContext,
  target: NodeId,
  from: Address,
  want: string[] | undefined,
): { nodes?: Uint8Array; nodes6?: Uint8Array } {
  const families = new Set<4 | 6>();
  for (const w of want ?? []) {
    if (w === 'n4') families.add(4);
    if (w === 'n6') families.add(6);
  }
  if (families.size === 0) families.add(ipFamily(from.host) ?? 4);
  const out: { nodes?: Uint8Array; nodes6?: Uint8Array } = {};
  for (const family of families) {
    const contacts: Contact[] = [];
    for (const n of ctx.table.closest(target, ctx.table.k * 4)) {
      if (contacts.length >= ctx.table.k) break;
      // Only nodes that answered one of our queries are handed out: a sender that only queried
      // us is unverified (it may not even own that address) until it answers our ping
      // (BEP 5 "good" nodes; docs/security.md, "DHT").
      if (n.lastResponse === undefined) {
        // (The querier itself is being answered right now; it is verified when it matters.)
        if (n.address.port !== from.port || n.address.host !== from.host) ctx.onUnverified(n);
        continue;
      }
      if (ipFamily(n.address.host) === family) contacts.push(n);
    }
    const bytes = encodeCompactNodes(contacts, family);
    if (family === 4) out.nodes = bytes;
    else out.nodes6 = bytes;
  }
  return out;
}
