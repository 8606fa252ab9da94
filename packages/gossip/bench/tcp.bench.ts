/**
 * Real TCP on loopback: 50 gossip nodes in one process (nodeNetwork), every node subscribed,
 * messages published from random nodes with a bounded window in flight. Reports messages per
 * second delivered to all 49 other nodes, for gossipsub and for flooding over the same
 * topology in the same run. Run: `pnpm bench tcp` (env TCP_NODES, TCP_MESSAGES, TCP_SIZE).
 */
import { randomInt } from 'node:crypto';
import { fmt, report } from '@peerkit/dev-kit/bench';
import { nodeNetwork, sleep } from '@peerkit/transport';
import { GossipNode, type GossipOptions } from '../src/index';

const NODES = Number(process.env.TCP_NODES ?? 50);
const MESSAGES = Number(process.env.TCP_MESSAGES ?? 2000);
const SIZE = Number(process.env.TCP_SIZE ?? 256);
const DEGREE = 5;
const WINDOW = 400;
const TOPIC = 'bench';

/** The same random topology for both runs: node i dials these indexes. */
const topology = Array.from({ length: NODES }, (_, i) => {
  const chosen = new Set<number>();
  while (chosen.size < DEGREE) {
    const j = randomInt(NODES);
    if (j !== i) chosen.add(j);
  }
  return [...chosen];
});

async function run(name: string, options: GossipOptions) {
  const network = nodeNetwork();
  const nodes: GossipNode[] = [];
  for (let i = 0; i < NODES; i++) {
    nodes.push(
      await GossipNode.create(network, { listen: { host: '127.0.0.1', port: 0 }, ...options }),
    );
  }
  let complete = 0;
  const counts = new Map<string, number>();
  for (const node of nodes) {
    node.subscribe(TOPIC);
    node.onMessage((e) => {
      const k = Buffer.from(e.id).toString('latin1');
      const c = (counts.get(k) ?? 0) + 1;
      counts.set(k, c);
      if (c === NODES - 1) {
        complete++;
        counts.delete(k);
      }
    });
  }
  nodes.forEach((node, i) => {
    for (const j of topology[i] ?? [])
      node.connect(nodes[j]?.address as { host: string; port: number }, true);
  });
  await sleep(network.clock, 3500); // connections, then three heartbeats to build the mesh
  const data = new Uint8Array(SIZE);
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  let published = 0;
  const deadline = start + 120_000;
  while (complete < MESSAGES && performance.now() < deadline) {
    while (published < MESSAGES && published - complete < WINDOW) {
      data[0] = published & 0xff;
      data[1] = published >> 8;
      nodes[randomInt(NODES)]?.publish(TOPIC, data.slice());
      published++;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const cpuMicros = (cpu.user + cpu.system) / (complete * (NODES - 1));
  let duplicates = 0;
  for (const node of nodes) duplicates += node.stats.duplicates;
  await Promise.all(nodes.map((n) => n.close()));
  return {
    name,
    rate: complete / seconds,
    complete,
    seconds,
    dup: duplicates / (complete * (NODES - 1)),
    cpuMicros,
  };
}

const gossip = await run('gossipsub (D=6)', {});
const flood = await run('flooding (same topology)', { flood: true });
report({
  package: '@peerkit/gossip',
  name: 'tcp',
  title: `real TCP on loopback, ${NODES} nodes in one process, ${SIZE}-byte messages`,
  columns: [
    'router',
    'messages delivered to all / s',
    'deliveries / s',
    'CPU µs / delivery',
    'duplicates / delivered',
    'messages',
    'seconds',
  ],
  rows: [gossip, flood].map((r) => [
    r.name,
    r.rate,
    r.rate * (NODES - 1),
    r.cpuMicros,
    r.dup,
    `${r.complete}/${MESSAGES}`,
    r.seconds,
  ]),
  notes: [
    `gossipsub / flooding throughput: ${fmt(gossip.rate / flood.rate)}x (same random topology, ${DEGREE} dials per node)`,
  ],
});
