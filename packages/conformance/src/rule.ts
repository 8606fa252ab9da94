/**
 * The rule framework: a rule is one sentence of a spec turned into a fast-check property that
 * talks to a live implementation. A rule has an id (`dht.ping.echo-t`), a title, the spec
 * sentence it checks, an applicability check (does the target support the feature at all?), an
 * arbitrary of cases and an async check of one case against the target.
 *
 * A check fails by throwing (a `RuleViolation` says what the target did wrong); the runner
 * shrinks the case, and reports the seed and path that replay it.
 */
import * as fc from 'fast-check';

/** The spec sentence a rule checks. */
export interface SpecCitation {
  /** Which spec, e.g. `BEP 5` or `peerkit gossip wire spec`. */
  readonly spec: string;
  /** The section within it, e.g. `KRPC Protocol`. */
  readonly section: string;
  /** The sentence (quoted verbatim from the spec). */
  readonly text: string;
}

/** Everything a rule gets about the target it tests. */
export interface TargetContext {
  /** Longest wait for one expected answer, in milliseconds. */
  readonly timeoutMs: number;
  /**
   * Resolves true when the target still answers (a DHT ping, a peer handshake...). Called after
   * every case: a case that kills the target fails its rule.
   */
  alive(): Promise<boolean>;
}

export interface RuleDefinition<Ctx extends TargetContext, Case> {
  readonly id: string;
  readonly title: string;
  readonly cite: SpecCitation;
  /**
   * Resolves `undefined` when the rule applies to this target, or the reason it does not
   * (e.g. "no ut_metadata in the extension handshake"). Default: always applies.
   */
  applies?(ctx: Ctx): Promise<string | undefined>;
  /** The cases to try: valid, edge-case and malformed inputs. */
  cases(ctx: Ctx): fc.Arbitrary<Case>;
  /** Sends one case to the target and checks the answers; throws on a violation. */
  check(ctx: Ctx, value: Case): Promise<void>;
}

/** A rule with its case type hidden, so that rules of one suite fit in one array. */
export interface Rule<Ctx extends TargetContext> {
  readonly id: string;
  readonly title: string;
  readonly cite: SpecCitation;
  applies(ctx: Ctx): Promise<string | undefined>;
  /** The fast-check property of this rule against `ctx` (the check, then the liveness check). */
  property(ctx: Ctx, onDead: (value: unknown) => void): fc.IAsyncProperty<[unknown]>;
  /**
   * Resolves once the case started last has finished. fast-check stops waiting for a case when
   * the rule's time limit passes, but the case keeps running; the runner waits for it, so that
   * its late traffic does not reach the next rule.
   */
  settled(): Promise<void>;
}

/** A violation of a rule by the target: the message says what was expected and what came. */
export class RuleViolation extends Error {
  override readonly name = 'RuleViolation';
}

/** Throws a `RuleViolation` with `message` unless `condition` holds. */
export function ensure(condition: unknown, message: string): asserts condition {
  if (!condition) throw new RuleViolation(message);
}

/** The error thrown when the target stops answering after a case. */
export class TargetDown extends Error {
  override readonly name = 'TargetDown';
}

/**
 * Builds a rule from its definition. The property runs the check, then the liveness check; when
 * the target stopped answering it calls `onDead` with the case that killed it and fails every
 * later case at once (the runner reports the killing case, unshrunk).
 */
export function defineRule<Ctx extends TargetContext, Case>(
  definition: RuleDefinition<Ctx, Case>,
): Rule<Ctx> {
  let lastCase: Promise<void> = Promise.resolve();
  return {
    id: definition.id,
    title: definition.title,
    cite: definition.cite,
    applies: (ctx) => (definition.applies ? definition.applies(ctx) : Promise.resolve(undefined)),
    settled: () => lastCase,
    property(ctx, onDead) {
      let dead = false;
      const cases: fc.Arbitrary<unknown> = definition.cases(ctx);
      return fc.asyncProperty(cases, (value) => {
        const run = runCase(value);
        lastCase = run.then(
          () => {},
          () => {},
        );
        return run;
      });
      async function runCase(value: unknown): Promise<void> {
        if (dead) throw new TargetDown('the target stopped answering during an earlier case');
        let failure: unknown;
        try {
          await definition.check(ctx, value as Case);
        } catch (error) {
          failure = error;
        }
        if (!(await ctx.alive())) {
          dead = true;
          onDead(value);
          throw new TargetDown('the target stopped answering after this case');
        }
        if (failure !== undefined) throw failure;
      }
    },
  };
}
