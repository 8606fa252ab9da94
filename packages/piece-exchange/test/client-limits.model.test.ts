/**
 * The shared limits of a TorrentClient (src/client/limits.ts) against a model: random
 * sequences of connections opening and closing across torrents, peers becoming (un)interested,
 * and rechoke rounds. Never more connections or unchoked peers than configured across
 * torrents; no torrent gets more slots than it has interested peers; the shares are max-min fair
 * and every torrent that wants a slot gets one within n rounds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allocateUploadSlots,
  ConnectionBudget,
  capUnchoked,
  UploadSlots,
} from '../src/client/limits';

const TORRENTS = 6;

interface Model {
  maxConnections: number;
  slots: number;
  /** Per torrent: open connections, and how many of them are interested. */
  connections: number[];
  interested: number[];
  round: number;
}

interface Real {
  budget: ConnectionBudget<number>;
  slots: UploadSlots<number>;
  /** Per torrent: the peers it unchokes after the last rechoke round. */
  unchoked: Set<number>[];
}

type Cmd = fc.Command<Model, Real>;

function checkInvariants(m: Model, r: Real): void {
  expect(r.budget.total).toBeLessThanOrEqual(m.maxConnections);
  expect(r.budget.total).toBe(m.connections.reduce((a, b) => a + b, 0));
  for (let t = 0; t < TORRENTS; t++) expect(r.budget.of(t)).toBe(m.connections[t]);
  const unchoked = r.unchoked.reduce((a, s) => a + s.size, 0);
  expect(unchoked).toBeLessThanOrEqual(m.slots);
  expect(r.slots.sum).toBeLessThanOrEqual(m.slots);
  for (let t = 0; t < TORRENTS; t++)
    expect(r.unchoked[t]!.size).toBeLessThanOrEqual(r.slots.granted(t));
}

/**
 * A torrent's rechoke as the client runs it: granted slots (`UploadSlots.grant`), then the
 * choker as it behaves (4 regular slots, maybe an optimistic unchoke and a peer that is not
 * interested; ids: interested peers 0.., the others from 100) cut to the grant.
 */
function rechokeTorrent(m: Model, r: Real, t: number, optimisticExtra: boolean, atShare: boolean) {
  const granted = r.slots.grant(t, m.interested[t]!, atShare);
  expect(granted).toBeLessThanOrEqual(m.interested[t]!);
  const downloaders = [...Array(Math.min(4, m.interested[t]!)).keys()];
  const unchoked = new Set(downloaders);
  if (optimisticExtra) unchoked.add(100);
  if (m.connections[t]! > m.interested[t]!) unchoked.add(101);
  const optimistic = optimisticExtra ? 100 : undefined;
  r.unchoked[t] = capUnchoked({ unchoked, downloaders, state: { optimistic } }, granted);
  for (const id of r.unchoked[t]!) expect(unchoked.has(id)).toBe(true);
}

/** Between ticks: one torrent rechokes (a peer became interested or left). */
class TorrentRechoke implements Cmd {
  constructor(
    readonly t: number,
    readonly optimisticExtra: boolean,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    rechokeTorrent(m, r, this.t, this.optimisticExtra, false);
    checkInvariants(m, r);
  }
  toString = () => `TorrentRechoke(${this.t}, ${this.optimisticExtra})`;
}

class Open implements Cmd {
  constructor(readonly t: number) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const ok = r.budget.tryOpen(this.t);
    const total = m.connections.reduce((a, b) => a + b, 0);
    expect(ok).toBe(total < m.maxConnections);
    if (ok) m.connections[this.t]!++;
    checkInvariants(m, r);
  }
  toString = () => `Open(${this.t})`;
}

class Close implements Cmd {
  constructor(readonly t: number) {}
  check = (m: Readonly<Model>) => m.connections[this.t]! > 0;
  run(m: Model, r: Real): void {
    r.budget.release(this.t);
    m.connections[this.t]!--;
    m.interested[this.t] = Math.min(m.interested[this.t]!, m.connections[this.t]!);
    checkInvariants(m, r);
  }
  toString = () => `Close(${this.t})`;
}

