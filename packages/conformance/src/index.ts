/**
 * `@peerkit/conformance`: the rule framework every protocol package builds its conformance
 * suite on, and `peerkit-conform` runs over real sockets.
 *
 * A rule is one sentence of a spec turned into a fast-check property against a live target: an
 * id (`dht.ping.echo-t`), the spec sentence it checks, an applicability check, an arbitrary of
 * cases (valid, edge-case and malformed) and an async check of one case. `runRules` runs a
 * suite's rules with one seed, shrinks each failure to a minimal case and reports the seed and
 * path that replay it. `describeRules` in `@peerkit/conformance/testing` runs the same rules as
 * vitest tests.
 *
 * This entry imports fast-check but not vitest, so command-line tools can use it.
 */
export {
  defineRule,
  ensure,
  type Rule,
  type RuleDefinition,
  RuleViolation,
  type SpecCitation,
  type TargetContext,
  TargetDown,
} from './rule';
export {
  DEFAULT_RUNS,
  type Outcome,
  type RuleResult,
  type RunOptions,
  randomSeed,
  runRules,
  type SuiteReport,
  selects,
} from './runner';
export { Wakeup } from './wakeup';
