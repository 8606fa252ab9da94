/**
 * Model-based test of the headers-first download policy (src/p2p/block-download.ts) against a
 * plain reference model: no block in flight twice, per-peer and window limits, only heights a
 * peer has, nothing lost when a peer leaves or answers notfound, stalls detected.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BlockDownload, type WantedBlock } from '../src/p2p/block-download';

const PER_PEER = 3;
const WINDOW = 8;
const STALL_MS = 100;

interface Model {
  wanted: Map<string, number>; // key → height
  inFlight: Map<string, { peer: number; since: number }>;
  peerHeight: Map<number, number>;
  refused: Map<number, Set<string>>;
  tip: number;
  now: number;
}

type Real = { d: BlockDownload };

const block = (h: number): WantedBlock => ({
  hash: Uint8Array.of(h & 0xff, h >> 8),
  key: `b${h}`,
  height: h,
});

class Want implements fc.AsyncCommand<Model, Real> {
  constructor(readonly heights: number[]) {}
  check = () => true;
  async run(m: Model, r: Real) {
    r.d.want(this.heights.map(block));
    for (const h of this.heights) if (!m.wanted.has(`b${h}`)) m.wanted.set(`b${h}`, h);
    expect(r.d.pending).toBe(m.wanted.size);
  }
  toString = () => `want(${this.heights})`;
}

class PeerHeight implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly peer: number,
    readonly height: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    r.d.peerHeight(this.peer, this.height);
    m.peerHeight.set(this.peer, Math.max(m.peerHeight.get(this.peer) ?? -1, this.height));
  }
  toString = () => `peerHeight(${this.peer}, ${this.height})`;
}

class Assign implements fc.AsyncCommand<Model, Real> {
  constructor(readonly peer: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const got = r.d.assign(this.peer, m.tip, m.now);
    const load = [...m.inFlight.values()].filter((f) => f.peer === this.peer).length;
    expect(load + got.length).toBeLessThanOrEqual(PER_PEER);
    const ph = m.peerHeight.get(this.peer) ?? -1;
    for (const b of got) {
      expect(m.wanted.has(b.key), `${b.key} not wanted`).toBe(true);
      expect(m.inFlight.has(b.key), `${b.key} already in flight`).toBe(false);
      expect(b.height).toBeLessThanOrEqual(m.tip + WINDOW);
      expect(b.height).toBeLessThanOrEqual(ph);
      expect(m.refused.get(this.peer)?.has(b.key) ?? false).toBe(false);
      m.inFlight.set(b.key, { peer: this.peer, since: m.now });
    }
    // Lowest heights first: nothing eligible below the highest assigned was skipped.
    if (got.length > 0 && load + got.length < PER_PEER) {
      const eligible = [...m.wanted].filter(
        ([k, h]) =>
          !m.inFlight.has(k) && h <= m.tip + WINDOW && h <= ph && !m.refused.get(this.peer)?.has(k),
      );
      expect(eligible).toEqual([]);
    }
  }
  toString = () => `assign(${this.peer})`;
}

class Received implements fc.AsyncCommand<Model, Real> {
  constructor(readonly height: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const key = `b${this.height}`;
    expect(r.d.received(key)).toBe(m.wanted.has(key));
    m.wanted.delete(key);
    m.inFlight.delete(key);
    expect(r.d.pending).toBe(m.wanted.size);
  }
  toString = () => `received(${this.height})`;
}

class SetTip implements fc.AsyncCommand<Model, Real> {
  constructor(readonly tip: number) {}
  check = () => true;
  async run(m: Model) {
    m.tip = this.tip;
  }
  toString = () => `tip(${this.tip})`;
}

class NotFound implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly peer: number,
    readonly height: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const key = `b${this.height}`;
    r.d.notFound(this.peer, key);
    if (m.inFlight.get(key)?.peer === this.peer) m.inFlight.delete(key);
    const set = m.refused.get(this.peer) ?? new Set();
    set.add(key);
    m.refused.set(this.peer, set);
  }
  toString = () => `notFound(${this.peer}, ${this.height})`;
}

class Gone implements fc.AsyncCommand<Model, Real> {
  constructor(readonly peer: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    r.d.peerGone(this.peer);
    for (const [k, f] of m.inFlight) if (f.peer === this.peer) m.inFlight.delete(k);
    m.peerHeight.delete(this.peer);
    m.refused.delete(this.peer);
    expect(r.d.inFlight).toBe(m.inFlight.size);
  }
  toString = () => `gone(${this.peer})`;
}

class Tick implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    m.now += this.ms;
    const stalling = r.d.stalling(m.tip, m.now);
    // Every request older than the request timeout is reported.
    for (const f of m.inFlight.values())
      if (m.now - f.since > 1000) expect(stalling).toContain(f.peer);
    // The window stall: the block right above the tip is overdue while the window is what
    // keeps us from requesting more.
    const wanted = [...m.wanted].sort((a, b) => a[1] - b[1]);
    const first = wanted[0];
    const beyond = wanted.some(([, h]) => h > m.tip + WINDOW);
    const inside = wanted.filter(([, h]) => h <= m.tip + WINDOW);
    const firstFlight = first ? m.inFlight.get(first[0]) : undefined;
    const stalled =
      first !== undefined &&
      first[1] === m.tip + 1 &&
      firstFlight !== undefined &&
      beyond &&
      inside.every(([k]) => m.inFlight.has(k)) &&
      m.now - firstFlight.since > STALL_MS;
    if (stalled && firstFlight) expect(stalling).toContain(firstFlight.peer);
    // Nobody else is reported.
    for (const p of stalling) {
      const old = [...m.inFlight.values()].some((f) => f.peer === p && m.now - f.since > 1000);
      expect(old || (stalled && firstFlight?.peer === p), `peer ${p} reported stalling`).toBe(true);
    }
  }
  toString = () => `tick(${this.ms})`;
}

describe('BlockDownload (model-based)', () => {
  it('keeps its limits and loses nothing under any sequence of events', async () => {
    const peer = fc.integer({ min: 1, max: 4 });
    const height = fc.integer({ min: 1, max: 40 });
    const commands = [
      fc.array(height, { minLength: 1, maxLength: 10 }).map((hs) => new Want(hs)),
      fc.tuple(peer, fc.integer({ min: 0, max: 40 })).map(([p, h]) => new PeerHeight(p, h)),
      peer.map((p) => new Assign(p)),
      height.map((h) => new Received(h)),
      fc.tuple(peer, height).map(([p, h]) => new NotFound(p, h)),
      peer.map((p) => new Gone(p)),
      fc.integer({ min: 1, max: 600 }).map((ms) => new Tick(ms)),
      fc.integer({ min: 0, max: 40 }).map((h) => new SetTip(h)),
    ];
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 60 }), async (cmds) => {
        const model: Model = {
          wanted: new Map(),
          inFlight: new Map(),
          peerHeight: new Map(),
          refused: new Map(),
          tip: 0,
          now: 0,
        };
        const real: Real = {
          d: new BlockDownload({
            perPeer: PER_PEER,
            window: WINDOW,
            stallTimeoutMs: STALL_MS,
            requestTimeoutMs: 1000,
          }),
        };
        await fc.asyncModelRun(() => ({ model, real }), cmds);
      }),
      { numRuns: 300 },
    );
  });
});
