/**
 * `Simulation`: the public face of netsim. It owns virtual time, hosts, links and faults, and
 * the run controls that advance time.
 *
 * How time advances while protocol code uses promises (README, "Promises and virtual time"):
 * the run loop executes queued events one virtual instant at a time. Datagram handlers and
 * timer callbacks are plain synchronous calls. After an instant in which a promise was created
 * or settled (seen through `v8.promiseHooks`, see microtasks.ts), the loop lets the microtask
 * queue run until the reacting chains have finished, so the awaiting code observes the same
 * virtual time as the event that woke it, exactly as on real sockets. After an instant that
 * touched no promise, it goes straight on: that is the fast path that lets a 10,000-node
 * datagram simulation run at about a million events per second.
 */
import type { Clock } from '@peerkit/transport';
import { allocatedAddress, canonicalAddress, type HostFamily } from './addresses';
import { VirtualClock } from './clock';
import { RANDOM_FAULTS, SimCore, type StreamSettings } from './core';
import { SimulationError } from './errors';
import {
  type ChurnOptions,
  churnSchedule,
  type Fault,
  type FaultSchedule,
  type ScheduledFault,
} from './faults';
import { SimHost } from './host';
import type { LinkOptions } from './link';
import { resolveLink } from './link';
import type { Prng } from './prng';
import { Runner } from './runner';
import { Trace } from './trace';

export interface SimulationOptions {
  /** The seed: a safe integer. Same seed and same code give the same trace, bit for bit. */
  seed: number;
  /** Defaults of every link (latency 10 ms, no jitter, no loss, unlimited bandwidth). */
  link?: LinkOptions;
  /**
   * Keep trace event objects: `true` for all, a number for the most recent N (handy for a dump
   * when a test fails), `false` (default) for none. The trace hash is always kept.
   */
  trace?: boolean | number;
  /** Stream model tuning. */
  stream?: Partial<StreamSettings>;
  /**
   * `'auto'` (default): drain microtasks with a real event-loop turn only when promise-based
   * work is pending. `'always'`: after every virtual instant (slower, for code that chains many
   * promises inside synchronous callbacks without touching the network).
   */
  drain?: 'auto' | 'always';
}

export interface HostOptions {
  /** An explicit IPv4 or IPv6 address; default: the next free one of `family`. */
  address?: string;
  /** Family of the allocated address (default `'IPv4'`: 127.1.0.1 upwards). */
  family?: HostFamily;
  /**
   * Upload capacity of the host's access link, bytes/s, shared by everything it sends
   * (default unlimited). Change it later with `setHostBandwidth`.
   */
  uplink?: number;
  /** Download capacity of the host's access link, bytes/s (default unlimited). */
  downlink?: number;
  /**
   * Bytes the uplink's queue holds before datagrams are dropped (tail drop; needs a finite
   * `uplink`). Default unlimited. A modem's buffer: 500 ms at 10 Mbit/s is 625,000 bytes.
   */
  uplinkQueue?: number;
  /** Bytes the downlink's queue holds before datagrams are dropped. Default unlimited. */
  downlinkQueue?: number;
}

export interface RunUntilOptions {
  /** Give up after this much virtual time (required: every loop is bounded). */
  maxTimeMs: number;
}

export interface RunOptions {
  /** Virtual-time budget; `run` rejects with `TIME_LIMIT` past it. Default one hour. */
  maxTimeMs?: number;
}

/** Counts of what is open, for leak checks at the end of a test. */
export interface OpenResources {
  datagramSockets: number;
  listeners: number;
  streams: number;
  /** Timers set through a host's or the simulation's clock, neither fired nor cancelled. */
  timers: number;
}

const DEFAULT_STREAM: StreamSettings = {
  windowBytes: 256 * 1024,
  highWaterMark: 64 * 1024,
  segmentBytes: 64 * 1024,
  retransmitMs: 200,
  timeoutMs: 30_000,
};

