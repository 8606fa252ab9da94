/**
 * The run loops behind `Simulation`'s run controls: manual runs (`runFor`, `runUntil`,
 * `runUntilIdle`, `step`) and the background auto-run. See the comment at the top of
 * simulation.ts and the README ("Promises and virtual time") for how they let promise-based code
 * react to each virtual instant.
 */
import type { SimCore } from './core';
import { SimulationError } from './errors';
import type { EventFn } from './event-queue';
import {
  promiseActivity,
  resetPromiseActivity,
  settleMicrotasks,
  unwatchPromises,
  watchPromises,
} from './microtasks';

/** Longest stretch of real time the run loop keeps Node's event loop waiting. */
const YIELD_EVERY_MS = 50;

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

type Mode = 'idle' | 'manual' | 'auto';

export interface AutoGuard {
  deadline: number;
  failOnIdle: boolean;
  fail(error: unknown): void;
}

export type StopReason = 'until' | 'time' | 'idle' | 'events';

export class Runner {
  /** Events run so far. */
  processed = 0;
  private mode: Mode = 'idle';
  private autoLoop: Promise<void> | undefined;
  private autoFailure: unknown;
  private wake: (() => void) | undefined;
  /** Events run by the last `runInstants` call. */
  private batchEvents = 0;

  constructor(
    private readonly core: SimCore,
    private readonly seed: number,
    private readonly drainAlways: boolean,
  ) {}

  /** Runs one manual run control (refusing to overlap with another run). */
  async manual<T>(run: () => Promise<T>): Promise<T> {
    this.enter();
    try {
      return await run();
    } finally {
      this.mode = 'idle';
    }
  }

  step(): boolean {
    this.enter();
    try {
      const core = this.core;
      const event = core.queue.pop();
      if (event === undefined) return false;
      core.now = event.time;
      const fn = event.fn as EventFn;
      event.fn = null;
      this.processed++;
      fn(event);
      core.queue.release(event);
      return true;
    } finally {
      this.mode = 'idle';
    }
  }

  /** Ends auto-run; rejects with the error a callback threw during it, if any. */
  async stopAuto(): Promise<void> {
    if (this.mode !== 'auto' && this.autoLoop === undefined) return;
    if (this.mode === 'auto') this.mode = 'idle';
    this.wake?.();
    await this.autoLoop;
    this.autoLoop = undefined;
    const failure = this.autoFailure;
    this.autoFailure = undefined;
    if (failure !== undefined) throw failure;
  }

  private enter(): void {
    if (this.mode !== 'idle') {
      throw new SimulationError('BUSY', `the simulation is already running (${this.mode})`);
    }
    this.mode = 'manual';
  }

  /** The run loop of `runFor`/`runUntil`/`runUntilIdle`. */
  async advance(
    end: number,
    until: (() => boolean) | undefined,
    maxEvents: number,
  ): Promise<StopReason> {
    const core = this.core;
    let processed = 0;
    watchPromises();
    try {
      // Whatever the caller set in motion before this call settles first (at the current time).
      await settleMicrotasks();
      core.asyncWork = false;
      core.callbacksRan = false;
      for (;;) {
        const stop = this.runInstants(end, until, maxEvents - processed);
        processed += this.batchEvents;
        if (stop === 'settle') {
          // Let promise-based code react to the instant that just ran (see the module comment).
          if (this.drainAlways) await this.drain();
          else {
            core.callbacksRan = false;
            await settleMicrotasks();
            core.asyncWork = false;
          }
        } else if (stop === 'yield') await immediate();
        else return stop;
      }
    } finally {
      unwatchPromises();
    }
  }

