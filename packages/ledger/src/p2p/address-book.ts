/**
 * Bounded bookkeeping of other nodes: the address book filled by `addr` gossip (developer
 * reference, "addr", "getaddr") and the ban list of misbehaving hosts.
 *
 * Core keeps up to ~65,000 addresses in bucketed tables (addrman.cpp); peerkit keeps a flat,
 * bounded map (default 2,000 entries, oldest `time` evicted first), enough for a regtest network
 * and for netsim scenarios of hundreds of nodes. Bans are per host, for `banTimeMs` (Core's
 * DEFAULT_MISBEHAVING_BANTIME: 24 hours).
 */
import type { TimedNetAddress } from './messages/net-address';

export interface AddressBookOptions {
  capacity?: number;
}

export class AddressBook {
  readonly capacity: number;
  readonly #entries = new Map<string, TimedNetAddress>();

  constructor(options: AddressBookOptions = {}) {
    this.capacity = options.capacity ?? 2000;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Adds or refreshes addresses; returns those that were new (candidates for relaying on). */
  add(addresses: Iterable<TimedNetAddress>): TimedNetAddress[] {
    const fresh: TimedNetAddress[] = [];
    for (const a of addresses) {
      if (a.port === 0) continue;
      const key = `${a.host}|${a.port}`;
      const old = this.#entries.get(key);
      if (old) {
        if (a.time > old.time) this.#entries.set(key, { ...a });
        continue;
      }
      this.#entries.set(key, { ...a });
      fresh.push(a);
    }
    while (this.#entries.size > this.capacity) {
      let oldestKey: string | undefined;
      let oldest = Number.POSITIVE_INFINITY;
      for (const [k, v] of this.#entries) {
        if (v.time < oldest) {
          oldest = v.time;
          oldestKey = k;
        }
      }
      if (oldestKey === undefined) break;
      this.#entries.delete(oldestKey);
    }
    return fresh;
  }

  /** Up to `max` addresses, chosen with `pick` (a random index function). */
  sample(max: number, pick: (n: number) => number): TimedNetAddress[] {
    const all = [...this.#entries.values()];
    for (let i = all.length - 1; i > 0; i--) {
      const j = pick(i + 1);
      [all[i], all[j]] = [all[j] as TimedNetAddress, all[i] as TimedNetAddress];
    }
    return all.slice(0, max);
  }
}

export class BanList {
  readonly #until = new Map<string, number>();

  ban(host: string, untilMs: number): void {
    this.#until.set(host, untilMs);
  }

  unban(host: string): boolean {
    return this.#until.delete(host);
  }

  isBanned(host: string, nowMs: number): boolean {
    const until = this.#until.get(host);
    if (until === undefined) return false;
    if (until <= nowMs) {
      this.#until.delete(host);
      return false;
    }
    return true;
  }

  list(nowMs: number): { host: string; untilMs: number }[] {
    return [...this.#until]
      .filter(([, u]) => u > nowMs)
      .map(([host, untilMs]) => ({ host, untilMs }));
  }
}
