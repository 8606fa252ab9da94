/**
 * Runs the exported gossip conformance suite (`gossipRules` through `describeGossipCompliance`)
 * against GossipNode: in netsim (virtual time, auto-run) and on real loopback TCP (nodeNetwork).
 * A failure prints the shrunk case and `CONFORM_SEED=...` to replay it.
 */
import { Simulation } from '@peerkit/netsim';
import { nodeNetwork } from '@peerkit/transport';
import { GossipNode } from '../src/index';
import { describeGossipCompliance } from '../src/testing';

const RUNS = 5;

describeGossipCompliance(
  'GossipNode in netsim',
  async () => {
    const sim = new Simulation({ seed: 7 });
    const server = sim.addHost();
    const client = sim.addHost();
    sim.start();
    const node = await GossipNode.create(server.network, {
      listen: { host: server.address, port: 4001 },
    });
    node.subscribe('compliance');
    return {
      network: client.network,
      target: { host: server.address, port: 4001 },
      topic: 'compliance',
      publish: (data) => {
        node.publish('compliance', data);
      },
      close: async () => {
        await node.close();
        await sim.stop();
      },
    };
  },
  { runs: RUNS },
);

describeGossipCompliance(
  'GossipNode on loopback TCP',
  async () => {
    const network = nodeNetwork();
    const node = await GossipNode.create(network, {
      listen: { host: '127.0.0.1', port: 0 },
      // Real time: gossip.ihave waits for a heartbeat (netsim above keeps the default 1 s).
      heartbeatIntervalMs: 200,
    });
    node.subscribe('compliance');
    return {
      network,
      target: node.address as { host: string; port: number },
      topic: 'compliance',
      publish: (data) => {
        node.publish('compliance', data);
      },
      close: () => node.close(),
    };
  },
  { runs: RUNS },
);