class Interest implements Cmd {
  constructor(
    readonly t: number,
    readonly delta: 1 | -1,
  ) {}
  check = (m: Readonly<Model>) => {
    const next = m.interested[this.t]! + this.delta;
    return next >= 0 && next <= m.connections[this.t]!;
  };
  run(m: Model, r: Real): void {
    m.interested[this.t]! += this.delta;
    checkInvariants(m, r);
  }
  toString = () => `Interest(${this.t}, ${this.delta})`;
}

/** A client tick: new shares; torrents above theirs give back, then those below take. */
class Rechoke implements Cmd {
  constructor(readonly optimisticExtra: boolean) {}
  check = () => true;
  run(m: Model, r: Real): void {
    m.round++;
    const shares = allocateUploadSlots(m.slots, m.interested, m.round);
    expect(shares.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(m.slots);
    const wanted = m.interested.reduce((a, b) => a + b, 0);
    expect(shares.reduce((a, b) => a + b, 0)).toBe(Math.min(m.slots, wanted));
    for (let t = 0; t < TORRENTS; t++) {
      expect(shares[t]).toBeLessThanOrEqual(m.interested[t]!);
      // Max-min fair: a torrent short of its demand is at most one slot behind any other.
      if (shares[t]! < m.interested[t]!)
        for (const s of shares) expect(s).toBeLessThanOrEqual(shares[t]! + 1);
      r.slots.setShare(t, shares[t]!);
    }
    for (let t = 0; t < TORRENTS; t++)
      if (r.slots.granted(t) > shares[t]!) rechokeTorrent(m, r, t, this.optimisticExtra, true);
    for (let t = 0; t < TORRENTS; t++) {
      if (r.slots.granted(t) < shares[t]!) rechokeTorrent(m, r, t, this.optimisticExtra, false);
      // After the tick every torrent holds at least its fair share.
      expect(r.slots.granted(t)).toBeGreaterThanOrEqual(shares[t]!);
    }
    checkInvariants(m, r);
  }
  toString = () => `Rechoke(${this.optimisticExtra})`;
}

describe('TorrentClient shared limits (model)', () => {
  it('never more connections or unchoked peers than configured, across torrents', () => {
    const torrent = fc.integer({ min: 0, max: TORRENTS - 1 });
    const commands = [
      torrent.map((t) => new Open(t)),
      torrent.map((t) => new Close(t)),
      fc.tuple(torrent, fc.constantFrom<1 | -1>(1, -1)).map(([t, d]) => new Interest(t, d)),
      fc.boolean().map((b) => new Rechoke(b)),
      fc.tuple(torrent, fc.boolean()).map(([t, b]) => new TorrentRechoke(t, b)),
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 12 }),
        fc.commands(commands, { maxCommands: 200 }),
        (maxConnections, slots, cmds) => {
          const model: Model = {
            maxConnections,
            slots,
            connections: Array(TORRENTS).fill(0),
            interested: Array(TORRENTS).fill(0),
            round: 0,
          };
          const real: Real = {
            budget: new ConnectionBudget<number>(maxConnections),
            slots: new UploadSlots<number>(slots),
            unchoked: Array.from({ length: TORRENTS }, () => new Set<number>()),
          };
          fc.modelRun(() => ({ model, real }), cmds);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rotates: with fewer slots than torrents, each wanting torrent gets one within n rounds', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 1000 }),
        (demands, slots, start) => {
          const served = demands.map(() => false);
          for (let round = start; round < start + demands.length; round++) {
            const shares = allocateUploadSlots(slots, demands, round);
            shares.forEach((s, i) => {
              if (s > 0) served[i] = true;
            });
          }
          demands.forEach((d, i) => {
            if (d > 0) expect(served[i]).toBe(true);
          });
        },
      ),
    );
  });

  it('a budget gives back only what it counted, and moves connections between keys', () => {
    const budget = new ConnectionBudget<string>(2);
    expect(budget.tryOpen('')).toBe(true);
    budget.transfer('', 'a');
    expect(budget.of('a')).toBe(1);
    expect(budget.tryOpen('b')).toBe(true);
    expect(budget.tryOpen('c')).toBe(false);
    budget.release('c'); // never counted: nothing happens
    expect(budget.total).toBe(2);
    budget.release('a');
    expect(budget.tryOpen('c')).toBe(true);
  });
});
