/**
 * The simulator's engine room, shared by hosts, sockets and streams (not exported from the
 * package): virtual time, the event queue, the link table, routing and the trace.
 */
import { type EventFn, EventQueue, type SimEvent } from './event-queue';
import type { SimHost } from './host';
import { type Link, type LinkOptions, resolveLink, sampleDelay } from './link';
import { Prng } from './prng';
import type { Trace } from './trace';

/** Stream tuning; see `SimulationOptions.stream`. */
export interface StreamSettings {
  readonly windowBytes: number;
  readonly highWaterMark: number;
  readonly segmentBytes: number;
  readonly retransmitMs: number;
  readonly timeoutMs: number;
}

/** Link keys pack two host ids into one number: ids stay below 2^26. */
const LINK_KEY_FACTOR = 2 ** 26;

/** Random-stream labels for `Prng.derive`. */
export const RANDOM_LINKS = 1;
export const RANDOM_HOST = 2;
export const RANDOM_FAULTS = 3;

export class SimCore {
  /** Virtual time in ms. */
  now = 0;
  readonly queue = new EventQueue();
  readonly trace: Trace;
  readonly root: Prng;
  /** Draws for link behaviour (latency samples, loss, duplication, reordering). */
  readonly linkRandom: Prng;
  readonly hosts: SimHost[] = [];
  readonly byAddress = new Map<string, SimHost>();
  defaultLink: Link;
  /** Per directed pair overrides; absent until the first override. */
  private overrides: Map<number, Link> | undefined;
  /** Per directed pair: virtual time at which the link finishes sending what it has queued. */
  private busyUntil: Map<number, number> | undefined;
  readonly stream: StreamSettings;
  /**
   * Set when a promise-based consumer may be waiting: the simulator settled a promise, a
   * promise-returning API was called, or a callback returned a promise. It ends the current
   * instant's batch, and the run loop lets the microtasks run before the next event (the
   * promise hooks of microtasks.ts see most of this too; this flag is the simulator's own).
   */
  asyncWork = false;
  /** Set whenever a user callback ran (the signal used when promise hooks are unavailable). */
  callbacksRan = false;
  /** User timers (clock `setTimeout`/`setInterval`) neither fired nor cancelled. */
  timers = 0;
  /** Called after an event is scheduled (wakes the auto-run loop). */
  onSchedule: (() => void) | undefined;

  constructor(seed: number, link: LinkOptions, trace: Trace, stream: StreamSettings) {
    this.root = new Prng(seed);
    this.linkRandom = this.root.derive(RANDOM_LINKS);
    this.defaultLink = resolveLink(link);
    this.trace = trace;
    this.stream = stream;
  }

  /** Runs `fn` after `delayMs` of virtual time. */
  schedule(delayMs: number, fn: () => void): SimEvent {
    return this.at(this.now + delayMs, fn);
  }

  /** Runs `fn` at virtual time `time` (not before now), with optional payload slots. */
  at(time: number, fn: EventFn, a?: unknown, b?: unknown, c?: unknown, d?: unknown): SimEvent {
    const event = this.queue.push(Math.max(time, this.now), fn, a, b, c, d);
    if (this.onSchedule !== undefined) this.onSchedule();
    return event;
  }

  /** Like `at` for an event nobody else references (see `EventQueue.pushPooled`). */
  atPooled(time: number, fn: EventFn, a: unknown, b: unknown, c: unknown, d: unknown): void {
    this.queue.pushPooled(Math.max(time, this.now), fn, a, b, c, d);
    if (this.onSchedule !== undefined) this.onSchedule();
  }

  /** Calls user code; a returned promise means async work is pending. */
  callUser(fn: () => unknown): void {
    this.callbacksRan = true;
    const result = fn();
    if (result !== undefined) this.asyncWork = true;
  }

  /** Marks that a promise the user may await was created or settled. */
  promised(): void {
    this.asyncWork = true;
  }

  /** The directed link from `a` to `b`. */
  link(a: SimHost, b: SimHost): Link {
    if (this.overrides === undefined) return this.defaultLink;
    return this.overrides.get(a.id * LINK_KEY_FACTOR + b.id) ?? this.defaultLink;
  }

  setLink(a: SimHost, b: SimHost, options: LinkOptions): void {
    this.overrides ??= new Map();
    this.overrides.set(a.id * LINK_KEY_FACTOR + b.id, resolveLink(options, this.defaultLink));
  }

  clearLink(a: SimHost, b: SimHost): void {
    this.overrides?.delete(a.id * LINK_KEY_FACTOR + b.id);
  }

