/**
 * BEP 12 tiers and the BEP 3 announce events: `AnnounceSchedule` against a simple model
 * (`fc.commands`): trackers are tried tier by tier, front to back; the one that answered moves
 * to the front of its tier; `started` first, `completed` at most once, nothing after `stop`,
 * `stopped` to the tracker that answered last. Then the interval rules by example.
 */
import { Prng } from '@peerkit/netsim';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AnnounceSchedule,
  type DueAnnounce,
  FIRST_RETRY_MS,
  MAX_INTERVAL_S,
  MAX_RETRY_MS,
  MIN_INTERVAL_S,
  TrackerTiers,
} from '../src/tracker/tiers';
import type { AnnounceEvent } from '../src/tracker/udp-messages';

interface Model {
  input: string[][];
  tiers: string[][];
  now: number;
  nextAt: number | undefined;
  cursor: number;
  failedRounds: number;
  inFlight: DueAnnounce | undefined;
  begun: boolean;
  startedSent: boolean;
  completedQueued: boolean;
  completedSent: boolean;
  stopped: boolean;
  current: string | undefined;
  /** Events the trackers took, in order. */
  taken: AnnounceEvent[];
}

interface Real {
  schedule: AnnounceSchedule;
}

const flat = (m: Model) => m.tiers.flatMap((t, tier) => t.map((url) => ({ url, tier })));
const eventOf = (m: Model): AnnounceEvent =>
  !m.startedSent ? 'started' : m.completedQueued && !m.completedSent ? 'completed' : 'none';

function check(m: Model, r: Real): void {
  expect(r.schedule.tiers.tiers).toEqual(m.tiers);
  // Shuffled and promoted, but each tier keeps exactly its own trackers.
  for (const [i, tier] of m.tiers.entries())
    expect([...tier].sort()).toEqual([...m.input[i]!].sort());
  expect(r.schedule.nextAt()).toBe(m.stopped || m.inFlight ? undefined : m.nextAt);
  expect(r.schedule.current).toBe(m.current);
  expect(m.taken.filter((e) => e === 'completed').length).toBeLessThanOrEqual(1);
  if (m.taken.length > 0) expect(m.taken[0]).toBe('started');
}

class Advance implements fc.Command<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  run(m: Model, r: Real) {
    m.now += this.ms;
    check(m, r);
  }
  toString = () => `advance(${this.ms})`;
}

class Start implements fc.Command<Model, Real> {
  check = () => true;
  run(m: Model, r: Real) {
    r.schedule.start(m.now);
    if (!m.begun && !m.stopped) {
      m.begun = true;
      m.nextAt = m.now;
    }
    check(m, r);
  }
  toString = () => 'start';
}

class Due implements fc.Command<Model, Real> {
  check = () => true;
  run(m: Model, r: Real) {
    const got = r.schedule.due(m.now);
    let want: DueAnnounce | undefined;
    if (!m.stopped && !m.inFlight && m.begun && m.nextAt !== undefined && m.now >= m.nextAt) {
      const order = flat(m);
      if (m.cursor < order.length) want = { ...order[m.cursor]!, event: eventOf(m) };
      else {
        m.cursor = 0;
        m.nextAt = m.now + Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** m.failedRounds);
        m.failedRounds++;
      }
    }
    expect(got).toEqual(want);
    m.inFlight = want ?? m.inFlight;
    check(m, r);
  }
  toString = () => 'due';
}

class Answer implements fc.Command<Model, Real> {
  constructor(readonly interval: number) {}
  check = (m: Readonly<Model>) => m.inFlight !== undefined;
  run(m: Model, r: Real) {
    const sent = m.inFlight!;
    r.schedule.answered(sent.url, m.now, { interval: this.interval });
    m.inFlight = undefined;
    m.taken.push(sent.event);
    const tier = m.tiers[sent.tier]!;
    tier.splice(tier.indexOf(sent.url), 1);
    tier.unshift(sent.url);
    if (sent.event === 'started') m.startedSent = true;
    if (sent.event === 'completed') m.completedSent = true;
    m.current = sent.url;
    m.cursor = 0;
    m.failedRounds = 0;
    const interval = Math.min(MAX_INTERVAL_S, Math.max(MIN_INTERVAL_S, this.interval));
    m.nextAt = m.completedQueued && !m.completedSent ? m.now : m.now + interval * 1000;
    check(m, r);
  }
  toString = () => `answer(${this.interval})`;
}

class Fail implements fc.Command<Model, Real> {
  check = (m: Readonly<Model>) => m.inFlight !== undefined;
  run(m: Model, r: Real) {
    r.schedule.failed(m.inFlight!.url, m.now);
    m.inFlight = undefined;
    m.cursor++;
    check(m, r);
  }
  toString = () => 'fail';
}

class Complete implements fc.Command<Model, Real> {
  check = () => true;
  run(m: Model, r: Real) {
    r.schedule.complete(m.now);
    if (!m.completedQueued && !m.stopped) {
      m.completedQueued = true;
      if (m.startedSent && !m.inFlight) {
        m.cursor = 0;
        m.nextAt = m.now;
      }
    }
    check(m, r);
  }
  toString = () => 'complete';
}

class Stop implements fc.Command<Model, Real> {
  check = (m: Readonly<Model>) => !m.stopped;
  run(m: Model, r: Real) {
    expect(r.schedule.stop()).toBe(m.startedSent ? m.current : undefined);
    m.stopped = true;
    m.inFlight = undefined;
    expect(r.schedule.due(m.now + 10 * MAX_RETRY_MS)).toBeUndefined();
    check(m, r);
  }
  toString = () => 'stop';
}