export class Simulation {
  readonly seed: number;
  readonly trace: Trace;
  /** A clock on virtual time for test code (not tied to any host, never silenced). */
  readonly clock: Clock;
  /** A random stream for test code, independent of every host's and link's stream. */
  readonly random: Prng;
  private readonly core: SimCore;
  private readonly runner: Runner;
  private faultListeners: ((fault: Fault) => void)[] = [];
  private v4Count = 0;
  private v6Count = 0;
  private churnCount = 0;

  constructor(options: SimulationOptions) {
    if (!Number.isSafeInteger(options.seed)) {
      throw new SimulationError(
        'INVALID_ARGUMENT',
        `seed must be a safe integer, got ${options.seed}`,
      );
    }
    this.seed = options.seed;
    this.trace = new Trace({ record: options.trace ?? false });
    const stream = { ...DEFAULT_STREAM, ...options.stream };
    for (const [key, value] of Object.entries(stream)) {
      if (!(value > 0)) throw new SimulationError('INVALID_ARGUMENT', `stream.${key} must be > 0`);
    }
    this.core = new SimCore(options.seed, options.link ?? {}, this.trace, stream);
    this.runner = new Runner(this.core, this.seed, options.drain === 'always');
    this.clock = new VirtualClock(this.core);
    this.random = this.core.root.derive(RANDOM_FAULTS, 0x7e57);
  }

  /** Virtual time in ms. */
  get now(): number {
    return this.core.now;
  }

  get hosts(): readonly SimHost[] {
    return this.core.hosts;
  }

  /** Events run so far. */
  get eventsProcessed(): number {
    return this.runner.processed;
  }

  /** Events waiting in the queue. */
  get pendingEvents(): number {
    return this.core.queue.size;
  }

  addHost(options: HostOptions = {}): SimHost {
    const core = this.core;
    if (core.hosts.length >= SimCore.maxHosts) {
      throw new SimulationError('INVALID_ARGUMENT', 'too many hosts');
    }
    let address: string;
    if (options.address !== undefined) {
      const canonical = canonicalAddress(options.address);
      if (canonical === undefined) {
        throw new SimulationError('INVALID_ARGUMENT', `not a literal IP: ${options.address}`);
      }
      address = canonical;
    } else {
      do {
        address =
          options.family === 'IPv6'
            ? allocatedAddress(++this.v6Count, 'IPv6')
            : allocatedAddress(++this.v4Count, 'IPv4');
      } while (core.byAddress.has(address));
    }
    if (core.byAddress.has(address) || address === '127.0.0.1' || address === '::1') {
      throw new SimulationError('DUPLICATE_ADDRESS', `address ${address} is taken`);
    }
    const host = new SimHost(core, core.hosts.length, address);
    this.setHostBandwidth(host, options);
    core.hosts.push(host);
    core.byAddress.set(address, host);
    return host;
  }

  /** Sets a host's access-link capacities in bytes/s (`Infinity`: unlimited). */
  setHostBandwidth(
    host: SimHost | string,
    options: { uplink?: number; downlink?: number; uplinkQueue?: number; downlinkQueue?: number },
  ): void {
    const target = typeof host === 'string' ? this.host(host) : host;
    if (
      options.uplink === undefined &&
      options.downlink === undefined &&
      options.uplinkQueue === undefined &&
      options.downlinkQueue === undefined
    ) {
      return;
    }
    for (const key of ['uplink', 'downlink', 'uplinkQueue', 'downlinkQueue'] as const) {
      const value = options[key];
      if (value !== undefined && !(value > 0)) {
        throw new SimulationError('INVALID_ARGUMENT', `${key} must be > 0, got ${value}`);
      }
    }
    target.access ??= {
      uplink: Number.POSITIVE_INFINITY,
      downlink: Number.POSITIVE_INFINITY,
      uplinkBusyUntil: 0,
      downlinkBusyUntil: 0,
    };
    if (options.uplink !== undefined) target.access.uplink = options.uplink;
    if (options.downlink !== undefined) target.access.downlink = options.downlink;
    if (options.uplinkQueue !== undefined) target.access.uplinkQueue = options.uplinkQueue;
    if (options.downlinkQueue !== undefined) target.access.downlinkQueue = options.downlinkQueue;
  }

