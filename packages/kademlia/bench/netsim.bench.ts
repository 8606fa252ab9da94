/**
 * Lookups in netsim at 1,000 and 10,000 nodes: rounds (hops), queries sent and virtual time per
 * lookup, and how often the lookup returned the true 8 closest nodes. Links: 10 ms one way.
 */

import { percentile, report } from '@peerkit/dev-kit/bench';
import { Simulation } from '@peerkit/netsim';
import { compareDistance, DHT, toHex } from '../src/index';

async function measure(n: number, lookups: number) {
  const sim = new Simulation({ seed: 42 });
  const t0 = performance.now();
  const nodes = await sim.run(
    async () => {
      const nodes: DHT[] = [];
      for (let i = 0; i < n; i++) {
        const host = sim.addHost();
        const dht = new DHT({ network: host.network });
        await dht.listen({ host: host.address, port: 6881 });
        nodes.push(dht);
      }
      const boot = nodes[0]!.address;
      for (let i = 1; i < n; i += 100) {
        await Promise.all(nodes.slice(i, i + 100).map((d) => d.bootstrap([boot])));
      }
      return nodes;
    },
    { maxTimeMs: 24 * 3600_000 },
  );
  const buildMs = performance.now() - t0;
  const ids = nodes.map((d) => d.id);
  const rounds: number[] = [];
  const queries: number[] = [];
  const virtual: number[] = [];
  let exact = 0;
  await sim.run(async () => {
    await Promise.all(
      Array.from({ length: lookups }, async () => {
        const from = nodes[sim.random.int(n)]!;
        const target = sim.random.bytes(20);
        const start = sim.now;
        const r = await from.runLookup(target);
        virtual.push(sim.now - start);
        rounds.push(r.stats.rounds);
        queries.push(r.stats.queried);
        const truth = ids
          .filter((id) => id !== from.id)
          .sort((a, b) => compareDistance(target, a, b))
          .slice(0, 8)
          .map(toHex);
        const got = new Set(r.closest.map((c) => toHex(c.contact.id)));
        if (truth.every((t) => got.has(t))) exact++;
      }),
    );
    await Promise.all(nodes.map((d) => d.close()));
  });
  return {
    row: [
      n.toLocaleString('en-US'),
      lookups,
      `${((exact / lookups) * 100).toFixed(1)}%`,
      percentile(rounds, 50),
      percentile(rounds, 99),
      percentile(queries, 50),
      percentile(queries, 99),
      percentile(virtual, 50),
      percentile(virtual, 99),
      Math.round(buildMs / 1000),
    ],
  };
}

const sizes = (process.env.KADEMLIA_BENCH_SIZES ?? '1000,10000').split(',').map(Number);
const rows = [];
for (const n of sizes) rows.push((await measure(n, 200)).row);
report({
  package: '@peerkit/kademlia',
  name: 'netsim-lookups',
  title: 'find_node lookups in netsim (k = 8, alpha = 3, 10 ms links, no loss)',
  columns: [
    'nodes',
    'lookups',
    'true 8 closest',
    'rounds p50',
    'rounds p99',
    'queries p50',
    'queries p99',
    'virtual ms p50',
    'virtual ms p99',
    'build (real s)',
  ],
  rows,
  notes: ['Rounds = deepest hop queried (seeds from the own table are hop 1).'],
});