  /** Whether a packet from `a` can reach `b` right now (partitions, down links, crashes). */
  reachable(a: SimHost, b: SimHost, link: Link): boolean {
    return a.group === b.group && !link.down && b.alive;
  }

  /**
   * When a packet of `bytes` from `a` to `b` arrives, if sent now: it waits for the link to
   * finish what is queued before it (bandwidth), then propagates (latency + jitter).
   */
  arrivalTime(a: SimHost, b: SimHost, link: Link, bytes: number): number {
    let departure = this.now;
    // The sender's access link (uplink) first, then the path's own capacity: each a FIFO.
    const up = a.access;
    if (up !== undefined && up.uplink !== Number.POSITIVE_INFINITY) {
      departure = Math.max(departure, up.uplinkBusyUntil) + (bytes * 1000) / up.uplink;
      up.uplinkBusyUntil = departure;
    }
    if (link.bandwidth !== Number.POSITIVE_INFINITY) {
      this.busyUntil ??= new Map();
      const key = a.id * LINK_KEY_FACTOR + b.id;
      const start = Math.max(departure, this.busyUntil.get(key) ?? 0);
      departure = start + (bytes * 1000) / link.bandwidth;
      this.busyUntil.set(key, departure);
    }
    let arrival = departure + sampleDelay(link, this.linkRandom);
    // The receiver's downlink last. (Queued in the order packets are sent, which approximates
    // the order they reach it.)
    const down = b.access;
    if (down !== undefined && down.downlink !== Number.POSITIVE_INFINITY) {
      arrival = Math.max(arrival, down.downlinkBusyUntil) + (bytes * 1000) / down.downlink;
      down.downlinkBusyUntil = arrival;
    }
    return arrival;
  }

  /**
   * Like `arrivalTime` for a datagram, with finite queues: returns -1 (and occupies nothing
   * further) when the uplink's, the link's or the downlink's queue has no room for `bytes`
   * (tail drop). A queue's backlog is the bytes it still has to send: (busyUntil - now) ×
   * bandwidth.
   */
  datagramArrival(a: SimHost, b: SimHost, link: Link, bytes: number): number {
    const up = a.access;
    const down = b.access;
    const limited =
      link.queue !== Number.POSITIVE_INFINITY ||
      (up?.uplinkQueue ?? Number.POSITIVE_INFINITY) !== Number.POSITIVE_INFINITY ||
      (down?.downlinkQueue ?? Number.POSITIVE_INFINITY) !== Number.POSITIVE_INFINITY;
    if (!limited) return this.arrivalTime(a, b, link, bytes);
    let departure = this.now;
    if (up !== undefined && up.uplink !== Number.POSITIVE_INFINITY) {
      const backlog = (Math.max(0, up.uplinkBusyUntil - this.now) * up.uplink) / 1000;
      if (backlog + bytes > (up.uplinkQueue ?? Number.POSITIVE_INFINITY)) {
        up.uplinkDrops = (up.uplinkDrops ?? 0) + 1;
        return -1;
      }
      departure = Math.max(departure, up.uplinkBusyUntil) + (bytes * 1000) / up.uplink;
      up.uplinkBusyUntil = departure;
    }
    if (link.bandwidth !== Number.POSITIVE_INFINITY) {
      this.busyUntil ??= new Map();
      const key = a.id * LINK_KEY_FACTOR + b.id;
      const busy = this.busyUntil.get(key) ?? 0;
      const backlog = (Math.max(0, busy - departure) * link.bandwidth) / 1000;
      if (backlog + bytes > link.queue) return -1;
      departure = Math.max(departure, busy) + (bytes * 1000) / link.bandwidth;
      this.busyUntil.set(key, departure);
    }
    let arrival = departure + sampleDelay(link, this.linkRandom);
    if (down !== undefined && down.downlink !== Number.POSITIVE_INFINITY) {
      const backlog = (Math.max(0, down.downlinkBusyUntil - arrival) * down.downlink) / 1000;
      if (backlog + bytes > (down.downlinkQueue ?? Number.POSITIVE_INFINITY)) {
        down.downlinkDrops = (down.downlinkDrops ?? 0) + 1;
        return -1;
      }
      arrival = Math.max(arrival, down.downlinkBusyUntil) + (bytes * 1000) / down.downlink;
      down.downlinkBusyUntil = arrival;
    }
    return arrival;
  }

  /** The host a packet for `host` (as written by a sender on `from`) goes to, if any. */
  destination(from: SimHost, host: string): SimHost | undefined {
    if (host === '127.0.0.1' || host === '::1' || host === from.address) return from;
    return this.byAddress.get(host);
  }

  static maxHosts = LINK_KEY_FACTOR;
}
