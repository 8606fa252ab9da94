/**
 * Link models: how long a packet takes between two hosts and what can happen to it on the way.
 *
 * A link is directed (a -> b). Every pair of hosts uses the simulation's default link unless an
 * override was set for that pair. Datagrams suffer latency, jitter, loss, duplication and
 * reordering; streams get latency, jitter (without reordering: they stay in order) and
 * bandwidth, and are reliable (loss does not apply to them: see the README's model section).
 */
import type { Prng } from './prng';

/** A random delay in milliseconds. */
export interface Distribution {
  /** Draws one value (>= 0) from the distribution using `random`. */
  sample(random: Prng): number;
  /** The distribution's mean, for documentation and fidelity tests. */
  readonly mean: number;
  /** A short description for dumps, e.g. `uniform(5, 15)`. */
  readonly description: string;
}

/** Always `ms` (consumes no randomness). */
export function constant(ms: number): Distribution {
  checkNonNegative('constant', ms);
  return { sample: () => ms, mean: ms, description: `${ms}` };
}

/** Uniform in [min, max). */
export function uniform(min: number, max: number): Distribution {
  checkNonNegative('uniform min', min);
  if (!(max >= min)) throw new RangeError(`uniform: max (${max}) must be >= min (${min})`);
  return {
    sample: (random) => min + (max - min) * random.float(),
    mean: (min + max) / 2,
    description: `uniform(${min}, ${max})`,
  };
}

/** Normal (Box-Muller) with the given mean and standard deviation, clamped at 0. */
export function normal(mean: number, stddev: number): Distribution {
  checkNonNegative('normal mean', mean);
  checkNonNegative('normal stddev', stddev);
  return {
    sample: (random) => {
      const u = 1 - random.float(); // (0, 1]
      const v = random.float();
      const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      return Math.max(0, mean + stddev * z);
    },
    mean,
    description: `normal(${mean}, ${stddev})`,
  };
}

/** `min` plus an exponential with mean `mean - min` (a long-tailed delay). */
export function exponential(mean: number, min = 0): Distribution {
  checkNonNegative('exponential min', min);
  if (!(mean >= min)) throw new RangeError(`exponential: mean (${mean}) must be >= min (${min})`);
  return {
    sample: (random) => min - (mean - min) * Math.log(1 - random.float()),
    mean,
    description: `exponential(${mean}, ${min})`,
  };
}

function checkNonNegative(what: string, value: number): void {
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new RangeError(`${what} must be a finite number >= 0, got ${value}`);
  }
}

/** Settings of a link; every field is optional and falls back to the defaults. */
export interface LinkOptions {
  /** One-way delay in ms, fixed or drawn per packet. Default 10. */
  latency?: number | Distribution;
  /** Extra delay drawn uniformly in [0, jitter) ms per packet. Default 0. */
  jitter?: number;
  /** Probability that a datagram is lost. Default 0. */
  loss?: number;
  /** Probability that a datagram is delivered twice. Default 0. */
  duplicate?: number;
  /** Probability that a datagram is held back by `reorderDelay` (so later ones overtake it). */
  reorder?: number;
  /** Extra delay of a reordered datagram, in ms. Default 2 × the mean latency (at least 1). */
  reorderDelay?: number;
  /**
   * Capacity in bytes per second, shared by everything sent over this directed link (datagrams
   * and stream segments queue behind each other). Default `Infinity`.
   */
  bandwidth?: number;
  /**
   * Bytes the link's queue holds (a bottleneck's buffer, e.g. 625,000 for 500 ms at 10 Mbit/s):
   * a datagram that finds the queue full is dropped (tail drop), so queuing delay and loss
   * emerge from load. Needs a finite `bandwidth`. Stream segments are never dropped (netsim's
   * streams are reliable) but do occupy the queue. Default `Infinity`.
   */
  queue?: number;
  /** A down link drops every datagram and stalls streams (like a partition). Default false. */
  down?: boolean;
}

/** A link with every field resolved, as the simulator uses it. */
export interface Link {
  readonly latency: Distribution;
  readonly jitter: number;
  readonly loss: number;
  readonly duplicate: number;
  readonly reorder: number;
  readonly reorderDelay: number;
  readonly bandwidth: number;
  readonly queue: number;
  readonly down: boolean;
  /** The options this link was resolved from (for traces). */
  readonly options: LinkOptions;
}

export const DEFAULT_LATENCY_MS = 10;

function probability(what: string, p: number | undefined): number {
  if (p === undefined) return 0;
  if (!(p >= 0 && p <= 1))
    throw new RangeError(`${what} must be a probability in [0, 1], got ${p}`);
  return p;
}

/** Resolves `options` over `base` (the defaults, or built-in defaults when absent). */
export function resolveLink(options: LinkOptions, base?: Link): Link {
  const merged: LinkOptions = { ...base?.options, ...options };
  const latency =
    merged.latency === undefined
      ? constant(DEFAULT_LATENCY_MS)
      : typeof merged.latency === 'number'
        ? constant(merged.latency)
        : merged.latency;
  const jitter = merged.jitter ?? 0;
  checkNonNegative('jitter', jitter);
  const bandwidth = merged.bandwidth ?? Number.POSITIVE_INFINITY;
  if (!(bandwidth > 0)) throw new RangeError(`bandwidth must be > 0, got ${bandwidth}`);
  const queue = merged.queue ?? Number.POSITIVE_INFINITY;
  if (!(queue > 0)) throw new RangeError(`queue must be > 0 bytes, got ${queue}`);
  const reorderDelay = merged.reorderDelay ?? Math.max(1, 2 * latency.mean);
  checkNonNegative('reorderDelay', reorderDelay);
  return {
    latency,
    jitter,
    loss: probability('loss', merged.loss),
    duplicate: probability('duplicate', merged.duplicate),
    reorder: probability('reorder', merged.reorder),
    reorderDelay,
    bandwidth,
    queue,
    down: merged.down ?? false,
    options: merged,
  };
}

/** One packet's propagation delay over `link` (latency plus jitter). */
export function sampleDelay(link: Link, random: Prng): number {
  const sampled = link.latency.sample(random);
  // A user-written distribution that returns garbage must not corrupt the event queue.
  const base = sampled >= 0 && sampled !== Number.POSITIVE_INFINITY ? sampled : 0;
  return link.jitter > 0 ? base + link.jitter * random.float() : base;
}
