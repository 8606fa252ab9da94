import { GossipNode } from '@peerkit/gossip';
import { gossipRules } from '@peerkit/gossip/conformance';
import { nodeNetwork } from '@peerkit/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTable } from '../src/framework/report';
import { runGossipSuite } from '../src/suites';

const network = nodeNetwork();
let node: GossipNode;

beforeAll(async () => {
  node = await GossipNode.create(network, {
    listen: { host: '127.0.0.1' },
    heartbeatIntervalMs: 200,
  });
  node.subscribe('conform');
});

afterAll(async () => {
  await node.close();
});

describe('gossip suite against a peerkit gossip node', () => {
  it('passes every rule; only gossip.publish (the CLI cannot make a node publish) does not apply', async () => {
    const report = await runGossipSuite(node.address!, { runs: 15, seed: 42, timeoutMs: 2_000 });
    const table = formatTable(report);
    console.log(table);
    expect(report.ok, table).toBe(true);
    expect(report.results.map((r) => r.id)).toEqual(gossipRules.map((r) => r.id));
    const outcomes = Object.fromEntries(report.results.map((r) => [r.id, r.outcome]));
    for (const rule of gossipRules) {
      expect(outcomes[rule.id], rule.id).toBe(
        rule.id === 'gossip.publish' ? 'not-applicable' : 'passed',
      );
    }
  });
});
