/**
 * The simulator's agenda: a binary min-heap of events keyed by (time, sequence number).
 *
 * The sequence number is a counter taken when an event is scheduled, so events due at the same
 * virtual time run in the order they were scheduled. That tie-break is what makes a run
 * deterministic: the heap never compares anything that depends on memory layout or on the
 * order in which a `Map` happened to iterate.
 *
 * Cancelled events are not removed from the heap (that would cost O(n) to find them); they are
 * marked and skipped when they reach the top. When more than half of the heap is cancelled
 * garbage, it is compacted in one O(n) pass, so timers that are set and cancelled over and
 * over (request timeouts) cannot grow memory without bound.
 */

export type EventFn = (event: SimEvent) => void;

export class SimEvent {
  /** Virtual time (ms) at which the event runs. */
  time: number;
  /** Scheduling order, the tie-break between events with equal times. */
  seq: number;
  /** Whether the queue may reuse this object once it ran (nobody else holds it). */
  pooled = false;
  /** What to run (it receives the event, to read its slots); `null` once cancelled or run. */
  fn: EventFn | null;
  /**
   * Payload slots for hot paths (a datagram in flight), so that they need no closure: one
   * object per event instead of two keeps the garbage collector's work down at scale.
   */
  a: unknown;
  b: unknown;
  c: unknown;
  d: unknown;

  constructor(
    time: number,
    seq: number,
    fn: EventFn,
    a: unknown,
    b: unknown,
    c: unknown,
    d: unknown,
  ) {
    this.time = time;
    this.seq = seq;
    this.fn = fn;
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
  }
}

/** Most pooled events kept for reuse. */
const MAX_FREE = 1 << 20;

/** Fills vacated slots, so the array stays packed and holds on to no old event. */
const SENTINEL = new SimEvent(0, 0, () => {}, undefined, undefined, undefined, undefined);

/** Whether the event at heap slot `i` (time `ti`) runs before `event` (time `time`). */
function earlier(ti: number, ei: SimEvent, time: number, event: SimEvent): boolean {
  return ti < time || (ti === time && ei.seq < event.seq);
}

/**
 * A 4-ary min-heap. Its keys (times) live in a typed array beside the event array, so sifting
 * compares numbers in contiguous memory instead of chasing pointers to event objects scattered
 * over the heap (the sequence number is read from the event only on a tie); four children per
 * node halve the depth of a binary heap. With tens of thousands of pending events, memory
 * traffic is most of the cost of a queue.
 */
export class EventQueue {
  private times = new Float64Array(1024);
  private events: SimEvent[] = [];
  private free: SimEvent[] = [];
  private length = 0;
  private nextSeq = 0;
  /** Events scheduled and neither run nor cancelled. */
  private live = 0;

  /** Number of events that will still run. */
  get size(): number {
    return this.live;
  }

  push(time: number, fn: EventFn, a?: unknown, b?: unknown, c?: unknown, d?: unknown): SimEvent {
    const event = new SimEvent(time, this.nextSeq++, fn, a, b, c, d);
    if (this.length === this.times.length) this.grow();
    this.siftUp(this.length++, time, event);
    this.live++;
    return event;
  }

  /**
   * Like `push`, for an event nobody keeps a reference to (a datagram in flight): the object
   * comes from, and returns to, a free list, so the hot path allocates no event objects.
   */
  pushPooled(time: number, fn: EventFn, a: unknown, b: unknown, c: unknown, d: unknown): void {
    const event = this.free.pop();
    if (event === undefined) {
      const fresh = this.push(time, fn, a, b, c, d);
      fresh.pooled = true;
      return;
    }
    event.time = time;
    event.seq = this.nextSeq++;
    event.fn = fn;
    event.a = a;
    event.b = b;
    event.c = c;
    event.d = d;
    if (this.length === this.times.length) this.grow();
    this.siftUp(this.length++, time, event);
    this.live++;
  }

  /** Gives a pooled event that ran back to the free list (after its `fn` returned). */
  release(event: SimEvent): void {
    if (!event.pooled) return;
    event.a = undefined;
    event.b = undefined;
    event.c = undefined;
    event.d = undefined;
    if (this.free.length < MAX_FREE) this.free.push(event);
  }

  /** Marks `event` so that it never runs. Idempotent; harmless after it ran. */
  cancel(event: SimEvent): void {
    if (event.fn === null) return;
    event.fn = null;
    this.live--;
    if (this.length > 1024 && this.live < this.length >> 1) this.compact();
  }

  /** Time of the next live event, or `undefined` when none is left. */
  peekTime(): number | undefined {
    this.dropCancelledTop();
    return this.length > 0 ? this.times[0] : undefined;
  }

  /**
   * Removes and returns the next live event (its `fn` still set, for the caller to run), or
   * `undefined` when none is left.
   */
  pop(): SimEvent | undefined {
    this.dropCancelledTop();
    if (this.length === 0) return undefined;
    const top = this.events[0] as SimEvent;
    this.removeTop();
    this.live--;
    return top;
  }

  private dropCancelledTop(): void {
    while (this.length > 0 && (this.events[0] as SimEvent).fn === null) this.removeTop();
  }

  private siftUp(start: number, time: number, event: SimEvent): void {
    const times = this.times;
    const events = this.events;
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 2;
      const pt = times[parent] as number;
      if (earlier(pt, events[parent] as SimEvent, time, event)) break;
      times[i] = pt;
      events[i] = events[parent] as SimEvent;
      i = parent;
    }
    times[i] = time;
    events[i] = event;
  }

  private removeTop(): void {
    const n = --this.length;
    const times = this.times;
    const events = this.events;
    const time = times[n] as number;
    const event = events[n] as SimEvent;
    events[n] = SENTINEL;
    if (n === 0) return;
    // Sift the former last element down from the root.
    let i = 0;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= n) break;
      let best = first;
      let bt = times[first] as number;
      const last = Math.min(first + 4, n);
      for (let c = first + 1; c < last; c++) {
        const ct = times[c] as number;
        if (
          ct < bt ||
          (ct === bt && (events[c] as SimEvent).seq < (events[best] as SimEvent).seq)
        ) {
          best = c;
          bt = ct;
        }
      }
      if (earlier(time, event, bt, events[best] as SimEvent)) break;
      times[i] = bt;
      events[i] = events[best] as SimEvent;
      i = best;
    }
    times[i] = time;
    events[i] = event;
  }

  private grow(): void {
    const times = new Float64Array(this.times.length * 2);
    times.set(this.times);
    this.times = times;
  }

  /** Drops every cancelled event and rebuilds the heap. */
  private compact(): void {
    const kept = this.events.slice(0, this.length).filter((e) => e.fn !== null);
    // Sorted by (time, seq) is a valid heap.
    kept.sort((x, y) => x.time - y.time || x.seq - y.seq);
    this.events = kept;
    this.length = kept.length;
    for (let i = 0; i < kept.length; i++) this.times[i] = (kept[i] as SimEvent).time;
  }
}
