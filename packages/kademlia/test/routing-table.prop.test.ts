/**
 * Model-based test of the BEP 5 routing table against a deliberately naive reference model:
 * a flat list of nodes plus a split depth, where "the bucket of a node" is recomputed from the
 * common prefix length every time. Commands: hear from a node (response / query), fail a node,
 * remove a node, let time pass. After each command the table must agree with the model.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commonPrefixLength, compareDistance, idEquals, type NodeId, toHex } from '../src/node-id';
import { GOOD_NODE_MS, type NodeStatus, RoutingTable } from '../src/routing-table';
import { ManualClock } from './helpers/clock';

const K = 4; // small k so that buckets fill and split often
const MAX_FAILURES = 2;

interface ModelNode {
  id: NodeId;
  lastResponse: number | undefined;
  lastQuery: number | undefined;
  failures: number;
}

interface Model {
  self: NodeId;
  depth: number; // number of buckets - 1
  nodes: ModelNode[]; // nodes in the table
  waiting: Map<string, ModelNode>; // ids the table may hold in replacement caches
  now: number;
}

interface Real {
  table: RoutingTable;
  clock: ManualClock;
}

function modelStatus(m: Model, n: ModelNode): NodeStatus {
  if (n.failures >= MAX_FAILURES) return 'bad';
  if (n.lastResponse !== undefined) {
    if (m.now - n.lastResponse <= GOOD_NODE_MS) return 'good';
    if (n.lastQuery !== undefined && m.now - n.lastQuery <= GOOD_NODE_MS) return 'good';
  }
  return 'questionable';
}

const bucketOf = (m: Model, id: NodeId) => Math.min(commonPrefixLength(m.self, id), m.depth);
const inBucket = (m: Model, index: number) => m.nodes.filter((n) => bucketOf(m, n.id) === index);
const find = (m: Model, id: NodeId) => m.nodes.find((n) => idEquals(n.id, id));

function checkAgreement(m: Model, r: Real) {
  const t = r.table;
  expect(t.bucketCount).toBe(m.depth + 1);
  expect(t.size).toBe(m.nodes.length);
  for (let i = 0; i <= m.depth; i++) {
    const real = t.bucketNodes(i);
    expect(real.length).toBeLessThanOrEqual(K);
    expect(new Set(real.map((n) => toHex(n.id)))).toEqual(
      new Set(inBucket(m, i).map((n) => toHex(n.id))),
    );
  }
  for (const n of m.nodes) {
    const real = t.get(n.id)!;
    expect(real).toBeDefined();
    expect(t.status(real)).toBe(modelStatus(m, n));
  }
  expect(t.get(m.self)).toBeUndefined();
  // closest() is the brute-force sort of the model's non-bad nodes.
  const target = m.nodes[0]?.id ?? m.self;
  const expected = m.nodes
    .filter((n) => modelStatus(m, n) !== 'bad')
    .sort((a, b) => compareDistance(target, a.id, b.id))
    .slice(0, K)
    .map((n) => toHex(n.id));
  expect(t.closest(target, K).map((n) => toHex(n.id))).toEqual(expected);
}

function nodeFor(id: NodeId, n: number) {
  return { id, address: { host: '10.0.0.1', port: 1000 + n } };
}

/** Hear from a node: mirrors BEP 5's insertion rules in the flat model. */
class Observe implements fc.Command<Model, Real> {
  constructor(
    readonly id: NodeId,
    readonly kind: 'response' | 'query',
  ) {}
  check = () => true;
  run(m: Model, r: Real) {
    const addr = nodeFor(this.id, 0);
    const result = r.table.observe(addr, this.kind);
    if (idEquals(this.id, m.self)) {
      expect(result.kind).toBe('ignored');
      return checkAgreement(m, r);
    }
    const touch = (n: ModelNode) => {
      if (this.kind === 'response') {
        n.lastResponse = m.now;
        n.failures = 0;
      } else n.lastQuery = m.now;
    };
    const existing = find(m, this.id);
    if (existing) {
      expect(result.kind).toBe('updated');
      touch(existing);
      return checkAgreement(m, r);
    }
    const fresh: ModelNode = {
      id: this.id,
      lastResponse: undefined,
      lastQuery: undefined,
      failures: 0,
    };
    touch(fresh);
    let index = bucketOf(m, this.id);
    while (inBucket(m, index).length >= K && index === m.depth && m.depth < 159) {
      m.depth++;
      index = bucketOf(m, this.id);
    }
    const bucket = inBucket(m, index);
    if (bucket.length < K) {
      expect(result.kind).toBe('added');
      m.nodes.push(fresh);
      m.waiting.delete(toHex(this.id));
      return checkAgreement(m, r);
    }
    const bad = bucket.filter((n) => modelStatus(m, n) === 'bad');
    if (bad.length > 0) {
      expect(result.kind).toBe('added');
      if (result.kind !== 'added') return;
      const replaced = result.replaced!;
      expect(bad.some((n) => idEquals(n.id, replaced.id))).toBe(true);
      m.nodes = m.nodes.filter((n) => !idEquals(n.id, replaced.id));
      m.nodes.push(fresh);
      m.waiting.delete(toHex(this.id));
      return checkAgreement(m, r);
    }
    const questionable = bucket.filter((n) => modelStatus(m, n) === 'questionable');
    const prior = m.waiting.get(toHex(this.id));
    if (prior) touch(prior);
    else m.waiting.set(toHex(this.id), fresh);
    if (questionable.length > 0) {
      expect(result.kind).toBe('pending');
      if (result.kind !== 'pending') return;
      expect(new Set(result.ping.map((n) => toHex(n.id)))).toEqual(
        new Set(questionable.map((n) => toHex(n.id))),
      );
    } else {
      expect(result.kind).toBe('cached');
    }
    checkAgreement(m, r);
  }
  toString = () => `observe(${toHex(this.id).slice(0, 6)}, ${this.kind})`;
}