  /** The host with `address`; throws `UNKNOWN_HOST`. */
  host(address: string): SimHost {
    const host = this.core.byAddress.get(canonicalAddress(address) ?? address);
    if (host === undefined) throw new SimulationError('UNKNOWN_HOST', `no host ${address}`);
    return host;
  }

  // ---- Links -------------------------------------------------------------------------------

  /** Changes the defaults of every link without an override. */
  setDefaultLink(options: LinkOptions): void {
    this.core.defaultLink = resolveLink(options, this.core.defaultLink);
  }

  /** Overrides the link between two hosts (both directions unless `oneWay`). */
  setLink(a: SimHost | string, b: SimHost | string, options: LinkOptions, oneWay = false): void {
    this.apply({ kind: 'link', from: this.addressOf(a), to: this.addressOf(b), options, oneWay });
  }

  /** Removes the override between two hosts (both directions unless `oneWay`). */
  clearLink(a: SimHost | string, b: SimHost | string, oneWay = false): void {
    this.apply({ kind: 'clear-link', from: this.addressOf(a), to: this.addressOf(b), oneWay });
  }

  // ---- Faults ------------------------------------------------------------------------------

  /** Splits the network: hosts reach only their own group; unlisted hosts form one more group. */
  partition(groups: readonly (readonly (SimHost | string)[])[]): void {
    this.apply({ kind: 'partition', groups: groups.map((g) => g.map((h) => this.addressOf(h))) });
  }

  heal(): void {
    this.apply({ kind: 'heal' });
  }

  crash(host: SimHost | string): void {
    this.apply({ kind: 'crash', host: this.addressOf(host) });
  }

  restart(host: SimHost | string): void {
    this.apply({ kind: 'restart', host: this.addressOf(host) });
  }

  /** Applies one fault now (and records it in the trace). */
  apply(fault: Fault): void {
    const core = this.core;
    switch (fault.kind) {
      case 'crash': {
        const host = this.host(fault.host);
        if (!host.alive) return;
        host.crash();
        break;
      }
      case 'restart': {
        const host = this.host(fault.host);
        if (host.alive) return;
        host.restart();
        break;
      }
      case 'partition': {
        const groups = fault.groups.map((g) => g.map((a) => this.host(a)));
        for (const host of core.hosts) host.group = 0;
        groups.forEach((group, i) => {
          for (const host of group) host.group = i + 1;
        });
        break;
      }
      case 'heal':
        for (const host of core.hosts) host.group = 0;
        break;
      case 'link': {
        const from = this.host(fault.from);
        const to = this.host(fault.to);
        core.setLink(from, to, fault.options);
        if (fault.oneWay !== true) core.setLink(to, from, fault.options);
        break;
      }
      case 'clear-link': {
        const from = this.host(fault.from);
        const to = this.host(fault.to);
        core.clearLink(from, to);
        if (fault.oneWay !== true) core.clearLink(to, from);
        break;
      }
    }
    core.trace.fault(core.now, fault);
    for (const listener of this.faultListeners) core.callUser(() => listener(fault));
  }

  /**
   * Calls `listener` after each fault takes effect. Use it to start a node again on
   * `sim.host(fault.host).network` after a `restart`.
   */
  onFault(listener: (fault: Fault) => void): () => void {
    this.faultListeners = [...this.faultListeners, listener];
    return () => {
      this.faultListeners = this.faultListeners.filter((l) => l !== listener);
    };
  }

  /** Schedules faults at their `atMs` from now (ties keep the schedule's order). */
  schedule(faults: FaultSchedule): void {
    for (const { atMs, fault } of faults) {
      if (!(atMs >= 0)) throw new SimulationError('INVALID_ARGUMENT', `fault time ${atMs} < 0`);
      this.core.schedule(atMs, () => this.apply(fault));
    }
  }

  /** Generates a churn schedule from the seed (see `churnSchedule`), schedules and returns it. */
  churn(options: ChurnOptions): ScheduledFault[] {
    const schedule = churnSchedule(
      this.core.root.derive(RANDOM_FAULTS, ++this.churnCount),
      options,
    );
    this.schedule(schedule);
    return schedule;
  }

