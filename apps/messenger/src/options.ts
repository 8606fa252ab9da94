/**
 * The options of a `MessengerNode` (README, "As a library").
 */
import type { GossipOptions } from '@peerkit/gossip';
import type { DHTState, RpcOptions } from '@peerkit/kademlia';
import type { Identity } from '@peerkit/noise';
import type { Address, Network } from '@peerkit/transport';
import type { ChatEvent } from './events';
import type { ChatLimits } from './limits';

export interface MessengerOptions {
  network: Network;
  identity: Identity;
  /** TCP (and, unless `dht` is given, UDP) host to bind; default `0.0.0.0`. */
  host?: string;
  /** TCP port for secure connections; default any free port. */
  port?: number;
  /** UDP port of our DHT node; default any free port. */
  dhtPort?: number;
  /** DHT nodes to join through (`host:port`). */
  bootstrap?: Address[];
  /** A saved routing table (`dht.toState()`), to re-join without `bootstrap`. */
  dhtState?: DHTState;
  /** Display name sent with our messages. */
  nick?: string;
  limits?: Partial<ChatLimits>;
  /** Wall clock for message timestamps (ms since the epoch); default `Date.now`. */
  wallClock?: () => number;
  /** How often room members re-announce and look each other up (default 15 s) ... */
  refreshMs?: number;
  /** ... and how soon while a room has no connected member yet (default 2 s). */
  aloneRetryMs?: number;
  /**
   * KRPC tuning of our DHT node. Default `{ retries: 1 }`: a member that left stays in routing
   * tables for a while, and each query to it costs (1 + retries) x the 1 s query timeout.
   */
  dhtRpc?: RpcOptions;
  /** Extra gossip options (tests and benchmarks). */
  gossip?: Partial<GossipOptions>;
  /**
   * A short-lived node (the one-shot commands): a read-only DHT node (BEP 43) that other nodes
   * keep out of their routing tables, and it only looks members up, it never announces itself.
   */
  transient?: boolean;
  /** An event handler registered before the node starts (so it also sees `ready`). */
  onEvent?: (event: ChatEvent) => void;
  /** First retry delay of an undelivered DM (default 2 s, doubling up to 30 s). */
  dmRetryMs?: number;
  /** Timeout of one control request / dial (default 5 s). */
  requestTimeoutMs?: number;
}
