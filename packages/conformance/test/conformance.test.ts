import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineRule, ensure, runRules, selects, type TargetContext } from '../src/index';
import { describeFailure, describeRules } from '../src/testing';

/** A pretend target: a number that a case may break. */
interface FakeContext extends TargetContext {
  broken: boolean;
  supportsFeature: boolean;
}

function fakeContext(supportsFeature = true): FakeContext {
  const ctx: FakeContext = {
    timeoutMs: 10,
    broken: false,
    supportsFeature,
    alive: async () => !ctx.broken,
  };
  return ctx;
}

const cite = { spec: 'TEST', section: 'one', text: 'numbers below 10 are fine' };

const belowTen = defineRule<FakeContext, number>({
  id: 'test.below-ten',
  title: 'numbers below ten',
  cite,
  cases: () => fc.nat(1000),
  async check(_ctx, n) {
    ensure(n < 10, `${n} is not below 10`);
  },
});

const always = defineRule<FakeContext, number>({
  id: 'test.always',
  title: 'always true',
  cite,
  cases: () => fc.nat(),
  async check() {},
});

const feature = defineRule<FakeContext, number>({
  id: 'test.feature.x',
  title: 'needs a feature',
  cite,
  applies: async (ctx) => (ctx.supportsFeature ? undefined : 'no feature'),
  cases: () => fc.nat(),
  async check() {},
});

const killer = defineRule<FakeContext, number>({
  id: 'test.killer',
  title: 'a case above 500 kills the target',
  cite,
  cases: () => fc.nat(1000),
  async check(ctx, n) {
    if (n > 500) ctx.broken = true;
  },
});

describe('runRules', () => {
  it('reports passed, not applicable and a shrunk failure with its seed and path', async () => {
    const report = await runRules('test', 'fake', [always, feature, belowTen], fakeContext(false), {
      runs: 100,
      seed: 3,
    });
    expect(report.results.map((r) => r.outcome)).toEqual(['passed', 'not-applicable', 'failed']);
    expect(report.ok).toBe(false);
    expect(report.results[0]!.runs).toBe(100);
    expect(report.results[1]!.reason).toBe('no feature');
    const failed = report.results[2]!;
    expect(failed.counterexample).toBe('10');
    expect(failed.reason).toBe('10 is not below 10');
    expect(failed.seed).toBe(3);

    // The same seed finds the same case; the path replays it at once.
    const again = await runRules('test', 'fake', [belowTen], fakeContext(), { runs: 100, seed: 3 });
    expect(again.results[0]!.counterexample).toBe('10');
    expect(again.results[0]!.path).toBe(failed.path);
    const replay = await runRules('test', 'fake', [belowTen], fakeContext(), {
      runs: 100,
      seed: 3,
      path: failed.path!,
    });
    expect(replay.results[0]!.counterexample).toBe('10');
    expect(replay.results[0]!.runs).toBe(1);
  });

  it('reports the case that killed the target, unshrunk, and later rules as not answering', async () => {
    const report = await runRules('test', 'fake', [killer, always], fakeContext(), {
      runs: 200,
      seed: 8,
    });
    const [killed, after] = report.results;
    expect(killed!.outcome).toBe('failed');
    expect(killed!.reason).toMatch(/stopped answering after this case/);
    expect(Number(killed!.counterexample)).toBeGreaterThan(500);
    expect(after!.outcome).toBe('failed');
    expect(after!.reason).toMatch(/does not answer/);
  });

  it('selects rules by id or dotted prefix, and refuses a selection that matches nothing', async () => {
    expect(selects(['test.feature'], 'test.feature.x')).toBe(true);
    expect(selects(['test.feat'], 'test.feature.x')).toBe(false);
    expect(selects(undefined, 'anything')).toBe(true);
    const report = await runRules('test', 'fake', [always, feature], fakeContext(), {
      runs: 5,
      seed: 1,
      only: ['test.feature'],
    });
    expect(report.results.map((r) => r.id)).toEqual(['test.feature.x']);
    await expect(
      runRules('test', 'fake', [always], fakeContext(), { only: ['nope'] }),
    ).rejects.toThrow(/no rule matches/);
  });

  it('lets a case cut off by the time limit finish before it returns', async () => {
    let running = 0;
    const slow = defineRule<FakeContext, number>({
      id: 'test.slow',
      title: 'each case takes 150 ms',
      cite,
      cases: () => fc.nat(),
      async check() {
        running++;
        await new Promise((resolve) => setTimeout(resolve, 150));
        running--;
      },
    });
    const report = await runRules('test', 'fake', [slow], fakeContext(), {
      runs: 100,
      seed: 1,
      ruleTimeLimitMs: 200,
    });
    expect(report.results[0]!.runs).toBeLessThan(100);
    expect(running).toBe(0);
  });

  it('describes a failure with its citation, shrunk case and replay seed', async () => {
    const report = await runRules('test', 'fake', [belowTen], fakeContext(), { runs: 50, seed: 3 });
    const text = describeFailure(report.results[0]!);
    expect(text).toContain('test.below-ten (TEST, one): 10 is not below 10');
    expect(text).toContain('counterexample: 10');
    expect(text).toContain(`replay: CONFORM_SEED=3 (path ${report.results[0]!.path})`);
  });
});

// The vitest adapter itself: a passing rule passes, a rule that does not apply is skipped, and
// the context is opened once and closed after the suite.
let opened = 0;
let closed = 0;
describeRules(
  'fake target',
  [always, feature],
  () => {
    opened++;
    return { ...fakeContext(false), close: async () => void closed++ };
  },
  { runs: 5, seed: 1 },
);
describe('describeRules', () => {
  it('opened the target once for the whole suite and closed it after', () => {
    expect(opened).toBe(1);
    expect(closed).toBe(1);
  });
});