const arbTiers = fc
  .array(fc.uniqueArray(fc.nat(30), { minLength: 1, maxLength: 4 }), {
    minLength: 1,
    maxLength: 4,
  })
  .map((tiers) => {
    // URLs unique across tiers (duplicates are dropped by the schedule; tested below).
    const seen = new Set<number>();
    return tiers
      .map((t) => t.filter((n) => !seen.has(n) && seen.add(n)).map((n) => `http://t${n}/announce`))
      .filter((t) => t.length > 0);
  });

describe('AnnounceSchedule (BEP 12 tiers, BEP 3 events) against a model', () => {
  it('tries tier by tier, promotes the tracker that answered, sends each event as BEP 3 says', () => {
    const commands = [
      fc.nat(4_000_000).map((ms) => new Advance(ms)),
      fc.constant(new Start()),
      fc.constant(new Due()),
      fc.constant(new Due()),
      fc.integer({ min: -5, max: 10_000 }).map((s) => new Answer(s)),
      fc.constant(new Fail()),
      fc.constant(new Fail()),
      fc.constant(new Complete()),
      fc.constant(new Stop()),
    ];
    fc.assert(
      fc.property(
        arbTiers,
        fc.integer(),
        fc.commands(commands, { size: '+1' }),
        (input, seed, cmds) => {
          const schedule = new AnnounceSchedule(input, new Prng(seed));
          const model: Model = {
            input,
            tiers: schedule.tiers.tiers.map((t) => [...t]),
            now: 0,
            nextAt: undefined,
            cursor: 0,
            failedRounds: 0,
            inFlight: undefined,
            begun: false,
            startedSent: false,
            completedQueued: false,
            completedSent: false,
            stopped: false,
            current: undefined,
            taken: [],
          };
          fc.modelRun(() => ({ model, real: { schedule } }), cmds);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a dead first tier: the second tier is tried; the tracker that answered leads its tier', () => {
    const s = new AnnounceSchedule([['a'], ['b1', 'b2']], new Prng(1));
    const tier2 = s.tiers.tiers[1]!;
    s.start(0);
    expect(s.due(0)).toEqual({ url: 'a', event: 'started', tier: 0 });
    s.failed('a', 0);
    expect(s.due(0)).toEqual({ url: tier2[0], event: 'started', tier: 1 });
    s.failed(tier2[0]!, 0);
    expect(s.due(0)).toEqual({ url: tier2[1], event: 'started', tier: 1 });
    s.answered(tier2[1]!, 0, { interval: 120 });
    expect(s.tiers.tiers).toEqual([['a'], [tier2[1], tier2[0]]]);
    // The next regular announce starts at the first tier again (BEP 12), after the interval.
    expect(s.due(119_999)).toBeUndefined();
    expect(s.due(120_000)).toEqual({ url: 'a', event: 'none', tier: 0 });
  });

  it('honours interval and min interval; a regular announce skips a tracker inside its min interval', () => {
    const s = new AnnounceSchedule([['a'], ['b']], new Prng(2));
    s.start(0);
    expect(s.due(0)).toEqual({ url: 'a', event: 'started', tier: 0 });
    // An interval shorter than the min interval: the min interval wins.
    s.answered('a', 0, { interval: 60, minInterval: 900 });
    expect(s.nextAt()).toBe(900_000);
    // `completed` is an event: it goes at once, min interval or not; a does not answer, b does.
    s.complete(100);
    expect(s.due(100)).toEqual({ url: 'a', event: 'completed', tier: 0 });
    s.failed('a', 100);
    expect(s.due(100)).toEqual({ url: 'b', event: 'completed', tier: 1 });
    s.answered('b', 100, { interval: 60 });
    expect(s.nextAt()).toBe(60_100);
    // The regular announce at 60.1 s would go to tier 1 first, but a asked for 900 s between
    // regular announces: it is skipped, b gets it.
    expect(s.due(60_099)).toBeUndefined();
    expect(s.due(60_100)).toEqual({ url: 'b', event: 'none', tier: 1 });
  });

  it('events always go out, min interval or not: completed right after started', () => {
    const s = new AnnounceSchedule([['a']], new Prng(3));
    s.start(0);
    s.due(0);
    s.complete(10); // while started is in flight
    s.answered('a', 20, { interval: 1800, minInterval: 1800 });
    expect(s.due(20)).toEqual({ url: 'a', event: 'completed', tier: 0 });
    s.answered('a', 30, { interval: 1800 });
    s.complete(40); // a second completion is not sent again
    expect(s.nextAt()).toBe(30 + 1800_000);
    expect(s.completedSent).toBe(true);
    expect(s.stop()).toBe('a');
  });

  it('shuffles each tier once with the injected random source; duplicates and empty tiers dropped', () => {
    const input = [['x1', 'x2', 'x3', 'x4', 'x5', 'x6'], [], ['x1', 'y']];
    const orders = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      const tiers = new TrackerTiers(input, new Prng(seed)).tiers;
      expect(tiers).toHaveLength(2);
      expect([...tiers[0]!].sort()).toEqual(input[0]);
      expect(tiers[1]).toEqual(['y']);
      orders.add(tiers[0]!.join());
      expect(new TrackerTiers(input, new Prng(seed)).tiers).toEqual(tiers);
    }
    expect(orders.size).toBeGreaterThan(1);
  });
});
