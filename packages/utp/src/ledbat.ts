/**
 * LEDBAT, uTP's delay-based congestion controller (BEP 29, "congestion control").
 *
 * Every packet carries the sender's microsecond timestamp; the receiver echoes the difference
 * between its clock and that timestamp (`timestamp_difference_microseconds`). The difference
 * holds an unknown clock offset plus the one-way delay; its minimum over the last minutes is
 * `base_delay`, so `our_delay = delay - base_delay` is the queuing delay our packets meet.
 *
 * ```
 * off_target   = CCONTROL_TARGET - our_delay
 * delay_factor = off_target / CCONTROL_TARGET
 * window_factor = bytes_acked / max_window
 * scaled_gain  = MAX_CWND_INCREASE_BYTES_PER_RTT * delay_factor * window_factor
 * max_window  += scaled_gain
 * ```
 *
 * Within one round trip `window_factor` sums to at most 1, so the window grows by at most
 * `MAX_CWND_INCREASE_BYTES_PER_RTT` per RTT.
 *
 * Over the target, BEP 29's equation shrinks every flow's window by the same number of bytes,
 * so two flows that share a bottleneck keep whatever difference they started with (a known
 * flaw of additive LEDBAT). By default the decrease is multiplicative instead, as in LEDBAT++
 * (draft-irtf-iccrg-ledbat-plus-plus, section 4.2): per RTT
 * `max_window += max(GAIN - max_window * (our_delay / CCONTROL_TARGET - 1), -max_window / 2)`,
 * so larger windows give up more and competing flows converge to equal shares. `decrease: 'additive'` restores the plain equation. A loss halves the window (once per window of packets), a timeout drops it to
 * one packet. Like libtorrent, the controller starts in slow start (the window grows by the
 * bytes acknowledged, doubling per RTT) until the delay reaches 90% of the target or a loss.
 * The window grows only while the sender actually fills it.
 */

/** CCONTROL_TARGET: the queuing delay uTP accepts, microseconds (BEP 29: 100 ms). */
export const CCONTROL_TARGET_US = 100_000;
/** The window's gain cap per round trip, bytes (libutp's MAX_CWND_INCREASE_BYTES_PER_RTT). */
export const MAX_CWND_INCREASE_BYTES_PER_RTT = 3000;
/** Length of one base-delay history bucket, ms. */
export const BASE_DELAY_BUCKET_MS = 60_000;
/** Buckets of base-delay history (BEP 29: "a sliding minimum ... for the last two minutes"). */
export const BASE_DELAY_BUCKETS = 2;
/** Recent delay samples whose minimum is the current delay (filters out noise). */
const CURRENT_DELAY_SAMPLES = 3;

const U32 = 0x1_0000_0000;

export interface LedbatOptions {
  /** Target queuing delay, microseconds (default 100,000). */
  targetUs?: number;
  /** Gain cap per RTT in bytes (default 3000). */
  gainPerRtt?: number;
  /** The initial window, bytes (default 2 × 1500). */
  initialWindow?: number;
  /** The largest window, bytes (default 16 MiB). */
  maxWindow?: number;
  /** Start in slow start (default true). */
  slowStart?: boolean;
  /** How the window shrinks over the target (default `'multiplicative'`, see above). */
  decrease?: 'additive' | 'multiplicative';
  /** LEDBAT++ periodic slowdowns (default true with the multiplicative decrease). */
  slowdowns?: boolean;
}

/** Packets the window holds during a slowdown (LEDBAT++ section 4.4). */
const SLOWDOWN_PACKETS = 2;
/** RTTs a slowdown holds the window down. */
const SLOWDOWN_RTTS = 2;
/** The next slowdown comes after this many times the last one lasted (so >= 90% use). */
const SLOWDOWN_INTERVAL_FACTOR = 9;

export class Ledbat {
  /** `max_window`: bytes allowed in flight. */
  maxWindow: number;
  slowStart: boolean;
  /** Window at which slow start ends (set on the first loss or delay exit). */
  ssthresh = Number.POSITIVE_INFINITY;
  readonly target: number;
  readonly #gain: number;
  readonly #ceiling: number;
  readonly #multiplicative: boolean;
  readonly #slowdowns: boolean;
  /** Clock time of the next slowdown (Infinity: none scheduled). */
  #slowdownAt = Number.POSITIVE_INFINITY;
  /** While slowing down: when the hold ends; the window to regain; when it began. */
  #slowdownUntil = Number.NEGATIVE_INFINITY;
  #slowdownStart = 0;
  #regain = 0;
  /** Slowdowns done so far. */
  slowdownCount = 0;
  /** Base-delay history: the minimum raw delay of each bucket (u32 microseconds). */
  readonly #history: number[] = [];
  #bucketStart = Number.NEGATIVE_INFINITY;
  readonly #recent: number[] = [];
  /** Queuing delay measured last, microseconds (0 before any sample). */
  ourDelay = 0;
  /** Delay samples taken. */
  samples = 0;

  constructor(options: LedbatOptions = {}) {
    this.target = options.targetUs ?? CCONTROL_TARGET_US;
    this.#gain = options.gainPerRtt ?? MAX_CWND_INCREASE_BYTES_PER_RTT;
    this.maxWindow = options.initialWindow ?? 3000;
    this.#ceiling = options.maxWindow ?? 16 * 1024 * 1024;
    this.slowStart = options.slowStart ?? true;
    this.#multiplicative = (options.decrease ?? 'multiplicative') === 'multiplicative';
    this.#slowdowns = options.slowdowns ?? this.#multiplicative;
  }

