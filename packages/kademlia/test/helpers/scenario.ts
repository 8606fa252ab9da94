import type { Simulation } from '@peerkit/netsim';
import { compareDistance, DHT, type DHTOptions, type NodeId, toHex } from '../../src/index';
import { buildTestnet } from './testnet';

/** A built network with liveness bookkeeping, reused across scenario phases. */
export interface ScenarioNet {
  sim: Simulation;
  nodes: DHT[];
  byHost: Map<string, DHT>;
  ids: Map<string, NodeId>;
  up: Set<string>;
  crashedAt: Map<string, number>;
  dht: Omit<DHTOptions, 'network'>;
  stop(): void;
}

export interface LookupStatsSummary {
  success: number;
  total: number;
  rounds: number[];
  messages: number[];
  virtualMs: number[];
  /** Lookups whose own node crashed before they ended (not counted in `total`). */
  abandoned: number;
}

/** Virtual time a scenario lookup may take before the scenario fails (with its seed). */
export const LOOKUP_LIMIT_MS = 5 * 60_000;

/** Builds n nodes (call inside `sim.run`); crashed hosts that restart come back with their state. */
export async function buildScenarioNet(
  sim: Simulation,
  n: number,
  dht: Omit<DHTOptions, 'network'> = {},
): Promise<ScenarioNet> {
  const nodes = await buildTestnet(sim, n, dht);
  const net: ScenarioNet = {
    sim,
    nodes,
    byHost: new Map(nodes.map((d) => [d.address.host, d])),
    ids: new Map(nodes.map((d) => [d.address.host, d.id])),
    up: new Set(nodes.map((d) => d.address.host)),
    crashedAt: new Map(),
    dht,
    stop: () => {},
  };
  net.stop = sim.onFault((fault) => {
    if (fault.kind === 'crash') {
      net.up.delete(fault.host);
      net.crashedAt.set(fault.host, sim.now);
      // The crashed incarnation is gone: its socket is closed and its timers never fire again,
      // so close the old object too (its in-flight lookups end with CLOSED instead of hanging).
      void net.byHost.get(fault.host)?.close();
    }
    if (fault.kind === 'restart') {
      // The node comes back with its saved id and table, as a restarted client would.
      const old = net.byHost.get(fault.host)!;
      const node = new DHT({ network: sim.host(fault.host).network, ...dht, state: old.toState() });
      net.byHost.set(fault.host, node);
      node
        .listen({ host: fault.host, port: 6881 })
        .then(() => node.bootstrap([nodes[0]!.address]))
        .then(() => {
          // Live again once it has joined (and the host did not crash meanwhile).
          if (sim.host(fault.host).isUp && net.byHost.get(fault.host) === node)
            net.up.add(fault.host);
        })
        .catch(() => {});
    }
  });
  return net;
}

/** Starts churn on `fraction` of the nodes (never node 0) and lets it run for `warmupMs` (outside `sim.run`). */
export async function startChurn(
  net: ScenarioNet,
  fraction: number,
  warmupMs: number,
): Promise<void> {
  const churning = net.nodes
    .slice(1, 1 + Math.floor(net.nodes.length * fraction))
    .map((d) => d.address.host);
  net.sim.churn({
    hosts: churning,
    durationMs: 60 * 60_000,
    meanUptimeMs: 5 * 60_000,
    meanDowntimeMs: 2 * 60_000,
  });
  const t0 = performance.now();
  await net.sim.runFor(warmupMs);
  if (process.env.DEBUG_SCENARIO)
    console.log(`churn warm-up: ${Math.round(performance.now() - t0)} ms real`);
}

/**
 * Runs lookups for random targets from random live nodes; a lookup succeeds when its result
 * holds the true k closest nodes among those up for the whole lookup.
 */
export async function runLookups(net: ScenarioNet, count: number): Promise<LookupStatsSummary> {
  const { sim, up, byHost, ids, crashedAt } = net;
  const k = net.dht.k ?? 8;
  const out: LookupStatsSummary = {
    success: 0,
    total: 0,
    rounds: [],
    messages: [],
    virtualMs: [],
    abandoned: 0,
  };
  const runOne = async () => {
    const live = [...up];
    const from = byHost.get(live[sim.random.int(live.length)]!)!;
    const target: NodeId = sim.random.bytes(20);
    const start = sim.now;
    const liveAtStart = [...up];
    const it = from.lookup(target);
    const failedIds = new Set<string>();
    const queriedIds = new Set<string>();
    // A lookup that does not end within LOOKUP_LIMIT_MS of virtual time fails the scenario at
    // once (with the seed), instead of letting the simulation run to its end.
    let timedOut: ((e: Error) => void) | undefined;
    const limit = new Promise<never>((_, reject) => {
      timedOut = reject;
    });
    const timer = sim.clock.setTimeout(() => {
      timedOut?.(
        new Error(
          `lookup from ${from.address.host} (up: ${up.has(from.address.host)}) did not end within ${LOOKUP_LIMIT_MS} ms virtual; replay with NETSIM_SEED=${sim.seed}`,
        ),
      );
    }, LOOKUP_LIMIT_MS);
    const next = () => Promise.race([it.next(), limit]);
    let step = await next().catch((e: unknown) => {
      timer.cancel();
      throw e;
    });
    while (!step.done) {
      const e = step.value;
      if (e.type === 'failure') {
        failedIds.add(toHex(e.to.id));
        if (process.env.DEBUG_SCENARIO && up.has(e.to.address.host))
          console.log(`failure of live node: ${e.error.code} ${e.error.message}`);
      }
      if (e.type === 'query') queriedIds.add(toHex(e.to.id));
      step = await next().catch((e: unknown) => {
        timer.cancel();
        throw e;
      });
    }
    timer.cancel();
    const r = step.value;
    if ((crashedAt.get(from.address.host) ?? -1) >= start) {
      // Our own node crashed mid-lookup: there is no result to judge.
      out.abandoned++;
      return;
    }
    const stable = liveAtStart.filter(
      (h) => up.has(h) && !((crashedAt.get(h) ?? -1) >= start) && h !== from.address.host,
    );
    const got = new Set(r.closest.map((c) => toHex(c.contact.id)));
    // A restarted node that is still joining may answer (it is live, just not counted as
    // joined): the result's joined nodes must then be exactly the closest joined nodes.
    const joinedInResult = [...got].filter((id) => stable.some((h) => toHex(ids.get(h)!) === id));
    const truth = stable
      .map((h) => ids.get(h)!)
      .sort((a, b) => compareDistance(target, a, b))
      .slice(0, got.size === k ? joinedInResult.length : k)
      .map(toHex);
    out.total++;
    if (truth.every((t) => got.has(t)) && truth.length > 0) out.success++;
    else if (process.env.DEBUG_SCENARIO) {
      const missing = truth.filter((t) => !got.has(t));
      console.log(
        `miss: ${missing.map((m) => `rank ${truth.indexOf(m)} queried ${queriedIds.has(m)} failed ${failedIds.has(m)}`).join('; ')} | got ${r.closest.length} stats ${JSON.stringify(r.stats)}`,
      );
    }
    out.rounds.push(r.stats.rounds);
    out.messages.push(r.stats.queried);
    out.virtualMs.push(sim.now - start);
  };
  await Promise.all(Array.from({ length: count }, runOne));
  return out;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

export function summary(r: LookupStatsSummary): string {
  return `${r.success}/${r.total} exact (${r.abandoned} abandoned: origin crashed), median rounds ${median(r.rounds)}, median queries ${median(r.messages)}, median virtual ms ${median(r.virtualMs)}`;
}
