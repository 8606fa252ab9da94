/**
 * The KRPC transport layer over one datagram socket (BEP 5 "KRPC Protocol"):
 *
 * - outgoing queries get a 2-byte transaction id, a per-attempt timeout and `retries` resends;
 *   a response is accepted only from the address the query went to, with a matching id;
 * - at most `maxInFlight` queries are outstanding (a congestion window, as dht-rpc does);
 *   further queries wait in a bounded FIFO queue;
 * - incoming queries pass a per-IP token-bucket rate limit, then go to the `onQuery` handler;
 *   its answer (values or a KRPC error) is sent back with BEP 42's `ip` field;
 * - malformed datagrams are counted and dropped (a query we can still read the `t` of gets error
 *   203); they never throw;
 * - every query settles: with the response, `TIMEOUT` after its attempts, or `CLOSED` when the
 *   RPC layer is closed or its socket turns out to be closed under it (a send fails with the
 *   transport's `CLOSED`: no response can come and, on a dead host, no timer may fire either).
 */

import {
  type Address,
  type Clock,
  type DatagramSocket,
  type Random,
  RateLimiter,
  type Timer,
} from '@peerkit/transport';
import { DEFAULT_QUERY_TIMEOUT_MS } from './defaults';
import { DHTError } from './errors';
import { bytesToIp, ipToBytes, isLocalAddress, normalizeIp } from './ip';
import {
  decodeMessage,
  encodeMessage,
  KRPC_ERROR,
  type KrpcMessage,
  type KrpcQuery,
  type KrpcResponse,
  peekQueryTransaction,
  type QueryArguments,
  type ResponseValues,
} from './krpc';

/** What a query handler answers: response values, a KRPC error, or nothing (stay silent). */
export type QueryReply =
  | { r: ResponseValues }
  | { e: { code: number; message: string } }
  | undefined;

export interface RpcOptions {
  /** Milliseconds to wait for each attempt (default 1,000). */
  timeoutMs?: number;
  /** Resends after a timeout (default 3). */
  retries?: number;
  /** Outstanding queries at most (default 64). */
  maxInFlight?: number;
  /** Queries waiting for a slot at most; beyond, `query` rejects with `BUSY` (default 4,096). */
  maxQueued?: number;
  /** Incoming queries per second per IP (default 20), with bursts up to `rateBurst` (default 40). */
  ratePerSecond?: number;
  rateBurst?: number;
  /** Largest datagram accepted (default 8,192). */
  maxMessageBytes?: number;
  /** BEP 43: mark our queries read-only. */
  readOnly?: boolean;
  /** Top-level `v` sent with every message. */
  version?: Uint8Array;
}

export interface RpcStats {
  queriesSent: number;
  /** Datagrams sent for queries, resends included. */
  queryDatagrams: number;
  responsesReceived: number;
  timeouts: number;
  errorsReceived: number;
  queriesReceived: number;
  responsesSent: number;
  errorsSent: number;
  malformed: number;
  rateLimited: number;
  /** Responses with an unknown transaction id or from the wrong address. */
  unexpected: number;
}

interface Pending {
  tid: number;
  to: Address;
  toKey: string;
  data: Uint8Array;
  attempts: number;
  timer: Timer | undefined;
  resolve: (r: KrpcResponse) => void;
  reject: (e: DHTError) => void;
}

export class Rpc {
  readonly socket: DatagramSocket;
  readonly stats: RpcStats = {
    queriesSent: 0,
    queryDatagrams: 0,
    responsesReceived: 0,
    timeouts: 0,
    errorsReceived: 0,
    queriesReceived: 0,
    responsesSent: 0,
    errorsSent: 0,
    malformed: 0,
    rateLimited: 0,
    unexpected: 0,
  };
  private readonly clock: Clock;
  private readonly options: Required<Omit<RpcOptions, 'version'>> & { version?: Uint8Array };
  private readonly pending = new Map<number, Pending>();
  private readonly queue: Pending[] = [];
  /** The per-IP query limit (BEP 5 leaves it to the node; transport's token bucket). */
  private readonly limiter: RateLimiter<string | number>;
  private nextTid: number;
  /** Forgets idle senders of the rate limit once their buckets refilled (armed while any is known). */
  private sweepTimer: Timer | undefined;
  private closed = false;
  private readonly unsubscribe: () => void;
  onQuery: (query: KrpcQuery, from: Address) => QueryReply = () => undefined;
  /** Called for every response (after matching), e.g. to learn our external IP (BEP 42). */
  onResponse: (response: KrpcResponse, from: Address) => void = () => {};

