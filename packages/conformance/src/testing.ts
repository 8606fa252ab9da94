/**
 * `@peerkit/conformance/testing`: a conformance suite's rules as vitest tests, one test per
 * rule, with the seed convention of peerkit's property tests (`CONFORM_SEED` from the
 * environment, a fixed seed under CI, random otherwise; a failure prints the seed and path that
 * replay it).
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Rule, TargetContext } from './rule';
import { type RuleResult, randomSeed, runRules } from './runner';

export interface DescribeRulesOptions {
  /** Cases per rule (default 10: the CLI's default is 50). */
  runs?: number;
  /**
   * fast-check seed: default `CONFORM_SEED` from the environment, else a fixed seed when `CI`
   * is set (so CI runs are repeatable), else random. A failure prints the seed and path.
   */
  seed?: number;
  /** vitest's limit for one rule, shrinking included (default 120,000 ms). */
  testTimeoutMs?: number;
}

/** The seed CI runs use unless `CONFORM_SEED` says otherwise. */
export const CI_CONFORM_SEED = 0x5eed;

function conformSeed(): number {
  const fromEnv = process.env.CONFORM_SEED;
  if (fromEnv !== undefined && fromEnv !== '') {
    const seed = Number(fromEnv);
    if (!Number.isSafeInteger(seed)) throw new Error(`CONFORM_SEED is not an integer: ${fromEnv}`);
    return seed;
  }
  return process.env.CI ? CI_CONFORM_SEED : randomSeed();
}

/** The failure message of a rule: what broke, the shrunk case, and how to replay it. */
export function describeFailure(result: RuleResult): string {
  return [
    `${result.id} (${result.cite.spec}, ${result.cite.section}): ${result.reason ?? 'failed'}`,
    result.counterexample === undefined ? '' : `counterexample: ${result.counterexample}`,
    `replay: CONFORM_SEED=${result.seed}${result.path === undefined ? '' : ` (path ${result.path})`}`,
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/**
 * Registers one vitest test per rule of a conformance suite against the target that `open()`
 * describes (called once, in `beforeAll`; its `close()`, if any, runs in `afterAll`). A rule
 * that does not apply to the target is reported as skipped with its reason; a failing rule
 * fails its test with the shrunk counterexample and the seed that replays it.
 *
 * ```ts
 * describeRules('my DHT node', dhtRules, () => openDhtContext(network, address, { timeoutMs: 2000 }));
 * ```
 */
export function describeRules<Ctx extends TargetContext>(
  name: string,
  rules: readonly Rule<Ctx>[],
  open: () => Ctx | Promise<Ctx>,
  options: DescribeRulesOptions = {},
): void {
  const runs = options.runs ?? 10;
  const testTimeoutMs = options.testTimeoutMs ?? 120_000;
  describe(`conformance: ${name}`, () => {
    let ctx: Ctx | undefined;
    let seed = 0;
    beforeAll(async () => {
      seed = options.seed ?? conformSeed();
      ctx = await open();
    }, testTimeoutMs);
    afterAll(async () => {
      const closable = ctx as (Ctx & { close?: () => unknown }) | undefined;
      ctx = undefined;
      await closable?.close?.();
    }, testTimeoutMs);
    for (const rule of rules) {
      it(
        `${rule.id}: ${rule.title}`,
        async (test) => {
          if (!ctx) throw new Error('no target: open() failed');
          const report = await runRules(name, name, [rule], ctx, {
            runs,
            seed,
            ruleTimeLimitMs: testTimeoutMs - 5_000,
          });
          const result = report.results[0];
          if (!result) throw new Error(`rule ${rule.id} produced no result`);
          if (result.outcome === 'not-applicable') test.skip(result.reason);
          if (result.outcome === 'failed') throw new Error(describeFailure(result));
        },
        testTimeoutMs,
      );
    }
  });
}
