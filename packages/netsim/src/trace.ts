/**
 * The trace: every send, delivery, drop and fault of a run, as typed events.
 *
 * Every event is folded into a running 64-bit hash (two 32-bit multiply-xorshift lanes over
 * the event's fields, no strings built), so two runs can be compared cheaply even with a
 * million events. Keeping the event objects themselves is optional (`record`), because at
 * scale they would dominate memory; a bounded `limit` keeps only the most recent ones, which
 * is what a failing test wants to print (`dump()`).
 */
import { type Address, formatAddress } from '@peerkit/transport';
import type { Fault } from './faults';

/** Why a datagram (or a connection attempt) did not arrive. */
export type DropReason =
  /** The link's loss probability struck. */
  | 'loss'
  /** Sender and receiver are in different partition groups, or the link is down. */
  | 'partition'
  /** No host has the destination address. */
  | 'no-host'
  /** The destination host is crashed. */
  | 'host-down'
  /** Nothing is bound to the destination port. */
  | 'no-socket'
  /** A finite queue on the way (the link's or an access link's) was full: tail drop. */
  | 'queue';

interface Base {
  /** Virtual time in ms. */
  readonly time: number;
}
interface Flow extends Base {
  readonly from: Address;
  readonly to: Address;
}

export type TraceEvent =
  /** A datagram left its socket. */
  | (Flow & { readonly type: 'send'; readonly size: number })
  /** A datagram reached a bound socket. */
  | (Flow & { readonly type: 'deliver'; readonly size: number })
  /** A datagram was lost on the way; `reason` says why. */
  | (Flow & { readonly type: 'drop'; readonly size: number; readonly reason: DropReason })
  /** The link duplicated a datagram (the copy is delivered too). */
  | (Flow & { readonly type: 'duplicate'; readonly size: number })
  /** A connection attempt (SYN) was sent. */
  | (Flow & { readonly type: 'connect' })
  /** A listener accepted a connection. */
  | (Flow & { readonly type: 'accept' })
  /** A connection attempt was refused (nothing listens) or failed. */
  | (Flow & { readonly type: 'refuse'; readonly reason: DropReason })
  /** A stream segment arrived. */
  | (Flow & { readonly type: 'data'; readonly size: number })
  /** A stream's writing half ended (FIN arrived). */
  | (Flow & { readonly type: 'fin' })
  /** A stream was reset (RST arrived). */
  | (Flow & { readonly type: 'reset' })
  /** A fault was applied. */
  | (Base & { readonly type: 'fault'; readonly fault: Fault });

export type TraceEventType = TraceEvent['type'];