  constructor(socket: DatagramSocket, clock: Clock, random: Random, options: RpcOptions = {}) {
    this.socket = socket;
    this.clock = clock;
    this.options = {
      timeoutMs: options.timeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS,
      retries: options.retries ?? 3,
      maxInFlight: options.maxInFlight ?? 64,
      maxQueued: options.maxQueued ?? 4096,
      ratePerSecond: options.ratePerSecond ?? 20,
      rateBurst: options.rateBurst ?? 40,
      maxMessageBytes: options.maxMessageBytes ?? 8192,
      readOnly: options.readOnly ?? false,
      ...(options.version ? { version: options.version } : {}),
    };
    this.limiter = new RateLimiter(clock, this.options.ratePerSecond, this.options.rateBurst);
    this.nextTid = random.int(0x10000);
    this.unsubscribe = socket.onMessage((data, from) => this.receive(data, from));
  }

  /** True once closed (by `close()` or because the socket was closed under us). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Queries in flight plus queued. */
  get outstanding(): number {
    return this.pending.size + this.queue.length;
  }

  /** Sends query `method` to `to`; resolves with the response, rejects with `DHTError`. */
  query(to: Address, method: string, args: QueryArguments): Promise<KrpcResponse> {
    if (this.closed) return Promise.reject(new DHTError('CLOSED', 'rpc closed'));
    if (this.queue.length >= this.options.maxQueued) {
      return Promise.reject(new DHTError('BUSY', 'too many queries queued'));
    }
    return new Promise<KrpcResponse>((resolve, reject) => {
      const tid = this.allocateTid();
      const message: KrpcQuery = { y: 'q', t: tidBytes(tid), q: method, a: args };
      if (this.options.readOnly) message.ro = true;
      if (this.options.version) message.version = this.options.version;
      let data: Uint8Array;
      try {
        data = encodeMessage(message);
      } catch (e) {
        reject(
          e instanceof DHTError
            ? e
            : new DHTError('INVALID_ARGUMENT', 'cannot encode query', { cause: e }),
        );
        return;
      }
      const p: Pending = {
        tid,
        to,
        toKey: addressKey(to),
        data,
        attempts: 0,
        timer: undefined,
        resolve,
        reject,
      };
      this.stats.queriesSent++;
      this.pending.set(tid, p);
      if (this.pending.size - this.queue.length > this.options.maxInFlight) {
        this.queue.push(p);
      } else {
        this.transmit(p);
      }
    });
  }

