/**
 * The suites: open a context for a live target, run the rules, close the context.
 */

import {
  DEFAULT_RUNS,
  type Rule,
  type RuleResult,
  type RunOptions,
  randomSeed,
  runRules,
  type SuiteReport,
  selects,
  type TargetContext,
} from '@peerkit/conformance';
import { type GossipContext, gossipRules, openGossipContext } from '@peerkit/gossip/conformance';
import { type DhtContext, dhtRules, openDhtContext } from '@peerkit/kademlia/conformance';
import { type BtcContext, btcRules, openBtcContext } from '@peerkit/ledger/conformance';
import { parseTorrent, requireV1, type V1Metainfo } from '@peerkit/piece-exchange';
import { openPeerContext, type PeerContext, peerRules } from '@peerkit/piece-exchange/conformance';
import { type Address, formatAddress, type Network, nodeNetwork } from '@peerkit/transport';

export interface SuiteOptions extends RunOptions {
  /** Longest wait for one expected answer (default 2,000 ms). */
  timeoutMs?: number;
  /** The network to talk through (default `nodeNetwork()`: real sockets). */
  network?: Network;
}

export const DEFAULT_TIMEOUT_MS = 2_000;

/**
 * Datagrams per second `peerkit-conform dht` sends unless `--rate` says otherwise. DHT nodes
 * limit queries per source IP (peerkit: 20/s with bursts of 40); a probe that goes faster sees
 * its queries dropped and would report spec violations that are not. (`runDhtSuite` itself
 * does not pace unless given `rate`: tests against unlimited nodes run at full speed.)
 */
export const DEFAULT_DHT_RATE = 16;

/** The target cannot be tested: nothing answers, or it stopped answering (one line, exit 1). */
export class TargetError extends Error {
  readonly code: 'SILENT_TARGET' | 'RATE_LIMITED';
  constructor(code: 'SILENT_TARGET' | 'RATE_LIMITED', message: string) {
    super(message);
    this.name = 'TargetError';
    this.code = code;
  }
}

/** The runner's reason for a rule it could not start because the target did not answer. */
const DOWN_REASON = /does not answer/;

/**
 * `options` whose `onResult` stops the run with a `TargetError` at the first rule that could
 * not start because the target does not answer: before any rule ran, nothing answers there;
 * later, it went silent (`goneSilent` says why that happens to this kind of target).
 */
function stopWhenSilent<O extends RunOptions>(
  options: O,
  where: string,
  goneSilent: (rulesDone: number) => TargetError,
): O {
  let done = 0;
  return {
    ...options,
    onResult: (result: RuleResult) => {
      if (result.outcome === 'failed' && DOWN_REASON.test(result.reason ?? '')) {
        if (done === 0) {
          throw new TargetError(
            'SILENT_TARGET',
            `nothing answers at ${where}: connection refused or no answer (check the address and that the target runs)`,
          );
        }
        throw goneSilent(done);
      }
      done++;
      options.onResult?.(result);
    },
  };
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
  /** Most datagrams per second to send (nodes rate-limit per IP; default: no limit). */
  rate?: number;
  rules?: readonly Rule<DhtContext>[];
}

/** Datagrams per second a suspected rate-limit failure is replayed at. */
const REPLAY_RATE = 2;

/**
 * Runs the DHT suite (BEP 5, BEP 44) against the node at `address`. Rejects with a
 * `TargetError` instead of a report when the node never answers a ping (`SILENT_TARGET`), or
 * when what failed was its per-IP rate limit (`RATE_LIMITED`): it went silent even to pings
 * after answering at first, or a rule that failed with "no answer" passes when its failing case
 * is replayed slowly (at `REPLAY_RATE` datagrams per second, from a fresh probe).
 */
