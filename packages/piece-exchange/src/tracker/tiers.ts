/**
 * BEP 12 multitracker metadata extension, and when to announce: the pure core of the announce
 * loop (no sockets, no timers; the caller passes the time).
 *
 * - The `announce-list` is a list of tiers; the trackers of each tier are shuffled once, when
 *   the list is loaded (BEP 12 "shuffled randomly... the first time").
 * - An announce tries the trackers in order: the first tracker of the first tier, then the next
 *   one of that tier, then the next tier (BEP 12), until one answers. An error answer
 *   (`failure reason`), garbage or a timeout all mean "try the next one".
 * - The tracker that answered moves to the front of its tier (BEP 12).
 * - The first announce says `started`, `completed` is sent once when the download completes
 *   (never when it was complete at start), `stopped` when we leave, to the tracker that last
 *   answered (BEP 3 "event").
 * - The next regular announce comes after the answering tracker's `interval` (BEP 3); a
 *   tracker is not sent a regular announce again before its `min interval`. When every tracker
 *   failed, the round is retried after 1 min, doubling up to 30 min.
 */
import type { Random } from '@peerkit/transport';
import type { AnnounceEvent } from './udp-messages';

/** The delay after a round in which no tracker answered (doubles each time, up to `MAX_RETRY_MS`). */
export const FIRST_RETRY_MS = 60_000;
export const MAX_RETRY_MS = 30 * 60_000;
/** Bounds put on a tracker's `interval` (seconds): never hammer, never go silent for hours. */
export const MIN_INTERVAL_S = 30;
export const MAX_INTERVAL_S = 3_600;

export interface TrackerAnswer {
  /** Seconds until the next regular announce. */
  interval: number;
  /** Seconds the tracker wants at least between regular announces. */
  minInterval?: number;
}

/** What to send now: an announce with `event` to `url`. */
export interface DueAnnounce {
  url: string;
  event: AnnounceEvent;
  /** Tier of `url` (0 = first) and its position in the tier. */
  tier: number;
}

interface TrackerState {
  lastAt: number;
  minIntervalMs: number;
}

/** The BEP 12 tiers, shuffled once; `promote` moves the tracker that answered to the front. */
export class TrackerTiers {
  readonly #tiers: string[][];

  /** Duplicate URLs (in any tier) and empty tiers are dropped. */
  constructor(tiers: readonly (readonly string[])[], random: Random) {
    const seen = new Set<string>();
    this.#tiers = [];
    for (const tier of tiers) {
      const urls = tier.filter((url) => {
        if (url === '' || seen.has(url)) return false;
        seen.add(url);
        return true;
      });
      // Fisher-Yates with the injected random source.
      for (let i = urls.length - 1; i > 0; i--) {
        const j = random.int(i + 1);
        [urls[i], urls[j]] = [urls[j]!, urls[i]!];
      }
      if (urls.length > 0) this.#tiers.push(urls);
    }
  }

  get tiers(): readonly (readonly string[])[] {
    return this.#tiers.map((tier) => [...tier]);
  }

  /** Every tracker, in the order an announce tries them. */
  order(): { url: string; tier: number }[] {
    return this.#tiers.flatMap((tier, index) => tier.map((url) => ({ url, tier: index })));
  }

  /** BEP 12: the tracker that answered goes to the front of its tier. */
  promote(url: string): void {
    for (const tier of this.#tiers) {
      const at = tier.indexOf(url);
      if (at > 0) {
        tier.splice(at, 1);
        tier.unshift(url);
      }
    }
  }
}

/**
 * The announce schedule of one torrent: which tracker gets which event when. Drive it with
 * `due(now)` (what to send now), then `answered` or `failed` for that request; `nextAt()` is when
 * to call `due` again.
 */
export class AnnounceSchedule {
  readonly tiers: TrackerTiers;
  readonly #trackers = new Map<string, TrackerState>();
  /** The event of the announces until one tracker takes it. */
  #event: AnnounceEvent | undefined;
  #startedSent = false;
  #completedQueued = false;
  #completedSent = false;
  #stopped = false;
  #cursor = 0;
  #inFlight: DueAnnounce | undefined;
  #nextAt: number | undefined;
  #failedRounds = 0;
  #current: string | undefined;

