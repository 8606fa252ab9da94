/**
 * Runs the gossip conformance suite from code against a node on loopback TCP, the way
 * `peerkit-conform gossip` does, plus the publish capability only a test that owns the node has.
 * Run: `pnpm exec tsx --conditions=@peerkit/source examples/conformance.ts`.
 */

import { runRules, type SuiteReport } from '@peerkit/conformance';
import { nodeNetwork } from '@peerkit/transport';
import { gossipRules, openGossipContext } from '../src/conformance';
import { GossipNode } from '../src/index';

export async function main(log: (line: string) => void = console.log): Promise<SuiteReport> {
  const network = nodeNetwork();
  // The node under test: any implementation of the wire spec listening on TCP would do.
  const node = await GossipNode.create(network, {
    listen: { host: '127.0.0.1', port: 0 },
    heartbeatIntervalMs: 200, // gossip.ihave waits for a heartbeat
  });
  node.subscribe('chat');
  const address = node.address;
  if (address === undefined) throw new Error('the node listens');
  const ctx = await openGossipContext(network, address, {
    timeoutMs: 2_000,
    topic: 'chat', // optional: by default the first topic the node announces
    publish: (data) => {
      node.publish('chat', data); // optional: without it, gossip.publish is not applicable
    },
  });
  try {
    const report = await runRules('gossip', `127.0.0.1:${address.port}`, gossipRules, ctx, {
      runs: 3,
      seed: 2026,
    });
    for (const r of report.results) {
      log(`${r.outcome.padEnd(14)} ${r.id}${r.reason === undefined ? '' : `: ${r.reason}`}`);
    }
    return report;
  } finally {
    await ctx.close();
    await node.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