export async function runDhtSuite(
  address: Address,
  options: DhtSuiteOptions = {},
): Promise<SuiteReport> {
  const network = options.network ?? nodeNetwork();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const rate = options.rate;
  const where = `${formatAddress(address)} (UDP)`;
  const rules = options.rules ?? dhtRules;
  const speed = rate === undefined ? 'full speed' : `${rate} datagrams/s`;
  const lower = Math.max(REPLAY_RATE, Math.min(DEFAULT_DHT_RATE, Math.floor((rate ?? 1e9) / 2)));
  const open = (r: number | undefined) =>
    openDhtContext(network, address, { timeoutMs, ...(r === undefined ? {} : { rate: r }) });
  const silence = (r: RuleResult | undefined) =>
    r !== undefined && r.outcome === 'failed' && /no answer|stopped answering/.test(r.reason ?? '');
  /** "No answer" from a node that answers otherwise: does that case pass when sent slowly? */
  const passesSlowly = (r: RuleResult) =>
    withContext(
      () => open(REPLAY_RATE),
      (ctx) =>
        runRules('dht', formatAddress(address), rules, ctx, {
          only: [r.id],
          seed: r.seed,
          runs: 1,
          ...(r.path !== undefined ? { path: r.path } : {}),
        }),
    ).then((replay) => replay.ok);
  return withContext(
    () => open(rate),
    async (ctx) => {
      if (ctx.targetId === undefined) {
        throw new TargetError(
          'SILENT_TARGET',
          `no answer from ${where} to a KRPC ping within ${timeoutMs} ms: nothing listens there, or it drops our packets (check the address; --timeout <ms> waits longer)`,
        );
      }
      // It answered the first ping, then stopped answering even pings: the probe is being
      // rate-limited, and the rules' verdicts from there on would be about that.
      const limited = (done: number) =>
        new TargetError(
          'RATE_LIMITED',
          `${where} answered at first, then stopped answering after ${done} rule(s) at ${speed}: it limits queries per IP; run again with a lower --rate (e.g. --rate ${lower})`,
        );
      const guarded = stopWhenSilent(options, where, limited);
      // Rule by rule with the suite's one seed (the same cases as one `runRules` call), so that
      // a rate limit is recognised at the first rule it breaks, not after the whole suite.
      const selected = rules.filter((r) => selects(options.only, r.id));
      if (selected.length === 0)
        return runRules('dht', formatAddress(address), rules, ctx, options);
      const seed = options.seed ?? randomSeed();
      const results: RuleResult[] = [];
      for (const rule of selected) {
        const one = await runRules('dht', formatAddress(address), [rule], ctx, {
          ...guarded,
          only: undefined,
          seed,
          path: selected.length === 1 ? options.path : undefined,
        });
        const result = one.results[0];
        if (silence(result) && result !== undefined && (await passesSlowly(result))) {
          throw new TargetError(
            'RATE_LIMITED',
            `${where} dropped queries at ${speed} (${result.id} got no answer, and passes when replayed at ${REPLAY_RATE} datagrams/s): it limits queries per IP; run again with a lower --rate (e.g. --rate ${lower})`,
          );
        }
        results.push(...one.results);
      }
      return {
        suite: 'dht',
        target: formatAddress(address),
        seed,
        runs: options.runs ?? DEFAULT_RUNS,
        results,
        ok: results.every((r) => r.outcome !== 'failed'),
      };
    },
  );
}

/** A TCP target that answered, then stopped: it crashed, or closed its listener. */
const goneAway = (done: number) =>
  new TargetError(
    'SILENT_TARGET',
    `the target stopped answering after ${done} rule(s): did it crash or stop listening?`,
  );

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
    (ctx) =>
      runRules(
        'peer',
        target,
        options.rules ?? peerRules,
        ctx,
        stopWhenSilent(options, `${formatAddress(address)} (TCP)`, goneAway),
      ),
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
    (ctx) =>
      runRules(
        'gossip',
        formatAddress(address),
        options.rules ?? gossipRules,
        ctx,
        stopWhenSilent(options, `${formatAddress(address)} (TCP)`, goneAway),
      ),
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