  /**
   * LEDBAT++ periodic slowdowns (section 4.4): the base delay can only be measured on an empty
   * queue, and a flow that starts while others keep the queue full measures it too high and
   * takes more than its share (the "latecomer advantage"). So, 2 RTTs after slow start ends
   * and then every 9 times as long as the last slowdown took, the window drops to 2 packets
   * for 2 RTTs, letting the queue drain so that every flow sees the true base delay, then
   * regains its size in slow start.
   */
  #slowdown(nowMs: number, rttMs: number, packetSize: number): boolean {
    if (!this.#slowdowns) return false;
    if (nowMs < this.#slowdownUntil) {
      this.maxWindow = SLOWDOWN_PACKETS * packetSize;
      return true;
    }
    if (this.#slowdownUntil !== Number.NEGATIVE_INFINITY) {
      // The hold is over: slow start back to the window we had.
      this.#slowdownUntil = Number.NEGATIVE_INFINITY;
      this.slowStart = true;
      this.ssthresh = this.#regain;
      return false;
    }
    if (nowMs >= this.#slowdownAt && !this.slowStart) {
      this.#regain = this.maxWindow;
      this.#slowdownStart = nowMs;
      this.#slowdownUntil = nowMs + SLOWDOWN_RTTS * Math.max(rttMs, 1);
      this.#slowdownAt = Number.POSITIVE_INFINITY;
      this.maxWindow = SLOWDOWN_PACKETS * packetSize;
      this.slowdownCount++;
      return true;
    }
    return false;
  }

  #endSlowStart(nowMs: number, rttMs: number): void {
    this.slowStart = false;
    this.ssthresh = this.maxWindow;
    if (!this.#slowdowns) return;
    this.#slowdownAt =
      this.slowdownCount === 0
        ? nowMs + SLOWDOWN_RTTS * Math.max(rttMs, 1)
        : nowMs + SLOWDOWN_INTERVAL_FACTOR * (nowMs - this.#slowdownStart);
  }

  /** The current base delay (u32 microseconds), or `undefined` before any sample. */
  get baseDelay(): number | undefined {
    if (this.#history.length === 0) return undefined;
    let base = this.#history[0] as number;
    for (const h of this.#history) if (wrappingLess(h, base)) base = h;
    return base;
  }

  /**
   * One `timestamp_difference_microseconds` echoed by the peer (0 means "no sample yet" and is
   * ignored). `nowMs` rolls the base-delay history.
   */
  onDelaySample(differenceUs: number, nowMs: number): void {
    if (differenceUs === 0) return;
    this.samples++;
    if (nowMs - this.#bucketStart >= BASE_DELAY_BUCKET_MS || this.#history.length === 0) {
      this.#bucketStart = nowMs;
      this.#history.push(differenceUs);
      if (this.#history.length > BASE_DELAY_BUCKETS) this.#history.shift();
    } else {
      const last = this.#history.length - 1;
      if (wrappingLess(differenceUs, this.#history[last] as number)) {
        this.#history[last] = differenceUs;
      }
    }
    this.#recent.push(differenceUs);
    if (this.#recent.length > CURRENT_DELAY_SAMPLES) this.#recent.shift();
    const base = this.baseDelay as number;
    let current = this.#recent[0] as number;
    for (const d of this.#recent) if (wrappingLess(d, current)) current = d;
    const delay = (current - base + U32) % U32;
    // A sample "below" the base (clock wrap or skew) is no queuing at all.
    this.ourDelay = delay >= U32 / 2 ? 0 : delay;
  }

  /**
   * `bytesAcked` were acknowledged; `windowFull` tells whether the sender had filled its window
   * (only then may it grow). Applies the controller's equation.
   */
  onAck(bytesAcked: number, windowFull: boolean, packetSize: number, nowMs = 0, rttMs = 0): void {
    if (bytesAcked <= 0) return;
    if (this.#slowdown(nowMs, rttMs, packetSize)) return;
    const offTarget = this.target - this.ourDelay;
    const delayFactor = offTarget / this.target;
    const windowFactor = Math.min(bytesAcked, this.maxWindow) / Math.max(this.maxWindow, 1);
    let scaledGain = this.#gain * delayFactor * windowFactor;
    if (offTarget < 0 && this.#multiplicative) {
      // LEDBAT++: per RTT, W += max(GAIN - W * (our_delay / target - 1), -W / 2).
      const perRtt = Math.max(this.#gain + this.maxWindow * delayFactor, -this.maxWindow / 2);
      scaledGain = perRtt * windowFactor;
    }
    if (this.slowStart) {
      if (this.ourDelay > this.target * 0.9 || this.maxWindow + bytesAcked > this.ssthresh) {
        this.#endSlowStart(nowMs, rttMs);
      } else {
        scaledGain = Math.max(scaledGain, bytesAcked);
      }
    }
    if (scaledGain > 0 && !windowFull) return;
    this.maxWindow = Math.min(this.#ceiling, Math.max(packetSize, this.maxWindow + scaledGain));
  }

  /** A packet was lost: `max_window *= 0.5` (BEP 29, "packet loss"). */
  onLoss(packetSize: number): void {
    this.maxWindow = Math.max(packetSize, this.maxWindow * 0.5);
    this.ssthresh = this.maxWindow;
    this.slowStart = false;
  }

  /** A retransmission timeout: the window drops to one packet (BEP 29, "timeouts"). */
  onTimeout(packetSize: number): void {
    this.ssthresh = Math.max(packetSize * 2, this.maxWindow / 2);
    this.maxWindow = packetSize;
    this.slowStart = false;
  }
}

/** `a < b` in u32 wrapping order. */
function wrappingLess(a: number, b: number): boolean {
  const d = (b - a + U32) % U32;
  return d !== 0 && d < U32 / 2;
}