  /** Rejects everything outstanding and stops listening (the socket is closed by its owner). */
  close(reason = 'rpc closed'): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    const all = [...this.pending.values()];
    this.pending.clear();
    this.queue.length = 0;
    this.sweepTimer?.cancel();
    this.sweepTimer = undefined;
    this.limiter.clear();
    for (const p of all) {
      p.timer?.cancel();
      p.reject(new DHTError('CLOSED', reason));
    }
  }

  private allocateTid(): number {
    for (let i = 0; i < 0x10000; i++) {
      const tid = this.nextTid;
      this.nextTid = (this.nextTid + 1) & 0xffff;
      if (!this.pending.has(tid)) return tid;
    }
    throw new DHTError('BUSY', 'no free transaction id');
  }

  private transmit(p: Pending) {
    p.attempts++;
    this.stats.queryDatagrams++;
    this.sendRaw(p.data, p.to);
    if (this.closed) return; // the socket was closed under us: p was rejected with CLOSED
    p.timer = this.clock.setTimeout(() => this.timeout(p), this.options.timeoutMs);
  }

  private timeout(p: Pending) {
    if (this.pending.get(p.tid) !== p) return;
    if (p.attempts <= this.options.retries) {
      this.transmit(p);
      return;
    }
    this.stats.timeouts++;
    this.finish(p);
    p.reject(new DHTError('TIMEOUT', `no response from ${p.to.host}:${p.to.port}`));
  }

  /** Frees p's slot and starts the next queued query. */
  private finish(p: Pending) {
    p.timer?.cancel();
    this.pending.delete(p.tid);
    const qi = this.queue.indexOf(p);
    if (qi >= 0) this.queue.splice(qi, 1);
    while (
      this.queue.length > 0 &&
      this.pending.size - this.queue.length < this.options.maxInFlight
    ) {
      const next = this.queue.shift()!;
      this.transmit(next);
    }
  }

  private sendRaw(data: Uint8Array, to: Address) {
    if (this.closed) return;
    try {
      this.socket.send(data, to);
    } catch (e) {
      // The socket was closed under us (its owner closed it, or the host is gone): nothing can
      // arrive any more, so settle everything now rather than wait for timeouts.
      if (isClosedError(e)) this.close('socket closed');
      // Otherwise an unroutable address: the query times out like a lost datagram.
    }
  }

  private receive(data: Uint8Array, from: Address) {
    if (this.closed) return;
    let msg: KrpcMessage;
    try {
      msg = decodeMessage(data, { maxMessageBytes: this.options.maxMessageBytes });
    } catch {
      this.stats.malformed++;
      const t = peekQueryTransaction(data);
      if (t && this.allow(from))
        this.reply(t, { e: { code: KRPC_ERROR.PROTOCOL, message: 'malformed query' } }, from);
      return;
    }
    if (msg.y === 'q') {
      this.stats.queriesReceived++;
      if (!this.allow(from)) {
        this.stats.rateLimited++;
        return;
      }
      if (this.options.readOnly) return; // BEP 43: read-only nodes do not answer queries
      let reply: QueryReply;
      try {
        reply = this.onQuery(msg, from);
      } catch {
        reply = { e: { code: KRPC_ERROR.SERVER, message: 'server error' } };
      }
      if (reply) this.reply(msg.t, reply, from);
      return;
    }
    const tid = msg.t.length === 2 ? ((msg.t[0] ?? 0) << 8) | (msg.t[1] ?? 0) : -1;
    const p = this.pending.get(tid);
    if (!p || p.toKey !== addressKey(from) || p.attempts === 0) {
      this.stats.unexpected++;
      return;
    }
    this.finish(p);
    if (msg.y === 'e') {
      this.stats.errorsReceived++;
      p.reject(
        new DHTError('REMOTE_ERROR', `${msg.e.code} ${msg.e.message}`, { remoteCode: msg.e.code }),
      );
      return;
    }
    this.stats.responsesReceived++;
    this.onResponse(msg, from);
    p.resolve(msg);
  }

  private reply(t: Uint8Array, reply: NonNullable<QueryReply>, to: Address) {
    const ip = { host: to.host, port: to.port };
    const message: KrpcMessage =
      'r' in reply ? { y: 'r', t, r: reply.r, ip } : { y: 'e', t, e: reply.e, ip };
    if (this.options.version) message.version = this.options.version;
    let data: Uint8Array;
    try {
      data = encodeMessage(message);
    } catch {
      return;
    }
    if ('r' in reply) this.stats.responsesSent++;
    else this.stats.errorsSent++;
    this.sendRaw(data, to);
  }

  /**
   * Per-IP rate limit (transport's `RateLimiter`, a token bucket per sender). Local addresses
   * are keyed by IP and port (many nodes share 127.0.0.1).
   */
  private allow(from: Address): boolean {
    if (!this.limiter.take(rateKey(from))) return false;
    // A sender's bucket is forgotten once full again: one timer per node sweeps them, so a node
    // at rest keeps no rate-limit state.
    this.sweepTimer ??= this.clock.setTimeout(() => this.sweepIdle(), this.limiter.refillMs);
    return true;
  }

  private sweepIdle() {
    this.sweepTimer = undefined;
    if (this.closed) return;
    this.limiter.sweep();
    if (this.limiter.size > 0) {
      this.sweepTimer = this.clock.setTimeout(() => this.sweepIdle(), this.limiter.refillMs);
    }
  }
}

/** The rate-limit key of a sender: its IPv4 address as a number (plus the port when local), else text. */
function rateKey(from: Address): string | number {
  const ip = ipToBytes(from.host);
  const local = isLocalAddress(from.host);
  if (ip?.length === 4) {
    const v4 = (((ip[0]! << 24) >>> 0) + (ip[1]! << 16) + (ip[2]! << 8) + ip[3]!) >>> 0;
    return local ? v4 * 65536 + from.port : v4;
  }
  const text = ip ? bytesToIp(ip) : from.host;
  return local ? `${text}|${from.port}` : text;
}

/** A transport `CLOSED` error (checked by shape: the transport may be another copy of the package). */
function isClosedError(e: unknown): boolean {
  return e instanceof Error && (e as { code?: unknown }).code === 'CLOSED';
}

function tidBytes(tid: number): Uint8Array {
  return Uint8Array.of(tid >> 8, tid & 0xff);
}

export function addressKey(a: Address): string {
  return `${normalizeIp(a.host) ?? a.host}|${a.port}`;
}