/** A query to a node timed out. */
class Fail implements fc.Command<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.nodes.length > 0;
  run(m: Model, r: Real) {
    const node = m.nodes[this.pick % m.nodes.length]!;
    const index = bucketOf(m, node.id);
    node.failures++;
    const result = r.table.fail(node.id);

    if (result.removed) {
      expect(modelStatus(m, node)).toBe('bad');
      expect(idEquals(result.removed.id, node.id)).toBe(true);
      const promoted = result.promoted!;
      const key = toHex(promoted.id);
      const waiting = m.waiting.get(key);
      expect(waiting).toBeDefined();
      expect(bucketOf(m, promoted.id)).toBe(index);
      m.waiting.delete(key);
      m.nodes = m.nodes.filter((n) => !idEquals(n.id, node.id));
      m.nodes.push(waiting!);
    } else if (modelStatus(m, node) === 'bad') {
      // Bad but kept: allowed only when no replacement waited in its bucket.
      expect(r.table.bucketReplacements(index)).toEqual([]);
    }
    checkAgreement(m, r);
  }
  toString = () => `fail(#${this.pick})`;
}

/** Time passes: nodes turn questionable after 15 minutes. */
class Advance implements fc.Command<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  run(m: Model, r: Real) {
    m.now += this.ms;
    r.clock.advance(this.ms);
    checkAgreement(m, r);
  }
  toString = () => `advance(${this.ms})`;
}

describe('RoutingTable (model-based, BEP 5)', () => {
  it('agrees with a flat reference model under arbitrary command sequences', () => {
    const idArb = fc.uint8Array({ minLength: 20, maxLength: 20 });
    const setup = fc
      .tuple(idArb, fc.array(idArb, { minLength: 1, maxLength: 40 }), fc.nat(255))
      .map(([self, pool, salt]) => {
        // Ids near our own id too, so that deep buckets get exercised.
        const near = pool.map((id, i) => {
          const out = Uint8Array.from(self);
          out[19] = (id[19] ?? 0) ^ salt;
          out[i % 5] = id[0] ?? 0;
          return out;
        });
        return { self, ids: [...pool, ...near, self] };
      });
    const scenario = setup.chain(({ self, ids }) =>
      fc.tuple(
        fc.constant(self),
        fc.commands(
          [
            fc
              .tuple(fc.nat({ max: ids.length - 1 }), fc.constantFrom('response', 'query'))
              .map(([i, kind]) => new Observe(ids[i]!, kind as 'response' | 'query')),
            fc.nat().map((n) => new Fail(n)),
            fc.constantFrom(60_000, 5 * 60_000, GOOD_NODE_MS + 1).map((ms) => new Advance(ms)),
          ],
          { maxCommands: 150, size: 'large' },
        ),
      ),
    );
    fc.assert(
      fc.property(scenario, ([self, cmds]) => {
        const clock = new ManualClock();
        const table = new RoutingTable(self, clock, {
          k: K,
          maxFailures: MAX_FAILURES,
          // Unbounded caches here, so the model knows every waiting node; eviction has its own test.
          replacementCacheSize: 10_000,
        });
        const model: Model = { self, depth: 0, nodes: [], waiting: new Map(), now: 0 };
        fc.modelRun(() => ({ model, real: { table, clock } }), cmds);
      }),
      {
        numRuns: Number(process.env.RUNS ?? 250),
        seed: Number(process.env.SEED ?? Date.now() % 2 ** 31),
        path: process.env.FCPATH,
        endOnFailure: true,
      },
    );
  });
});
