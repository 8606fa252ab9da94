/**
 * The real-time `Clock` for Node, and two helpers every protocol needs on top of any `Clock`
 * (`sleep`, `withTimeout`). The helpers take the clock as an argument, so they run in virtual
 * time under netsim exactly as in real time under Node.
 */
import { TransportError } from './errors';
import type { Clock, Timer } from './interfaces';

/** Node clamps longer timer delays to 1 ms; longer waits are chained in steps of this size. */
const MAX_TIMER_DELAY = 2_147_483_647;

export interface SystemClockOptions {
  /**
   * Unref every timer, so that pending timers never keep the process alive (default `false`:
   * timers behave like the global `setTimeout`). Useful for a long-running daemon's maintenance
   * timers when something else (a socket) decides the process's life.
   */
  unref?: boolean;
}

/**
 * A `Clock` on `performance.now()` (monotonic: it never goes back when the wall clock is set)
 * and Node's timers.
 */
export function createSystemClock(options: SystemClockOptions = {}): Clock {
  const unref = options.unref ?? false;
  const arm = (handle: NodeJS.Timeout): NodeJS.Timeout => (unref ? handle.unref() : handle);

  return {
    now: () => performance.now(),

    setTimeout(callback: () => void, delayMs: number): Timer {
      let remaining = checkDelay(delayMs, 'delayMs');
      let handle: NodeJS.Timeout | undefined;
      const schedule = (): void => {
        const step = Math.min(remaining, MAX_TIMER_DELAY);
        remaining -= step;
        handle = arm(
          setTimeout(() => {
            if (remaining > 0) schedule();
            else {
              handle = undefined;
              callback();
            }
          }, step),
        );
      };
      schedule();
      return {
        cancel() {
          if (handle !== undefined) clearTimeout(handle);
          handle = undefined;
        },
      };
    },

    setInterval(callback: () => void, intervalMs: number): Timer {
      const interval = checkDelay(intervalMs, 'intervalMs');
      if (interval <= 0 || interval > MAX_TIMER_DELAY) {
        throw new RangeError(`intervalMs must be in (0, ${MAX_TIMER_DELAY}], got ${intervalMs}`);
      }
      const handle = arm(setInterval(callback, interval));
      return { cancel: () => clearInterval(handle) };
    },
  };
}

function checkDelay(ms: number, name: string): number {
  if (Number.isNaN(ms)) throw new RangeError(`${name} must be a number, got NaN`);
  return Math.max(0, ms);
}

/** The shared real-time clock (timers keep the process alive, as global timers do). */
export const systemClock: Clock = createSystemClock();

function abortError(signal: AbortSignal): TransportError {
  return new TransportError('ABORTED', 'operation aborted', { cause: signal.reason });
}

/**
 * Resolves after `ms` milliseconds of `clock` time; rejects with `TransportError` `ABORTED`
 * (and cancels its timer) when `signal` aborts first.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      timer.cancel();
      reject(abortError(signal as AbortSignal));
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles like `promise`, or rejects with `TransportError` `TIMEOUT` when it has not settled
 * after `ms` milliseconds of `clock` time. The timer is cancelled as soon as `promise` settles.
 * (`promise` itself is not cancelled: pass an `AbortSignal` to the operation for that.)
 */
export function withTimeout<T>(
  clock: Clock,
  promise: Promise<T>,
  ms: number,
  what = 'operation',
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => {
      reject(new TransportError('TIMEOUT', `${what} timed out after ${ms} ms`));
    }, ms);
    promise.then(
      (value) => {
        timer.cancel();
        resolve(value);
      },
      (error: unknown) => {
        timer.cancel();
        reject(error);
      },
    );
  });
}
