/**
 * Example-based compliance checks from a package's `./testing` entry (a list of
 * `{ name, check(probe) }`, e.g. `krpcComplianceRules` of `@peerkit/kademlia/testing`) run as
 * rules of this framework: each case opens a probe, runs the check once, and closes the probe,
 * so a check is repeated `runs` times with the liveness check after each.
 */
import * as fc from 'fast-check';
import {
  defineRule,
  type Rule,
  RuleViolation,
  type SpecCitation,
  type TargetContext,
} from './rule';

export interface ExampleCheck<Probe> {
  readonly name: string;
  check(probe: Probe): Promise<void>;
}

export interface AdaptOptions<Ctx extends TargetContext, Probe> {
  /** Rule ids become `${prefix}.${index}` (e.g. `kademlia.1`). */
  prefix: string;
  /** The citation for every adapted rule (the checks name their BEP in their own names). */
  cite: (check: ExampleCheck<Probe>) => SpecCitation;
  /** Opens the probe a check talks through. */
  open(ctx: Ctx): Promise<Probe>;
  close(probe: Probe): Promise<void>;
}

export function adaptExampleChecks<Ctx extends TargetContext, Probe>(
  checks: readonly ExampleCheck<Probe>[],
  options: AdaptOptions<Ctx, Probe>,
): Rule<Ctx>[] {
  return checks.map((check, i) =>
    defineRule<Ctx, null>({
      id: `${options.prefix}.${i + 1}`,
      title: check.name,
      cite: options.cite(check),
      cases: () => fc.constant(null),
      async check(ctx) {
        const probe = await options.open(ctx);
        try {
          await check.check(probe);
        } catch (error) {
          throw new RuleViolation(error instanceof Error ? error.message : String(error));
        } finally {
          await options.close(probe);
        }
      },
    }),
  );
}