  constructor(tiers: readonly (readonly string[])[], random: Random) {
    this.tiers = new TrackerTiers(tiers, random);
  }

  /** The tracker that answered last (it gets `stopped`). */
  get current(): string | undefined {
    return this.#current;
  }

  /** Whether a tracker accepted our `completed`. */
  get completedSent(): boolean {
    return this.#completedSent;
  }

  /** The first announce: `started`, now. */
  start(now: number): void {
    if (this.#event !== undefined || this.#stopped) return;
    this.#event = 'started';
    this.#nextAt = now;
  }

  /** The download completed: `completed` goes out now (once), or right after `started`. */
  complete(now: number): void {
    if (this.#completedQueued || this.#stopped) return;
    this.#completedQueued = true;
    // Before `started` was taken, `completed` follows it (see `answered`).
    if (this.#startedSent && this.#event === 'none') {
      this.#event = 'completed';
      if (this.#inFlight === undefined) {
        this.#cursor = 0;
        this.#nextAt = now;
      }
    }
  }

  /** When `due` has something next (undefined: nothing until `start`/`complete`/an answer). */
  nextAt(): number | undefined {
    return this.#stopped || this.#inFlight !== undefined ? undefined : this.#nextAt;
  }

  /** The announce to send now, if any; it stays in flight until `answered` or `failed`. */
  due(now: number): DueAnnounce | undefined {
    if (this.#stopped || this.#inFlight !== undefined || this.#event === undefined) return;
    if (this.#nextAt === undefined || now < this.#nextAt) return;
    const order = this.tiers.order();
    while (this.#cursor < order.length) {
      const { url, tier } = order[this.#cursor]!;
      const state = this.#trackers.get(url);
      // BEP 3 `min interval`: no regular announce to this tracker before it (events always go).
      if (this.#event === 'none' && state !== undefined && now < state.lastAt + state.minIntervalMs)
        this.#cursor++;
      else {
        this.#inFlight = { url, event: this.#event, tier };
        return this.#inFlight;
      }
    }
    // Nobody answered (or every tracker is inside its min interval): retry the round later.
    this.#cursor = 0;
    this.#nextAt = now + Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.#failedRounds);
    this.#failedRounds++;
    return undefined;
  }

  /** `url` answered the announce in flight. */
  answered(url: string, now: number, answer: TrackerAnswer): void {
    const sent = this.#takeInFlight(url);
    if (sent === undefined) return;
    this.tiers.promote(url);
    const interval = Math.min(MAX_INTERVAL_S, Math.max(MIN_INTERVAL_S, answer.interval));
    const minIntervalMs = Math.max(0, answer.minInterval ?? 0) * 1000;
    this.#trackers.set(url, { lastAt: now, minIntervalMs });
    this.#current = url;
    this.#cursor = 0;
    this.#failedRounds = 0;
    if (sent.event === 'started') this.#startedSent = true;
    if (sent.event === 'completed') this.#completedSent = true;
    if (this.#completedQueued && !this.#completedSent) {
      this.#event = 'completed';
      this.#nextAt = now;
    } else {
      this.#event = 'none';
      this.#nextAt = now + Math.max(interval * 1000, minIntervalMs);
    }
  }

  /** `url` failed (error answer, garbage, timeout): the next tracker is due now. */
  failed(url: string, _now: number): void {
    if (this.#takeInFlight(url) === undefined) return;
    this.#cursor++;
  }

  /**
   * We leave: nothing is due any more. Returns where `stopped` goes: the tracker that answered
   * last, when a `started` was taken (a tracker that never heard of us needs no `stopped`).
   */
  stop(): string | undefined {
    this.#stopped = true;
    this.#inFlight = undefined;
    return this.#startedSent ? this.#current : undefined;
  }

  #takeInFlight(url: string): DueAnnounce | undefined {
    const sent = this.#inFlight;
    if (this.#stopped || sent === undefined || sent.url !== url) return undefined;
    this.#inFlight = undefined;
    return sent;
  }
}
