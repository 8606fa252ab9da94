/**
 * GossipSub vs plain flooding in netsim: the same 1,000-node topology (same seed, same
 * bootstrap lists), 100 publishes from random nodes, every node subscribed. Reports delivery
 * ratio, p50/p99 delivery latency (virtual ms) and hops, and duplicates received per delivered
 * message. Run: `pnpm bench netsim` (env NODES, PUBLISHES, DEGREE to vary).
 */

import { percentile, report } from '@peerkit/dev-kit/bench';
import { type SimHost, Simulation } from '@peerkit/netsim';
import type { GossipOptions } from '../src/index';
import { idKey, pickBootstrap, type SimNode, startNode } from '../test/helpers/net';

const NODES = Number(process.env.NODES ?? 1000);
const PUBLISHES = Number(process.env.PUBLISHES ?? 100);
const DEGREE = Number(process.env.DEGREE ?? 15);
const SEED = Number(process.env.NETSIM_SEED ?? 2026);
const TOPIC = 'bench';

interface Result {
  name: string;
  delivery: number;
  latencyP50: number;
  latencyP99: number;
  hopsP50: number;
  hopsP99: number;
  duplicatesPerDelivery: number;
  sentPerDelivery: number;
  wallSeconds: number;
}

async function run(name: string, options: GossipOptions): Promise<Result> {
  const wall = performance.now();
  const sim = new Simulation({ seed: SEED, link: { latency: 20, jitter: 10 } });
  const hosts: SimHost[] = Array.from({ length: NODES }, () => sim.addHost());
  const nodes: SimNode[] = [];
  for (let i = 0; i < NODES; i++) {
    const boot = pickBootstrap(sim, hosts, i, DEGREE);
    nodes.push(await startNode(sim, hosts[i] as SimHost, boot, options));
  }
  for (const sn of nodes) sn.node.subscribe(TOPIC);
  await sim.runFor(5_000);
  const byKey = new Map(nodes.map((sn) => [sn.node.peerKey, sn]));
  const published: { key: string; at: number; publisher: SimNode }[] = [];
  for (let i = 0; i < PUBLISHES; i++) {
    const publisher = nodes[sim.random.int(NODES)] as SimNode;
    const { id } = publisher.node.publish(TOPIC, new TextEncoder().encode(`bench message ${i}`));
    published.push({ key: idKey(id), at: sim.now, publisher });
    await sim.runFor(100);
  }
  await sim.runFor(5_000);
  const latencies: number[] = [];
  const hops: number[] = [];
  let delivered = 0;
  for (const { key, at, publisher } of published) {
    const memo = new Map<SimNode, number>([[publisher, 0]]);
    const hopsOf = (sn: SimNode, depth = 0): number => {
      const known = memo.get(sn);
      if (known !== undefined) return known;
      const source = byKey.get(sn.source.get(key) ?? '');
      const h = source === undefined || depth > NODES ? Number.NaN : hopsOf(source, depth + 1) + 1;
      memo.set(sn, h);
      return h;
    };
    for (const sn of nodes) {
      if (sn === publisher) continue;
      const first = sn.firstAt.get(key);
      if (first === undefined) continue;
      delivered++;
      latencies.push(first - at);
      hops.push(hopsOf(sn));
    }
  }
  let duplicates = 0;
  let sent = 0;
  for (const sn of nodes) {
    duplicates += sn.node.stats.duplicates;
    sent += sn.node.stats.sent;
  }
  await Promise.all(nodes.map((sn) => sn.node.close()));
  latencies.sort((a, b) => a - b);
  hops.sort((a, b) => a - b);
  return {
    name,
    delivery: delivered / (PUBLISHES * (NODES - 1)),
    latencyP50: percentile(latencies, 50),
    latencyP99: percentile(latencies, 99),
    hopsP50: percentile(hops, 50),
    hopsP99: percentile(hops, 99),
    duplicatesPerDelivery: duplicates / delivered,
    sentPerDelivery: sent / delivered,
    wallSeconds: (performance.now() - wall) / 1000,
  };
}

const gossip = await run('gossipsub (D=6)', {});
const flood = await run('flooding (same topology)', { flood: true, floodPublish: true });
const rows = [gossip, flood].map((r) => [
  r.name,
  `${(r.delivery * 100).toFixed(2)}%`,
  r.latencyP50,
  r.latencyP99,
  r.hopsP50,
  r.hopsP99,
  r.duplicatesPerDelivery,
  r.sentPerDelivery,
  r.wallSeconds,
]);
report({
  package: '@peerkit/gossip',
  name: 'netsim',
  title: `netsim, ${NODES} nodes (about ${2 * DEGREE} connections each, 20±10 ms links), ${PUBLISHES} publishes`,
  columns: [
    'router',
    'delivery',
    'p50 latency (virtual ms)',
    'p99 latency (virtual ms)',
    'p50 hops',
    'p99 hops',
    'duplicates / delivered',
    'sent / delivered',
    'wall s',
  ],
  rows,
  notes: [
    `goals: 100% delivery; duplicates <= 1/3 of flooding's (${(gossip.duplicatesPerDelivery / flood.duplicatesPerDelivery).toFixed(2)}); p99 <= 1.5x flooding's (${(gossip.latencyP99 / flood.latencyP99).toFixed(2)}x). seed ${SEED}`,
  ],
});
