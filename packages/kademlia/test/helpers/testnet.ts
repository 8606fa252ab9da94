import type { Simulation } from '@peerkit/netsim';
import { DHT, type DHTOptions } from '../../src/index';

export interface TestnetOptions extends Omit<DHTOptions, 'network'> {
  /** Nodes joining at the same time (default 25). */
  batch?: number;
}

/**
 * Builds an n-node DHT in a netsim simulation (call inside `sim.run`): node 0 is the bootstrap
 * node, the others join through it in batches.
 */
export async function buildTestnet(
  sim: Simulation,
  n: number,
  options: TestnetOptions = {},
): Promise<DHT[]> {
  const { batch = 25, ...dhtOptions } = options;
  const nodes: DHT[] = [];
  for (let i = 0; i < n; i++) {
    const host = sim.addHost();
    const dht = new DHT({ network: host.network, ...dhtOptions });
    await dht.listen({ host: host.address, port: 6881 });
    nodes.push(dht);
  }
  const boot = nodes[0]!.address;
  for (let i = 1; i < n; i += batch) {
    await Promise.all(nodes.slice(i, i + batch).map((d) => d.bootstrap([boot])));
  }
  return nodes;
}
