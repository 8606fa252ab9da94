/** The options of a `DHT` node and of its operations. */
import type { HandlerErrorReporter, Network } from '@peerkit/transport';
import type { NodeId } from './node-id';
import type { DHTState } from './persistence';
import type { RpcOptions } from './rpc';
import type { StoreLimits } from './store';

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
  /** Where the error of an event handler that threw goes (default: one line on stderr). */
  onHandlerError?: HandlerErrorReporter;
}

export interface ListenOptions {
  /** Default 0.0.0.0. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
}

export interface AnnounceOptions {
  /** BEP 5 implied_port: the receiver uses our UDP source port (default: when no port given). */
  impliedPort?: boolean;
}
