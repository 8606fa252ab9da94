/**
 * A scenario property: under generated link latency/jitter, generated crashes and generated
 * publishers, every live node connected (through live connections) to a publisher receives its
 * message exactly once. Failing cases print their seed through fast-check's counterexample.
 */
import { Simulation } from '@peerkit/netsim';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { buildNetwork, closeAll, idKey, type SimNode } from './helpers/net';

const TOPIC = 'prop';

function component(nodes: SimNode[], from: SimNode): Set<SimNode> {
  const byKey = new Map(nodes.map((n) => [n.node.peerKey, n]));
  const seen = new Set([from]);
  const todo = [from];
  for (let n = todo.pop(); n !== undefined; n = todo.pop()) {
    for (const peer of n.node.peers()) {
      const other = byKey.get(peer);
      if (other?.host.isUp && !seen.has(other)) {
        seen.add(other);
        todo.push(other);
      }
    }
  }
  return seen;
}

test('every live node reachable from the publisher gets each message exactly once', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        seed: fc.integer({ min: 0, max: 2 ** 31 }),
        n: fc.integer({ min: 8, max: 20 }),
        latency: fc.integer({ min: 1, max: 80 }),
        jitter: fc.integer({ min: 0, max: 40 }),
        crashes: fc.integer({ min: 0, max: 3 }),
        publishes: fc.integer({ min: 1, max: 4 }),
      }),
      async (c) => {
        const sim = new Simulation({
          seed: c.seed,
          link: { latency: c.latency, jitter: c.jitter },
        });
        const nodes = await buildNetwork(sim, { n: c.n, degree: 3, topic: TOPIC });
        await sim.runFor(3_000);
        for (let i = 0; i < c.crashes; i++) sim.crash((nodes[sim.random.int(c.n)] as SimNode).host);
        await sim.runFor(2_000);
        const live = nodes.filter((n) => n.host.isUp);
        const published: { key: string; reach: Set<SimNode>; publisher: SimNode }[] = [];
        for (let i = 0; i < c.publishes && live.length > 1; i++) {
          const publisher = live[sim.random.int(live.length)] as SimNode;
          if (publisher.node.subscribers(TOPIC).length === 0) continue;
          const reach = component(nodes, publisher);
          const { id } = publisher.node.publish(TOPIC, new Uint8Array([i]));
          published.push({ key: idKey(id), reach, publisher });
        }
        await sim.runFor(3_000);
        for (const { key, reach, publisher } of published) {
          for (const n of reach) {
            if (n === publisher || !n.host.isUp) continue;
            expect(n.received.get(key), `seed ${c.seed}`).toBe(1);
          }
        }
        await closeAll(live);
      },
    ),
    { numRuns: 40 },
  );
}, 60_000);
