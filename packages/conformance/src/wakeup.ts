/**
 * What a probe waits on while it expects an answer: `wait(ms)` resolves when `wake()` is called
 * (an answer arrived, the connection ended) or after `ms` on the network's clock, whichever
 * comes first. Waiting through the network's clock lets the same probe run on real sockets and
 * in netsim.
 */
import type { Clock } from '@peerkit/transport';

export class Wakeup {
  readonly #clock: Clock;
  #wake: (() => void) | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Resolves on the next `wake()` or after `ms`; one waiter at a time. */
  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = this.#clock.setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        timer.cancel();
        this.#wake = undefined;
        resolve();
      };
    });
  }

  /** Ends the current wait at once (nothing happens when nobody waits). */
  wake(): void {
    this.#wake?.();
  }
}
