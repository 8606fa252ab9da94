/**
 * Knowing whether promise-based code is waiting to run, without yielding after every event.
 *
 * Node's `v8.promiseHooks` calls back whenever a promise is created or settled. While a
 * simulation runs, a hook sets one flag. The run loop clears it before a virtual instant and
 * reads it after: if no promise was created or settled during the instant (plain synchronous
 * datagram handlers and timers, the hot path of a DHT), no microtask can be pending and the loop
 * goes straight on. Otherwise it lets the microtask queue run, one hop at a time, until a hop
 * shows no more promise activity (the chain has finished), and after `MAX_HOPS` hops it falls
 * back to a full event-loop turn.
 *
 * Where `v8.promiseHooks` is missing, every instant in which user code ran takes a few hops.
 * Microtasks queued with `queueMicrotask`/`process.nextTick` without any promise are not seen.
 */
import * as v8 from 'node:v8';

interface PromiseHooks {
  onInit(hook: () => void): () => void;
  onSettled(hook: () => void): () => void;
}

const hooks: PromiseHooks | undefined = (v8 as unknown as { promiseHooks?: PromiseHooks })
  .promiseHooks;

/** Hops before giving up on the fine-grained wait and yielding a whole event-loop turn. */
const MAX_HOPS = 64;
/** Hops taken per instant when promise hooks are unavailable. */
const BLIND_HOPS = 3;

let activity = false;
let users = 0;
let stopHooks: (() => void) | undefined;

function mark(): void {
  activity = true;
}

/** Starts watching promises (reference counted across simulations). */
export function watchPromises(): void {
  if (users++ > 0 || hooks === undefined) return;
  const stopInit = hooks.onInit(mark);
  const stopSettled = hooks.onSettled(mark);
  stopHooks = () => {
    stopInit();
    stopSettled();
  };
}

export function unwatchPromises(): void {
  if (--users > 0) return;
  users = 0;
  stopHooks?.();
  stopHooks = undefined;
}

/** Clears the flag before a virtual instant runs. */
export function resetPromiseActivity(): void {
  activity = false;
}

/**
 * After an instant: whether microtasks may be pending (`callbacksRan` is the fallback signal
 * when promise hooks are unavailable).
 */
export function promiseActivity(callbacksRan: boolean): boolean {
  return hooks === undefined ? callbacksRan : activity;
}

/**
 * Lets pending microtasks run until their chains finish: a hop is one `queueMicrotask`, which
 * runs after everything queued before it; another hop is needed only if that ran promise code.
 */
export function settleMicrotasks(): Promise<void> {
  return new Promise<void>((resolve) => {
    let hops = 0;
    const blind = hooks === undefined;
    activity = true;
    const check = (): void => {
      if (blind ? hops >= BLIND_HOPS : !activity) {
        resolve();
        return;
      }
      activity = false;
      if (++hops > MAX_HOPS) {
        setImmediate(resolve);
        return;
      }
      queueMicrotask(check);
    };
    check();
  });
}
