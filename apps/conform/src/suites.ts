/**
 * The suites: open a context for a live target, run the rules, close the context.
 */

import { type GossipContext, gossipRules, openGossipContext } from '@peerkit/gossip/conformance';
import { type DhtContext, dhtRules, openDhtContext } from '@peerkit/kademlia/conformance';
import { type BtcContext, btcRules, openBtcContext } from '@peerkit/ledger/conformance';
import { parseTorrent, requireV1, type V1Metainfo } from '@peerkit/piece-exchange';
import { openPeerContext, type PeerContext, peerRules } from '@peerkit/piece-exchange/conformance';
import { type Address, type Network, nodeNetwork } from '@peerkit/transport';
import {
  type Rule,
  type RunOptions,
  runRules,
  type SuiteReport,
  type TargetContext,
} from '@peerkit/transport/conformance';

export interface SuiteOptions extends RunOptions {
  /** Longest wait for one expected answer (default 2,000 ms). */
  timeoutMs?: number;
  /** The network to talk through (default `nodeNetwork()`: real sockets). */
  network?: Network;
}

export const DEFAULT_TIMEOUT_MS = 2_000;

export function formatAddress(address: Address): string {
  return address.host.includes(':')
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}

async function withContext<Ctx extends TargetContext & { close(): Promise<void> }>(
  open: () => Promise<Ctx>,
  body: (ctx: Ctx) => Promise<SuiteReport>,
): Promise<SuiteReport> {
  const ctx = await open();
  try {
    return await body(ctx);
  } finally {
    await ctx.close();
  }
}

export interface DhtSuiteOptions extends SuiteOptions {
  /** Most datagrams per second to send (for nodes that rate-limit per IP; default no limit). */
  rate?: number;
  rules?: readonly Rule<DhtContext>[];
}

/** Runs the DHT suite (BEP 5, BEP 44) against the node at `address`. */
export function runDhtSuite(address: Address, options: DhtSuiteOptions = {}): Promise<SuiteReport> {
  const network = options.network ?? nodeNetwork();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return withContext(
    () =>
      openDhtContext(network, address, {
        timeoutMs,
        ...(options.rate === undefined ? {} : { rate: options.rate }),
      }),
    (ctx) => runRules('dht', formatAddress(address), options.rules ?? dhtRules, ctx, options),
  );
}

export interface PeerSuiteOptions extends SuiteOptions {
  /** Longest wait to be unchoked after "interested" (default 30,000 ms: choking rounds are ~10 s). */
  unchokeTimeoutMs?: number;
  /** How the torrent was given, for the replay line of the report (default: its name). */
  torrentLabel?: string;
  rules?: readonly Rule<PeerContext>[];
}

/** Reads a v1 (or hybrid) .torrent for the peer suite. */
export function loadTorrent(bytes: Uint8Array): V1Metainfo {
  return requireV1(parseTorrent(bytes));
}

/** Runs the peer wire suite (BEP 3, 6, 9, 10) against the peer at `address`, which seeds `torrent`. */
export function runPeerSuite(
  address: Address,
  torrent: V1Metainfo,
  options: PeerSuiteOptions = {},
): Promise<SuiteReport> {
  const network = options.network ?? nodeNetwork();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const target = `${formatAddress(address)} --torrent ${options.torrentLabel ?? torrent.name}`;
  return withContext(
    async () =>
      openPeerContext(network, address, torrent, {
        timeoutMs,
        ...(options.unchokeTimeoutMs === undefined
          ? {}
          : { unchokeTimeoutMs: options.unchokeTimeoutMs }),
      }),
    (ctx) => runRules('peer', target, options.rules ?? peerRules, ctx, options),
  );
}

export interface GossipSuiteOptions extends SuiteOptions {
  /** A topic the node subscribes to (default: the first one it announces). */
  topic?: string;
  rules?: readonly Rule<GossipContext>[];
}

/** Runs the gossip suite (peerkit's gossip wire spec) against the node at `address`. */
export function runGossipSuite(
  address: Address,
  options: GossipSuiteOptions = {},
): Promise<SuiteReport> {
  const network = options.network ?? nodeNetwork();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return withContext(
    () =>
      openGossipContext(network, address, {
        timeoutMs,
        ...(options.topic === undefined ? {} : { topic: options.topic }),
      }),
    (ctx) => runRules('gossip', formatAddress(address), options.rules ?? gossipRules, ctx, options),
  );
}

export interface BtcSuiteOptions extends SuiteOptions {
  rules?: readonly Rule<BtcContext>[];
}

/** Runs the Bitcoin P2P suite (developer reference, BIP 31; regtest magic) against the node at `address`. */
export function runBtcSuite(address: Address, options: BtcSuiteOptions = {}): Promise<SuiteReport> {
  const network = options.network ?? nodeNetwork();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return withContext(
    () => openBtcContext(network, address, { timeoutMs }),
    (ctx) => runRules('btc', formatAddress(address), options.rules ?? btcRules, ctx, options),
  );
}
