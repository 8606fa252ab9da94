/**
 * Virtual time as transport's `Clock`. Timers are events in the simulation's queue; a host's
 * clock stops firing for good when the host crashes (its process is gone).
 */
import type { Clock, Timer } from '@peerkit/transport';
import type { SimCore } from './core';
import type { SimEvent } from './event-queue';

class OnceTimer implements Timer {
  constructor(
    private readonly core: SimCore,
    private readonly event: SimEvent,
  ) {}

  cancel(): void {
    if (this.event.fn === null) return;
    this.core.queue.cancel(this.event);
    this.core.timers--;
  }
}

class IntervalTimer implements Timer {
  private event: SimEvent | undefined;
  private cancelled = false;

  constructor(
    private readonly core: SimCore,
    private readonly callback: () => void,
    private readonly intervalMs: number,
    private readonly isDead: () => boolean,
  ) {
    core.timers++;
    this.arm();
  }

  private arm(): void {
    if (this.cancelled) return;
    this.event = this.core.schedule(this.intervalMs, () => {
      if (this.isDead()) {
        this.cancelled = true;
        this.core.timers--;
        return;
      }
      // Re-arm first, so the callback may cancel the interval.
      this.arm();
      this.core.callUser(this.callback);
    });
  }

  cancel(): void {
    if (this.cancelled) return;
    if (this.event !== undefined) this.core.queue.cancel(this.event);
    this.event = undefined;
    this.cancelled = true;
    this.core.timers--;
  }
}

/** Whatever owns a clock: a host's network, which is dead once the host crashed. */
export interface ClockOwner {
  readonly dead: boolean;
}

const NEVER_DEAD: ClockOwner = { dead: false };

/**
 * A clock on virtual time. Timers of a dead owner (a crashed host) never fire. Like Node, a
 * delay below 0 or not a number counts as 0, and an interval below 1 ms as 1 ms. A class (not
 * closures) so that each host's clock is one small object.
 */
export class VirtualClock implements Clock {
  private readonly core: SimCore;
  private readonly owner: ClockOwner;

  constructor(core: SimCore, owner: ClockOwner = NEVER_DEAD) {
    this.core = core;
    this.owner = owner;
  }

  now(): number {
    return this.core.now;
  }

  setTimeout(callback: () => void, delayMs: number): Timer {
    const core = this.core;
    const owner = this.owner;
    const delay = Number.isNaN(delayMs) ? 0 : Math.max(delayMs, 0);
    core.timers++;
    const event = core.schedule(delay, () => {
      core.timers--;
      if (!owner.dead) core.callUser(callback);
    });
    return new OnceTimer(core, event);
  }

  setInterval(callback: () => void, intervalMs: number): Timer {
    const interval = Number.isNaN(intervalMs) ? 1 : Math.max(intervalMs, 1);
    const owner = this.owner;
    return new IntervalTimer(this.core, callback, interval, () => owner.dead);
  }
}