  /** What is still open on every host (for leak checks). */
  openResources(): OpenResources {
    const open: OpenResources = {
      datagramSockets: 0,
      listeners: 0,
      streams: 0,
      timers: this.core.timers,
    };
    for (const host of this.core.hosts) {
      open.datagramSockets += host.datagramSocketList().length;
      open.listeners += host.listeners?.size ?? 0;
      open.streams += host.streams?.size ?? 0;
    }
    return open;
  }

  // ---- Running -----------------------------------------------------------------------------

  /**
   * Runs exactly one event synchronously, without letting microtasks run; returns false when
   * the queue is empty. For stepping through datagram-only scenarios.
   */
  step(): boolean {
    return this.runner.step();
  }

  /** Advances virtual time by `ms`, running every event due until then. */
  async runFor(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new SimulationError('INVALID_ARGUMENT', `runFor(${ms})`);
    const end = this.core.now + ms;
    await this.runner.manual(() => this.runner.advance(end, undefined, Number.POSITIVE_INFINITY));
    if (this.core.now < end) this.core.now = end;
  }

  /**
   * Runs until `predicate()` holds (checked before each virtual instant), at most `maxTimeMs`
   * of virtual time. Returns whether the predicate held.
   */
  async runUntil(predicate: () => boolean, options: RunUntilOptions): Promise<boolean> {
    if (!(options.maxTimeMs >= 0)) {
      throw new SimulationError('INVALID_ARGUMENT', 'runUntil needs maxTimeMs >= 0');
    }
    const end = this.core.now + options.maxTimeMs;
    const reason = await this.runner.manual(() =>
      this.runner.advance(end, predicate, Number.POSITIVE_INFINITY),
    );
    if (reason === 'until' || predicate()) return true;
    if (reason === 'time' && this.core.now < end) this.core.now = end;
    return false;
  }

  /**
   * Runs until no event is left, at most `maxEvents` events (default 10,000,000). Returns
   * whether the queue emptied (false: the budget ran out, e.g. because of `setInterval`s).
   */
  async runUntilIdle(options: { maxEvents?: number } = {}): Promise<boolean> {
    const maxEvents = options.maxEvents ?? 10_000_000;
    const reason = await this.runner.manual(() =>
      this.runner.advance(Number.POSITIVE_INFINITY, undefined, maxEvents),
    );
    return reason === 'idle';
  }

  /**
   * Auto-run: from now on virtual time advances in the background whenever the test's own code
   * is waiting, so ordinary `async`/`await` test code can use hosts' networks directly. Stop it
   * with `stop()`. Do not await real I/O meanwhile: virtual time would race ahead of it.
   */
  start(): void {
    this.runner.startAuto({
      deadline: Number.POSITIVE_INFINITY,
      failOnIdle: false,
      fail: () => {},
    });
  }

  /**
   * Ends auto-run; rejects with the error a callback threw during it, if any (such an error
   * stops auto-run at once; use `run()` to have it reject the waiting test code instead).
   */
  stop(): Promise<void> {
    return this.runner.stopAuto();
  }

  /**
   * Runs `fn` with auto-run on and returns its result. Rejects with `TIME_LIMIT` when virtual
   * time passes `maxTimeMs`, with `DEADLOCK` when nothing is left to simulate while `fn` still
   * waits, and with any error a simulated callback throws.
   */
  async run<T>(fn: () => Promise<T>, options: RunOptions = {}): Promise<T> {
    const maxTimeMs = options.maxTimeMs ?? 3_600_000;
    let fail!: (error: unknown) => void;
    const guard = new Promise<never>((_, reject) => {
      fail = reject;
    });
    guard.catch(() => {});
    this.runner.startAuto({
      deadline: this.core.now + maxTimeMs,
      failOnIdle: true,
      fail: (e) => fail(e),
    });
    try {
      return await Promise.race([Promise.resolve().then(fn), guard]);
    } finally {
      await this.runner.stopAuto().catch(() => {});
    }
  }

  private addressOf(host: SimHost | string): string {
    return typeof host === 'string' ? this.host(host).address : host.address;
  }
}
