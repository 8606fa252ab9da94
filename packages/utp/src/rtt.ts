/**
 * Round-trip time and retransmission timeout (BEP 29, "timeouts"):
 *
 * ```
 * delta = rtt - packet_rtt
 * rtt_var += (abs(delta) - rtt_var) / 4
 * rtt += (packet_rtt - rtt) / 8
 * timeout = max(rtt + rtt_var * 4, 500)
 * ```
 *
 * Only packets sent once are sampled (Karn's rule). The initial timeout is 1000 ms; every
 * consecutive timeout doubles it (`backOff`), up to `MAX_TIMEOUT_MS`.
 */
export const INITIAL_TIMEOUT_MS = 1000;
export const MIN_TIMEOUT_MS = 500;
/** The back-off stops here (libutp has no cap; 8 s bounds how late a dead peer is noticed). */
export const MAX_TIMEOUT_MS = 8_000;

export class RttEstimator {
  /** Smoothed round-trip time, ms (0 before the first sample). */
  rtt = 0;
  /** Round-trip time variance, ms. */
  rttVar = 0;
  /** Samples taken so far. */
  samples = 0;
  #timeout = INITIAL_TIMEOUT_MS;
  #backoff = 1;
  readonly #minTimeout: number;

  constructor(minTimeoutMs = MIN_TIMEOUT_MS) {
    this.#minTimeout = minTimeoutMs;
  }

  /** The current retransmission timeout, back-off included, ms. */
  get timeout(): number {
    return Math.max(this.#timeout, Math.min(MAX_TIMEOUT_MS, this.#timeout * this.#backoff));
  }

  /** Feeds the round trip of one packet that was sent once. */
  sample(packetRtt: number): void {
    if (!(packetRtt >= 0)) return;
    if (this.samples === 0) {
      this.rtt = packetRtt;
      this.rttVar = packetRtt / 2;
    } else {
      const delta = this.rtt - packetRtt;
      this.rttVar += (Math.abs(delta) - this.rttVar) / 4;
      this.rtt += (packetRtt - this.rtt) / 8;
    }
    this.samples++;
    this.#timeout = Math.max(this.rtt + this.rttVar * 4, this.#minTimeout);
    this.#backoff = 1;
  }

  /** A timeout fired: the next one waits twice as long. */
  backOff(): void {
    if (this.#timeout * this.#backoff < MAX_TIMEOUT_MS) this.#backoff *= 2;
  }
}