/** Numeric codes of the event types (hashed, and used on the hot path instead of strings). */
export const Kind = {
  Send: 1,
  Deliver: 2,
  Drop: 3,
  Duplicate: 4,
  Connect: 5,
  Accept: 6,
  Refuse: 7,
  Data: 8,
  Fin: 9,
  Reset: 10,
  Fault: 11,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

const KIND_NAMES: readonly TraceEventType[] = [
  'send', // placeholder for index 0, never used
  'send',
  'deliver',
  'drop',
  'duplicate',
  'connect',
  'accept',
  'refuse',
  'data',
  'fin',
  'reset',
  'fault',
];

const REASON_CODES: Record<DropReason, number> = {
  loss: 1,
  partition: 2,
  'no-host': 3,
  'host-down': 4,
  'no-socket': 5,
  queue: 6,
};

export interface TraceOptions {
  /**
   * Keep event objects: `true` keeps all, a number keeps the most recent N (a ring), `false`
   * (default) keeps none. The hash and the counters are always maintained.
   */
  record?: boolean | number;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

export class Trace {
  private h1 = 0x811c9dc5;
  private h2 = 0x01000193;
  private readonly limit: number;
  private ring: TraceEvent[] = [];
  private ringStart = 0;
  private listeners: ((event: TraceEvent) => void)[] = [];
  private readonly kindCounts = new Float64Array(KIND_NAMES.length);
  private totalCount = 0;

  constructor(options: TraceOptions = {}) {
    const record = options.record ?? false;
    this.limit = record === true ? Number.POSITIVE_INFINITY : record === false ? 0 : record;
    if (!(this.limit >= 0)) throw new RangeError(`trace record limit must be >= 0`);
  }

  /** The running hash of every event so far: 16 hex digits. */
  hash(): string {
    return (
      (this.h1 >>> 0).toString(16).padStart(8, '0') + (this.h2 >>> 0).toString(16).padStart(8, '0')
    );
  }

  /** Total number of events so far. */
  get total(): number {
    return this.totalCount;
  }

  /** Number of events per type since the start. */
  get counts(): Record<TraceEventType, number> {
    const out = {} as Record<TraceEventType, number>;
    for (let k = 1; k < KIND_NAMES.length; k++)
      out[KIND_NAMES[k] as TraceEventType] = this.kindCounts[k] as number;
    return out;
  }

  /** The recorded events, oldest first (empty unless `record` was set). */
  events(): TraceEvent[] {
    return [...this.ring.slice(this.ringStart), ...this.ring.slice(0, this.ringStart)];
  }

  /** Calls `listener` for every event from now on; returns an unsubscribe function. */
  subscribe(listener: (event: TraceEvent) => void): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** A compact text dump of the recorded events, one per line. */
  dump(options: { last?: number } = {}): string {
    const events = this.events();
    const shown = options.last === undefined ? events : events.slice(-options.last);
    const lines = shown.map(formatTraceEvent);
    if (shown.length < this.total) {
      lines.unshift(
        `… ${this.total - shown.length} earlier events not recorded (hash ${this.hash()})`,
      );
    }
    return lines.join('\n');
  }

  /** Whether event objects are wanted at all (the caller skips building them if not). */
  get wantsObjects(): boolean {
    return this.limit > 0 || this.listeners.length > 0;
  }

  private mix(word: number): void {
    this.h1 = Math.imul(this.h1 ^ word, 0x01000193);
    let h = Math.imul(this.h2 ^ word, 0x5bd1e995);
    h ^= h >>> 15;
    this.h2 = Math.imul(h, 0x27d4eb2f);
  }

  private mixTime(time: number): void {
    f64[0] = time;
    this.mix(u32[0] as number);
    this.mix(u32[1] as number);
  }

  private mixString(s: string): void {
    this.mix(s.length);
    for (let i = 0; i < s.length; i++) this.mix(s.charCodeAt(i));
  }

  /**
   * Folds one network event into the hash. Host ids (or -1 with the host string hashed when the
   * address belongs to no host) stand for addresses, so nothing is formatted on the hot path.
   */
  flow(
    kind: Kind,
    time: number,
    fromHost: number,
    from: Address,
    toHost: number,
    to: Address,
    size: number,
    reason?: DropReason,
  ): void {
    this.packet(kind, time, fromHost, from.port, from, toHost, to.port, to, size, reason);
  }

  /** `flow` with the ports passed separately (the hot path reads them from nearer objects). */
  packet(
    kind: Kind,
    time: number,
    fromHost: number,
    fromPort: number,
    from: Address,
    toHost: number,
    toPort: number,
    to: Address,
    size: number,
    reason?: DropReason,
  ): void {
    this.kindCounts[kind] = (this.kindCounts[kind] as number) + 1;
    this.totalCount++;
    this.mix(kind);
    this.mixTime(time);
    this.mix(fromHost);
    this.mix(fromPort);
    if (toHost < 0) this.mixString(to.host);
    else this.mix(toHost);
    this.mix(toPort);
    this.mix(size);
    if (reason !== undefined) this.mix(REASON_CODES[reason]);
    if (this.limit > 0 || this.listeners.length > 0) {
      const type = KIND_NAMES[kind] as Exclude<TraceEventType, 'fault'>;
      this.emit(buildFlowEvent(type, time, from, to, size, reason));
    }
  }

  /** Folds a fault into the hash. */
  fault(time: number, fault: Fault): void {
    this.kindCounts[Kind.Fault] = (this.kindCounts[Kind.Fault] as number) + 1;
    this.totalCount++;
    this.mix(Kind.Fault);
    this.mixTime(time);
    this.mixString(JSON.stringify(fault));
    if (this.limit > 0 || this.listeners.length > 0) this.emit({ type: 'fault', time, fault });
  }

  private emit(event: TraceEvent): void {
    if (this.limit > 0) {
      if (this.ring.length < this.limit) this.ring.push(event);
      else {
        this.ring[this.ringStart] = event;
        this.ringStart = (this.ringStart + 1) % this.ring.length;
      }
    }
    for (const listener of this.listeners) listener(event);
  }
}

function buildFlowEvent(
  type: Exclude<TraceEventType, 'fault'>,
  time: number,
  from: Address,
  to: Address,
  size: number,
  reason: DropReason | undefined,
): TraceEvent {
  switch (type) {
    case 'send':
    case 'deliver':
    case 'duplicate':
    case 'data':
      return { type, time, from, to, size };
    case 'drop':
      return { type, time, from, to, size, reason: reason ?? 'loss' };
    case 'refuse':
      return { type, time, from, to, reason: reason ?? 'no-socket' };
    case 'connect':
    case 'accept':
    case 'fin':
    case 'reset':
      return { type, time, from, to };
  }
}

/** One line: `  12.345 send     127.1.0.1:4000 > 127.1.0.2:4000 20B`. */
export function formatTraceEvent(event: TraceEvent): string {
  const time = event.time.toFixed(3).padStart(10);
  if (event.type === 'fault') return `${time} fault    ${JSON.stringify(event.fault)}`;
  const flow = `${formatAddress(event.from)} > ${formatAddress(event.to)}`;
  const size = 'size' in event ? ` ${event.size}B` : '';
  const reason = 'reason' in event ? ` (${event.reason})` : '';
  return `${time} ${event.type.padEnd(8)} ${flow}${size}${reason}`;
}
