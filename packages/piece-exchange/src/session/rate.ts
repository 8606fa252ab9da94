/**
 * A transfer rate over a sliding window of one-second buckets, driven by an injected clock
 * time (`now` in ms), so that it works the same in virtual time.
 */
export class RateMeter {
  private readonly buckets: Float64Array;
  private readonly bucketMs: number;
  private head = 0;
  private headStart = 0;
  private started = false;
  #total = 0;

  constructor(windowSeconds = 5, bucketMs = 1000) {
    this.buckets = new Float64Array(windowSeconds);
    this.bucketMs = bucketMs;
  }

  /** Bytes counted since the start. */
  get total(): number {
    return this.#total;
  }

  add(bytes: number, now: number): void {
    this.advance(now);
    this.buckets[this.head]! += bytes;
    this.#total += bytes;
  }

  /** Bytes per second over the window (the current, partial bucket included). */
  rate(now: number): number {
    this.advance(now);
    if (!this.started) return 0;
    let sum = 0;
    for (const b of this.buckets) sum += b;
    const elapsed = (this.buckets.length - 1) * this.bucketMs + Math.max(1, now - this.headStart);
    return (sum * 1000) / elapsed;
  }

  private advance(now: number): void {
    if (!this.started) {
      this.started = true;
      this.headStart = now;
      return;
    }
    let steps = Math.floor((now - this.headStart) / this.bucketMs);
    if (steps <= 0) return;
    this.headStart += steps * this.bucketMs;
    if (steps > this.buckets.length) steps = this.buckets.length;
    for (let i = 0; i < steps; i++) {
      this.head = (this.head + 1) % this.buckets.length;
      this.buckets[this.head] = 0;
    }
  }
}
