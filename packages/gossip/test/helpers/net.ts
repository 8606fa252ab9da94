/**
 * Builds gossip networks in netsim for the scenario tests and the benchmark: `n` nodes, each
 * listening on port 4001 and bootstrapping to `degree` random others (so each has about
 * 2 × degree connections), all drawing randomness from the simulation's seed.
 */
import type { SimHost, Simulation } from '@peerkit/netsim';
import { type GossipEvent, GossipNode, type GossipOptions } from '../../src/index';

export const PORT = 4001;

export interface SimNode {
  host: SimHost;
  node: GossipNode;
  /** message id (latin1) -> delivery count */
  received: Map<string, number>;
  /** message id (latin1) -> first delivery (virtual ms) */
  firstAt: Map<string, number>;
  /** message id -> propagation source */
  source: Map<string, string>;
}

export interface BuildOptions {
  n: number;
  degree: number;
  options?: GossipOptions;
  topic?: string;
}

export function idKey(id: Uint8Array): string {
  return Buffer.from(id).toString('latin1');
}

export async function startNode(
  sim: Simulation,
  host: SimHost,
  bootstrap: { host: string; port: number }[],
  options: GossipOptions,
): Promise<SimNode> {
  const node = await GossipNode.create(host.network, {
    listen: { host: host.address, port: PORT },
    bootstrap,
    targetPeers: bootstrap.length,
    ...options,
  });
  const sn: SimNode = { host, node, received: new Map(), firstAt: new Map(), source: new Map() };
  node.onMessage((e: GossipEvent) => {
    const k = idKey(e.id);
    const count = (sn.received.get(k) ?? 0) + 1;
    sn.received.set(k, count);
    if (count === 1) {
      sn.firstAt.set(k, sim.now);
      sn.source.set(k, e.from);
    }
  });
  return sn;
}

export function pickBootstrap(sim: Simulation, hosts: SimHost[], i: number, degree: number) {
  const chosen = new Set<number>();
  const max = Math.min(degree, hosts.length - 1);
  while (chosen.size < max) {
    const j = sim.random.int(hosts.length);
    if (j !== i) chosen.add(j);
  }
  return [...chosen].map((j) => ({ host: (hosts[j] as SimHost).address, port: PORT }));
}

export async function buildNetwork(sim: Simulation, b: BuildOptions): Promise<SimNode[]> {
  const hosts = Array.from({ length: b.n }, () => sim.addHost());
  const nodes: SimNode[] = [];
  for (let i = 0; i < b.n; i++) {
    const host = hosts[i] as SimHost;
    nodes.push(await startNode(sim, host, pickBootstrap(sim, hosts, i, b.degree), b.options ?? {}));
  }
  if (b.topic !== undefined) for (const sn of nodes) sn.node.subscribe(b.topic);
  return nodes;
}

export async function closeAll(nodes: SimNode[]): Promise<void> {
  await Promise.all(nodes.map((sn) => sn.node.close()));
}