  /**
   * Runs virtual instants synchronously for as long as none of them leaves promise-based work
   * behind (the fast path, in a plain function that V8 optimises); says why it stopped and
   * leaves the number of events run in `batchEvents`.
   */
  private runInstants(
    end: number,
    until: (() => boolean) | undefined,
    maxEvents: number,
  ): 'until' | 'time' | 'idle' | 'events' | 'settle' | 'yield' {
    const core = this.core;
    const queue = core.queue;
    const yieldAt = performance.now() + YIELD_EVERY_MS;
    let n = 0;
    let instants = 0;
    this.batchEvents = 0;
    for (;;) {
      if (until?.()) return 'until';
      const time = queue.peekTime();
      if (time === undefined) return 'idle';
      if (time > end) return 'time';
      if (n >= maxEvents) return 'events';
      resetPromiseActivity();
      n += this.runInstant(time, maxEvents - n);
      this.batchEvents = n;
      if (this.drainAlways || core.asyncWork || promiseActivity(core.callbacksRan)) return 'settle';
      // Keep Node's event loop (a test runner's timers) alive during long synchronous stretches.
      if ((++instants & 0x3ff) === 0 && performance.now() > yieldAt) return 'yield';
    }
  }

  /** One real event-loop turn: every microtask (and everything they chain) runs first. */
  private async drain(): Promise<void> {
    const core = this.core;
    core.asyncWork = false;
    await immediate();
    core.asyncWork = false;
    core.callbacksRan = false;
  }

  startAuto(guard: AutoGuard): void {
    if (this.mode !== 'idle') {
      throw new SimulationError('BUSY', `the simulation is already running (${this.mode})`);
    }
    this.mode = 'auto';
    this.autoFailure = undefined;
    this.autoLoop = this.autoRun(guard).catch((error: unknown) => {
      this.autoFailure = error;
      this.mode = 'idle';
      guard.fail(error);
    });
  }

  private async autoRun(guard: AutoGuard): Promise<void> {
    const core = this.core;
    const queue = core.queue;
    let idleTurns = 0;
    watchPromises();
    try {
      // The code that called start() runs on first.
      await this.drain();
      while (this.mode === 'auto') {
        const time = queue.peekTime();
        if (time === undefined) {
          // Nothing queued: let everything pending run, then look again.
          await this.drain();
          if (this.mode !== 'auto' || queue.peekTime() !== undefined) continue;
          if (guard.failOnIdle) {
            // Give real work (if any) a few turns before calling it a deadlock.
            if (++idleTurns < 3) continue;
            throw new SimulationError(
              'DEADLOCK',
              `nothing left to simulate at ${core.now} ms but the test still waits (seed ${this.seed})`,
            );
          }
          await new Promise<void>((resolve) => {
            this.wake = resolve;
            core.onSchedule = resolve;
          });
          this.wake = undefined;
          core.onSchedule = undefined;
          continue;
        }
        idleTurns = 0;
        if (time > guard.deadline) {
          throw new SimulationError(
            'TIME_LIMIT',
            `virtual time budget exhausted at ${core.now} ms (seed ${this.seed})`,
          );
        }
        // The same synchronous fast path as the manual runs, in batches of at most 10,000 events.
        const stop = this.runInstants(guard.deadline, undefined, 10_000);
        if (stop === 'settle') {
          if (this.drainAlways) await this.drain();
          else {
            core.callbacksRan = false;
            await settleMicrotasks();
            core.asyncWork = false;
          }
        } else if (stop === 'yield' || stop === 'events') {
          // Real timers (a test runner's) still get their turns.
          await immediate();
        }
      }
    } finally {
      unwatchPromises();
    }
  }

  /**
   * Runs the events due at `time` (at most `maxEvents`), until one leaves promise-based work
   * behind; returns how many ran. Kept synchronous and out of the async run loops, so that V8
   * optimises it like any hot function (loops inside async functions are optimised poorly).
   */
  private runInstant(time: number, maxEvents: number): number {
    const core = this.core;
    const queue = core.queue;
    core.now = time;
    let n = 0;
    do {
      const event = queue.pop();
      if (event === undefined) break;
      const fn = event.fn as EventFn;
      event.fn = null;
      n++;
      this.processed++;
      fn(event);
      queue.release(event);
    } while (
      !core.asyncWork &&
      !promiseActivity(core.callbacksRan) &&
      n < maxEvents &&
      queue.peekTime() === time
    );
    return n;
  }
}
