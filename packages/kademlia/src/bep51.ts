/**
 * BEP 51 (DHT Infohash Indexing): the `sample_infohashes` query. The server half is
 * `InfohashSampler`, which picks the info-hashes a response carries; the client half is
 * `readSampleResponse`, which checks and splits a response.
 *
 * BEP 51, "Sampling RPC": "When a node tracks more infohashes than would fit into a packet it
 * should return a randomly sampled subset instead. After that size limit is reached nodes may
 * occasionally precompute a subset and return that instead of calculating it upon each request."
 *
 * Our sampler:
 * - when every stored info-hash fits, it returns all of them, fresh on every query (nothing new
 *   is hidden behind a cache);
 * - otherwise it walks a random permutation of the stored info-hashes, one response-full at a
 *   time, and keeps each such sample for `interval` seconds. Every sample is a uniformly random
 *   subset, and an indexer that waits out the interval between queries sees every stored
 *   info-hash within ceil(num / sample size) samples (independent random samples would need
 *   about ln(num) times more: the coupon collector). Info-hashes announced during a pass join
 *   the next pass; ones that expire are dropped when a sample is served.
 */
import type { Clock, Random } from '@peerkit/transport';
import { type Contact, decodeCompactNodes } from './compact';
import { DHTError } from './errors';
import { type KrpcResponse, SAMPLE_BYTES } from './krpc';
import { fromHex, idEquals, type NodeId } from './node-id';
import type { Store } from './store';

/** BEP 51: "The the permissible range is between 0 and 21600 seconds (inclusive)." */
export const MAX_SAMPLE_INTERVAL_S = 21_600;
/**
 * Our default `interval`: 60 s. Peers expire after 30 minutes, so an indexer should be able to
 * see a full store (2,000 info-hashes, ~50 a sample) within about that time.
 */
export const DEFAULT_SAMPLE_INTERVAL_S = 60;

/** What a `sample_infohashes` response carries besides `id` and the nodes. */
export interface InfohashSample {
  /** Concatenated info-hashes, 20 bytes each. */
  samples: Uint8Array;
  /** Info-hashes stored. */
  num: number;
  /** Seconds before the sample changes. */
  interval: number;
}

/** Checks a BEP 51 `interval` option: an integer number of seconds in 0..21600. */
export function checkSampleInterval(seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_SAMPLE_INTERVAL_S) {
    throw new DHTError(
      'INVALID_ARGUMENT',
      `sample interval must be an integer in 0..${MAX_SAMPLE_INTERVAL_S} seconds, got ${seconds}`,
    );
  }
  return seconds;
}

export class InfohashSampler {
  readonly intervalSeconds: number;
  /** The current pass: hex keys in random order, and how far it has been handed out. */
  private pass: string[] = [];
  private position = 0;
  /** The sample being served while the store does not fit into one response. */
  private cached: { keys: string[]; until: number } | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly random: Random,
    intervalSeconds = DEFAULT_SAMPLE_INTERVAL_S,
  ) {
    this.intervalSeconds = checkSampleInterval(intervalSeconds);
  }

  /** A sample of at most `max` stored info-hashes (see the module comment for which). */
  sample(max: number): InfohashSample {
    const keys = this.store.infoHashKeys();
    const num = keys.length;
    const limit = Math.max(0, Math.floor(max));
    let chosen: string[];
    if (num <= limit) {
      this.cached = undefined;
      chosen = keys;
    } else {
      const now = this.clock.now();
      if (this.cached === undefined || now >= this.cached.until) {
        this.cached = { keys: this.next(keys, limit), until: now + this.intervalSeconds * 1000 };
      }
      chosen = this.cached.keys.filter((k) => this.store.hasInfoHashKey(k)).slice(0, limit);
    }
    const samples = new Uint8Array(chosen.length * SAMPLE_BYTES);
    for (let i = 0; i < chosen.length; i++) samples.set(fromHex(chosen[i]!), i * SAMPLE_BYTES);
    return { samples, num, interval: this.intervalSeconds };
  }

  /** The next `limit` keys of the permutation, starting a new pass when this one runs out. */
  private next(stored: string[], limit: number): string[] {
    const live = new Set(stored);
    const out: string[] = [];
    const taken = new Set<string>();
    // Two passes at most: the rest of the current one, then a fresh one.
    for (let round = 0; round < 2 && out.length < limit; round++) {
      while (this.position < this.pass.length && out.length < limit) {
        const key = this.pass[this.position++]!;
        if (live.has(key) && !taken.has(key)) {
          out.push(key);
          taken.add(key);
        }
      }
      if (out.length < limit) {
        this.pass = shuffle(stored, this.random);
        this.position = 0;
      }
    }
    return out;
  }
}

/** A Fisher-Yates shuffle of a copy of `items`, with the node's random source. */
function shuffle<T>(items: readonly T[], random: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A `sample_infohashes` answer as `DHT.sampleInfohashes` returns it. */
export interface SampleInfohashesResult {
  /** The responder's node id. */
  id: NodeId;
  /** Seconds to wait before asking this node again (BEP 51: 0-21600, as sent). */
  interval: number;
  /** Info-hashes the node stores; more than `samples.length` means more after `interval`. */
  num: number;
  /** The sampled info-hashes (copies, 20 bytes each). */
  samples: NodeId[];
  /** Nodes close to the target (`nodes` and BEP 32 `nodes6`), for a keyspace traversal. */
  nodes: Contact[];
}

/**
 * Reads a `sample_infohashes` response. BEP 51: "Nodes supporting this extension should always
 * include the samples field in the response, even when it is zero-length." A response without
 * `samples`, `num` or `interval` (a node answering as if it were find_node, say) is
 * `MALFORMED_MESSAGE`; so is any `nodes`/`nodes6` that is not whole compact node infos.
 */
export function readSampleResponse(res: KrpcResponse, ownId: NodeId): SampleInfohashesResult {
  const { samples, num, interval } = res.r;
  if (samples === undefined || num === undefined || interval === undefined) {
    const missing = [
      samples === undefined ? 'samples' : '',
      num === undefined ? 'num' : '',
      interval === undefined ? 'interval' : '',
    ].filter(Boolean);
    throw new DHTError(
      'MALFORMED_MESSAGE',
      `sample_infohashes response without ${missing.join(', ')}: the node does not support BEP 51`,
    );
  }
  const out: NodeId[] = [];
  for (let at = 0; at < samples.length; at += SAMPLE_BYTES) {
    out.push(samples.slice(at, at + SAMPLE_BYTES));
  }
  const nodes: Contact[] = [];
  for (const [raw, family] of [
    [res.r.nodes, 4],
    [res.r.nodes6, 6],
  ] as const) {
    if (raw === undefined) continue;
    for (const c of decodeCompactNodes(raw, family)) {
      if (c.address.port !== 0 && !idEquals(c.id, ownId)) nodes.push(c);
    }
  }
  return { id: res.r.id, interval, num, samples: out, nodes };
}
