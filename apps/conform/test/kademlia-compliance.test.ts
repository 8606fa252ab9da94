/**
 * @peerkit/kademlia's own live-target compliance checks (`krpcComplianceRules` in its
 * `./testing`) run through this framework, against peerkit's node: the same checks, with
 * repetition and a liveness check after each.
 */
import { DHT } from '@peerkit/kademlia';
import { KrpcProbe, krpcComplianceRules } from '@peerkit/kademlia/testing';
import { nodeNetwork } from '@peerkit/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DhtContext, openDhtContext } from '../src/dht/context';
import { adaptExampleChecks } from '../src/framework/adapt';
import { formatTable } from '../src/framework/report';
import { runRules } from '../src/framework/runner';

const network = nodeNetwork();
const nodes: DHT[] = [];

beforeAll(async () => {
  for (let i = 0; i < 4; i++) {
    const dht = new DHT({ network, rpc: { ratePerSecond: 100_000, rateBurst: 100_000 } });
    await dht.listen({ host: '127.0.0.1' });
    nodes.push(dht);
  }
  await Promise.all(nodes.slice(1).map((n) => n.bootstrap([nodes[0]!.address])));
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.close()));
});

describe('@peerkit/kademlia/testing compliance checks through the rule framework', () => {
  it('pass against peerkit, each repeated', async () => {
    const rules = adaptExampleChecks<DhtContext, KrpcProbe>(krpcComplianceRules, {
      prefix: 'kademlia',
      cite: (check) => ({ spec: 'BEP 5', section: '@peerkit/kademlia/testing', text: check.name }),
      open: (ctx) => KrpcProbe.open(ctx.address, { network, timeoutMs: ctx.timeoutMs }),
      close: (probe) => probe.close(),
    });
    expect(rules.length).toBe(krpcComplianceRules.length);
    const ctx = await openDhtContext(network, nodes[0]!.address, { timeoutMs: 2_000 });
    try {
      const report = await runRules('dht', 'peerkit', rules, ctx, { runs: 3, seed: 1 });
      expect(report.ok, formatTable(report)).toBe(true);
      expect(report.results.every((r) => r.runs === 3)).toBe(true);
    } finally {
      await ctx.close();
    }
  });
});
