/**
 * `@peerkit/netsim/testing`: fast-check arbitraries for link settings and fault schedules, and
 * a helper that makes a failing simulation print how to replay it.
 *
 * ```ts
 * fc.assert(fc.asyncProperty(fc.integer(), faultScheduleArbitrary(addresses), async (seed, faults) => {
 *   const sim = new Simulation({ seed, trace: 200 });
 *   // ... add hosts, start nodes ...
 *   sim.schedule(faults);
 *   await withReplay(sim, async () => { await sim.runFor(60_000); expect(...).toBe(...); });
 * }));
 * ```
 */
import fc from 'fast-check';
import type { Fault, ScheduledFault } from './faults';
import type { LinkOptions } from './link';
import { replayHint } from './seed';
import type { Simulation } from './simulation';

export interface FaultScheduleOptions {
  /** Faults happen in [0, durationMs). Default 60,000. */
  durationMs?: number;
  /** At most this many faults (before the final repairs). Default 10. */
  maxFaults?: number;
  /** Which kinds to generate. Default all: crash/restart, partition/heal, link. */
  kinds?: readonly ('crash' | 'partition' | 'link')[];
  /**
   * Append repairs at `durationMs`: heal, clear every link override, restart every host that
   * is still down; so that a property can check that the system recovers. Default true.
   */
  repairAtEnd?: boolean;
}

/** Link settings within sane ranges (latency 0-200 ms, loss up to 30 %, ...). */
export function linkOptionsArbitrary(): fc.Arbitrary<LinkOptions> {
  return fc.record(
    {
      latency: fc.integer({ min: 0, max: 200 }),
      jitter: fc.integer({ min: 0, max: 50 }),
      loss: fc.double({ min: 0, max: 0.3, noNaN: true }),
      duplicate: fc.double({ min: 0, max: 0.1, noNaN: true }),
      reorder: fc.double({ min: 0, max: 0.2, noNaN: true }),
      bandwidth: fc.integer({ min: 10_000, max: 100_000_000 }),
    },
    { requiredKeys: [] },
  );
}

/**
 * A schedule of faults over `hosts` (their addresses): crashes and restarts, partitions into
 * groups and heals, degraded or down links. Sorted by time; a restart only follows a crash of
 * the same host. Shrinks towards fewer and simpler faults.
 */
export function faultScheduleArbitrary(
  hosts: readonly string[],
  options: FaultScheduleOptions = {},
): fc.Arbitrary<ScheduledFault[]> {
  const durationMs = options.durationMs ?? 60_000;
  const maxFaults = options.maxFaults ?? 10;
  const kinds = options.kinds ?? ['crash', 'partition', 'link'];
  const repairAtEnd = options.repairAtEnd ?? true;
  if (hosts.length === 0) return fc.constant([]);
  const host = fc.constantFrom(...hosts);
  const time = fc.integer({ min: 0, max: Math.max(0, durationMs - 1) });

  const generators: fc.Arbitrary<Fault>[] = [];
  if (kinds.includes('crash')) {
    // A toggle: crash when up, restart when down (resolved below, in time order).
    generators.push(host.map((h): Fault => ({ kind: 'crash', host: h })));
  }
  if (kinds.includes('partition')) {
    generators.push(
      fc
        .array(fc.integer({ min: 0, max: 2 }), { minLength: hosts.length, maxLength: hosts.length })
        .map((assignment): Fault => {
          const groups: string[][] = [[], [], []];
          for (const [i, g] of assignment.entries()) groups[g]?.push(hosts[i] as string);
          return { kind: 'partition', groups: groups.filter((g) => g.length > 0) };
        }),
      fc.constant<Fault>({ kind: 'heal' }),
    );
  }
  if (kinds.includes('link') && hosts.length >= 2) {
    generators.push(
      fc
        .tuple(host, host, linkOptionsArbitrary(), fc.boolean())
        .filter(([a, b]) => a !== b)
        .map(
          ([from, to, linkOptions, down]): Fault => ({
            kind: 'link',
            from,
            to,
            options: down ? { down: true } : linkOptions,
          }),
        ),
    );
  }
  if (generators.length === 0) return fc.constant([]);

  return fc
    .array(fc.record({ atMs: time, fault: fc.oneof(...generators) }), { maxLength: maxFaults })
    .map((raw) => {
      const sorted = [...raw].sort((a, b) => a.atMs - b.atMs);
      const down = new Set<string>();
      const links: { from: string; to: string }[] = [];
      const out: ScheduledFault[] = sorted.map(({ atMs, fault }) => {
        if (fault.kind === 'crash') {
          if (down.has(fault.host)) {
            down.delete(fault.host);
            return { atMs, fault: { kind: 'restart', host: fault.host } };
          }
          down.add(fault.host);
        }
        if (fault.kind === 'link') links.push({ from: fault.from, to: fault.to });
        return { atMs, fault };
      });
      if (repairAtEnd) {
        if (kinds.includes('partition')) out.push({ atMs: durationMs, fault: { kind: 'heal' } });
        for (const { from, to } of links) {
          out.push({ atMs: durationMs, fault: { kind: 'clear-link', from, to } });
        }
        for (const h of hosts) {
          if (down.has(h)) out.push({ atMs: durationMs, fault: { kind: 'restart', host: h } });
        }
      }
      return out;
    });
}

/**
 * Runs `fn`; if it throws, rethrows an error whose message adds the seed, the replay hint
 * (`NETSIM_SEED=...`), the trace hash and the last `lastEvents` recorded trace events (record
 * them with `new Simulation({ seed, trace: 200 })`).
 */
export async function withReplay<T>(
  sim: Simulation,
  fn: () => Promise<T>,
  lastEvents = 50,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const dump = sim.trace.dump({ last: lastEvents });
    const wrapped = new Error(
      `${message}\n\nnetsim seed ${sim.seed} (replay with ${replayHint(sim.seed)}), ` +
        `virtual time ${sim.now} ms, trace hash ${sim.trace.hash()}\n${dump}`,
      { cause: error },
    );
    throw wrapped;
  }
}
