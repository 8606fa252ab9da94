/**
 * The connection manager: which addresses to dial and when. Pure policy (the node dials):
 * bootstrap addresses are kept connected for good, redialled with exponential backoff and
 * jitter after every failure or disconnect; addresses learnt by peer exchange are dialled only
 * while we have fewer than `targetPeers` outbound connections and forgotten after a few
 * failures; inbound connections are refused beyond `maxPeers`.
 */
import { type Address, formatAddress, type Random } from '@peerkit/transport';

export interface ConnectionManagerParams {
  targetPeers: number;
  maxPeers: number;
  backoffMs: number;
  maxBackoffMs: number;
  maxConcurrentDials: number;
  /** Failures after which a non-permanent address is forgotten. */
  maxFailures: number;
  /** Most addresses remembered (peer exchange can offer many). */
  maxKnown: number;
}

type State = 'idle' | 'dialing' | 'connected';
interface Known {
  readonly address: Address;
  permanent: boolean;
  state: State;
  failures: number;
  nextAttempt: number;
}

/** The key of an address in the manager's maps: its `host:port` text (`formatAddress`). */
export function addressKey(a: Address): string {
  return formatAddress(a);
}

export class ConnectionManager {
  readonly params: ConnectionManagerParams;
  private readonly random: Random;
  private readonly known = new Map<string, Known>();

  constructor(params: ConnectionManagerParams, random: Random) {
    this.params = params;
    this.random = random;
  }

  get size(): number {
    return this.known.size;
  }

  /** Remembers an address (`permanent`: a bootstrap peer, kept connected). */
  add(address: Address, permanent: boolean): void {
    const key = addressKey(address);
    const entry = this.known.get(key);
    if (entry !== undefined) {
      entry.permanent ||= permanent;
      return;
    }
    if (!permanent && this.known.size >= this.params.maxKnown) return;
    this.known.set(key, { address, permanent, state: 'idle', failures: 0, nextAttempt: 0 });
  }

  /** Marks an address connected (after a dial, or an inbound peer announcing it). */
  connected(address: Address): void {
    const entry = this.known.get(addressKey(address));
    if (entry === undefined) return;
    entry.state = 'connected';
  }

  /** Addresses to dial now; they become `dialing`. */
  due(now: number, outbound: number, total: number): Address[] {
    const p = this.params;
    let dialing = 0;
    for (const e of this.known.values()) if (e.state === 'dialing') dialing++;
    const out: Address[] = [];
    let wanted = p.targetPeers - outbound - dialing;
    for (const e of this.known.values()) {
      if (dialing + out.length >= p.maxConcurrentDials) break;
      if (total + dialing + out.length >= p.maxPeers) break;
      if (e.state !== 'idle' || e.nextAttempt > now) continue;
      if (!e.permanent) {
        if (wanted <= 0) continue;
        wanted--;
      }
      e.state = 'dialing';
      out.push(e.address);
    }
    return out;
  }

  /** A dial failed: retry later (doubling backoff with jitter), or forget the address. */
  dialFailed(address: Address, now: number): void {
    this.backOff(address, now, true);
  }

  /** A connection ended; `lastedMs` long connections reset the failure count. */
  disconnected(address: Address, now: number, lastedMs: number): void {
    const entry = this.known.get(addressKey(address));
    if (entry === undefined) return;
    if (lastedMs > this.params.maxBackoffMs) entry.failures = 0;
    this.backOff(address, now, false);
  }

  /** Whether an inbound connection may be accepted with `total` connections open. */
  acceptInbound(total: number): boolean {
    return total < this.params.maxPeers;
  }

  /** The backoff before attempt number `failures + 1` (for tests and the README). */
  delay(failures: number): number {
    const base = Math.min(this.params.maxBackoffMs, this.params.backoffMs * 2 ** failures);
    return Math.round(base / 2 + (this.random.int(1000) / 1000) * (base / 2));
  }

  private backOff(address: Address, now: number, failed: boolean): void {
    const key = addressKey(address);
    const entry = this.known.get(key);
    if (entry === undefined) return;
    if (failed) entry.failures++;
    if (!entry.permanent && entry.failures >= this.params.maxFailures) {
      this.known.delete(key);
      return;
    }
    entry.state = 'idle';
    entry.nextAttempt = now + this.delay(entry.failures);
  }
}
