/**
 * Runs the rules of a suite against one live target with fast-check: each rule's property for
 * `runs` cases from one `seed`, shrinking any failure to a minimal case. The same seed (and,
 * for one rule, the printed path) replays a failure exactly against a deterministic target.
 */
import { randomInt } from 'node:crypto';
import * as fc from 'fast-check';
import type { Rule, SpecCitation, TargetContext } from './rule';

export type Outcome = 'passed' | 'failed' | 'not-applicable';

export interface RuleResult {
  readonly id: string;
  readonly title: string;
  readonly cite: SpecCitation;
  readonly outcome: Outcome;
  /** Why it failed (the target's violation) or why it does not apply. */
  readonly reason?: string;
  /** The shrunk failing case, printed with `fc.stringify`. */
  readonly counterexample?: string;
  /** The seed of the run; with `path` it replays the failing case (`--seed S --path P --only ID`). */
  readonly seed: number;
  readonly path?: string;
  /** Cases run (including the failing one). */
  readonly runs: number;
  /** Shrink steps that still failed. */
  readonly shrinks: number;
  readonly durationMs: number;
}

export interface SuiteReport {
  readonly suite: string;
  readonly target: string;
  readonly seed: number;
  readonly runs: number;
  readonly results: RuleResult[];
  /** True when no rule failed. */
  readonly ok: boolean;
}

export interface RunOptions {
  /** Cases per rule (default 50). */
  runs?: number;
  /** fast-check seed (default: random, printed in the report). */
  seed?: number;
  /** A fast-check path to replay directly (only with a single rule selected). */
  path?: string;
  /** Rule ids or id prefixes (`dht.announce`) to run; default all. */
  only?: readonly string[];
  /** Longest time one rule may take, shrinking included (default 120,000 ms). */
  ruleTimeLimitMs?: number;
  /** Called as each rule finishes (for progress output). */
  onResult?: (result: RuleResult) => void;
}

export const DEFAULT_RUNS = 50;

const DOWN = 'the target does not answer (before the rule started)';

/** A fresh random seed in fast-check's range. */
export function randomSeed(): number {
  return randomInt(0, 2 ** 31 - 1);
}

/** True when `id` is selected by `only` (exact id or a dot-separated prefix of it). */
export function selects(only: readonly string[] | undefined, id: string): boolean {
  if (only === undefined || only.length === 0) return true;
  return only.some((o) => id === o || id.startsWith(`${o}.`));
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Runs `rules` against the target described by `ctx`. */
export async function runRules<Ctx extends TargetContext>(
  suite: string,
  target: string,
  rules: readonly Rule<Ctx>[],
  ctx: Ctx,
  options: RunOptions = {},
): Promise<SuiteReport> {
  const runs = options.runs ?? DEFAULT_RUNS;
  const seed = options.seed ?? randomSeed();
  const selected = rules.filter((r) => selects(options.only, r.id));
  if (selected.length === 0) {
    throw new Error(
      `no rule matches ${options.only?.join(', ')}; ids: ${rules.map((r) => r.id).join(', ')}`,
    );
  }
  const results: RuleResult[] = [];
  let down = false;
  for (const rule of selected) {
    if (down && !(await ctx.alive())) {
      // Still not answering: report it without waiting for each rule's checks.
      const result: RuleResult = {
        id: rule.id,
        title: rule.title,
        cite: rule.cite,
        seed,
        outcome: 'failed',
        reason: DOWN,
        runs: 0,
        shrinks: 0,
        durationMs: 0,
      };
      results.push(result);
      options.onResult?.(result);
      continue;
    }
    const result = await runRule(rule, ctx, {
      runs,
      seed,
      path: selected.length === 1 ? options.path : undefined,
      timeLimitMs: options.ruleTimeLimitMs ?? 120_000,
    });
    down = result.reason === DOWN;
    results.push(result);
    options.onResult?.(result);
  }
  return { suite, target, seed, runs, results, ok: results.every((r) => r.outcome !== 'failed') };
}

interface OneRuleOptions {
  runs: number;
  seed: number;
  path: string | undefined;
  timeLimitMs: number;
}

async function runRule<Ctx extends TargetContext>(
  rule: Rule<Ctx>,
  ctx: Ctx,
  options: OneRuleOptions,
): Promise<RuleResult> {
  const started = performance.now();
  const base = { id: rule.id, title: rule.title, cite: rule.cite, seed: options.seed };
  const elapsed = () => Math.round(performance.now() - started);
  if (!(await ctx.alive())) {
    return {
      ...base,
      outcome: 'failed',
      reason: 'the target does not answer (before the rule started)',
      runs: 0,
      shrinks: 0,
      durationMs: elapsed(),
    };
  }
  let notApplicable: string | undefined;
  try {
    notApplicable = await rule.applies(ctx);
  } catch (error) {
    return {
      ...base,
      outcome: 'failed',
      reason: `applicability check failed: ${messageOf(error)}`,
      runs: 0,
      shrinks: 0,
      durationMs: elapsed(),
    };
  }
  if (notApplicable !== undefined) {
    return {
      ...base,
      outcome: 'not-applicable',
      reason: notApplicable,
      runs: 0,
      shrinks: 0,
      durationMs: elapsed(),
    };
  }
  let killer: { value: unknown } | undefined;
  const property = rule.property(ctx, (value) => {
    killer ??= { value };
  });
  const details = await fc.check(property, {
    numRuns: options.runs,
    seed: options.seed,
    ...(options.path === undefined ? {} : { path: options.path }),
    interruptAfterTimeLimit: options.timeLimitMs,
    markInterruptAsFailure: false,
  });
  if (details.interrupted) {
    // The time limit passed in the middle of a case, which is still running: let it finish
    // (its waits are bounded by the context's timeouts), at most one more time limit.
    await settleWithin(rule, options.timeLimitMs);
  }
  if (!details.failed) {
    return { ...base, outcome: 'passed', runs: details.numRuns, shrinks: 0, durationMs: elapsed() };
  }
  if (killer !== undefined) {
    // Every case after the one that killed the target fails at once: shrinking means nothing.
    const firstRun = details.counterexamplePath?.split(':')[0];
    return {
      ...base,
      outcome: 'failed',
      reason: 'the target stopped answering after this case (not shrunk)',
      counterexample: fc.stringify(killer.value),
      ...(firstRun === undefined ? {} : { path: options.path ?? firstRun }),
      runs: details.numRuns,
      shrinks: 0,
      durationMs: elapsed(),
    };
  }
  const counterexample = details.counterexample?.[0];
  return {
    ...base,
    outcome: 'failed',
    reason: messageOf(details.errorInstance),
    counterexample: fc.stringify(counterexample),
    ...(details.counterexamplePath === null ? {} : { path: details.counterexamplePath }),
    runs: details.numRuns,
    shrinks: details.numShrinks,
    durationMs: elapsed(),
  };
}

/** Waits for the rule's last case to finish, or `ms` at most. */
async function settleWithin<Ctx extends TargetContext>(rule: Rule<Ctx>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([rule.settled(), limit]);
  } finally {
    clearTimeout(timer);
  }
}
