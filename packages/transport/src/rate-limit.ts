/**
 * peerkit's one token bucket: a rate limit per key (a sender's IP, an author, a connection),
 * `ratePerSecond` tokens refilling continuously up to `burst`, one token per `take` (or `cost`
 * tokens: bytes, say). Used by kademlia's per-IP query limit, the messenger's per-author and
 * per-peer limits, and peerkit-share's byte rates (`--max-upload-rate`, `--max-download-rate`).
 *
 * Each bucket is stored in its GCRA form (the "generic cell rate algorithm", ITU-T I.371): one
 * number per key, the time at which its bucket will be full again (the "theoretical arrival
 * time"). A bucket that is full again behaves exactly like a new one, so `sweep` forgets it:
 * memory holds only the keys that were active within the last `burst / ratePerSecond` seconds,
 * and never more than `maxKeys` (beyond that everything is forgotten at once: a flood of fresh
 * keys costs bounded memory and starts every key over with a full bucket).
 *
 * Pure: time comes from the injected clock; exact arithmetic (no rounding to whole ms, which
 * would cap every rate at 1,000 per second).
 */
import type { Clock } from './interfaces';

export class RateLimiter<K = string> {
  /** Time between two tokens, ms. */
  readonly intervalMs: number;
  private readonly tats = new Map<K, number>();
  private calls = 0;

  constructor(
    private readonly clock: Pick<Clock, 'now'>,
    readonly ratePerSecond: number,
    readonly burst: number,
    readonly maxKeys = 10_000,
  ) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) {
      throw new RangeError('ratePerSecond must be > 0 and burst >= 1');
    }
    this.intervalMs = 1000 / ratePerSecond;
  }

  /**
   * Takes `cost` tokens (default one) for `key`; false (and nothing taken) when its bucket holds
   * fewer. A cost above `burst` goes through once the bucket is full and leaves it in debt (its
   * next token comes that much later), so one large item is never refused for ever.
   */
  take(key: K, cost = 1): boolean {
    const now = this.clock.now();
    // Now and then, forget the keys whose bucket refilled: bounded memory.
    if (++this.calls % 256 === 0 || this.tats.size >= this.maxKeys) this.sweep(now);
    const tat = Math.max(this.tats.get(key) ?? now, now);
    if (tat - now > this.slackMs(cost)) return false;
    this.tats.set(key, tat + cost * this.intervalMs);
    return true;
  }

  /**
   * Takes `tokens` tokens for `key` at once, whether or not the bucket holds them (it may go into
   * debt), and returns how long the caller must wait, ms, before using them (0: at once). A byte
   * rate limit takes one token per byte: over any span of T ms, at most `burst + T * rate / 1000`
   * tokens are usable.
   */
  reserve(key: K, tokens: number): number {
    const now = this.clock.now();
    if (++this.calls % 256 === 0 || this.tats.size >= this.maxKeys) this.sweep(now);
    const tat = Math.max(this.tats.get(key) ?? now, now) + tokens * this.intervalMs;
    this.tats.set(key, tat);
    // The tokens are usable once the bucket could have held them all: `burst` intervals of slack.
    return Math.max(0, tat - this.intervalMs * this.burst - now);
  }

  /** How long until `take(key, cost)` would succeed, ms (0: now). Takes nothing. */
  waitMs(key: K, cost = 1): number {
    const now = this.clock.now();
    return Math.max(0, (this.tats.get(key) ?? now) - now - this.slackMs(cost));
  }

  /**
   * How far ahead of now a bucket's full-again time may run while it still holds `cost` tokens:
   * `burst - cost` intervals (`burst - 1` for one token; none for a cost of `burst` or more).
   */
  private slackMs(cost: number): number {
    return this.intervalMs * (this.burst - Math.min(cost, this.burst));
  }

  /** Forgets full buckets; if `maxKeys` are still active, forgets everything. */
  sweep(now = this.clock.now()): void {
    for (const [key, tat] of this.tats) if (tat <= now) this.tats.delete(key);
    if (this.tats.size >= this.maxKeys) this.tats.clear();
  }

  /** Forgets every bucket. */
  clear(): void {
    this.tats.clear();
  }

  /** Keys with a bucket that is not full. */
  get size(): number {
    return this.tats.size;
  }

  /** How long an empty bucket takes to fill up, ms (after that its key is forgotten). */
  get refillMs(): number {
    return this.intervalMs * this.burst;
  }
}
