/**
 * The DHT conformance suite (`dhtRules`) on loopback UDP: every rule passes against peerkit's
 * own node (IPv4, and the family-dependent rules over IPv6), and a silent address fails every
 * rule. The same rules in netsim are in `conformance.netsim.test.ts`.
 */

import { runRules } from '@peerkit/conformance';
import { type Address, nodeNetwork } from '@peerkit/transport';
import { afterAll, describe, expect, it } from 'vitest';
import { DHT } from '../src/index';
import { describeKrpcCompliance, dhtRules, openDhtContext } from '../src/testing';

const network = nodeNetwork();
const nodes: DHT[] = [];

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.close()));
});

/** `count` peerkit nodes on `host`, bootstrapped from the first; the first one's address. */
async function smallNetwork(host: string, count: number): Promise<Address> {
  const started: DHT[] = [];
  for (let i = 0; i < count; i++) {
    // The suite sends hundreds of queries from one IP: lift the per-IP rate limit.
    const dht = new DHT({ network, rpc: { ratePerSecond: 100_000, rateBurst: 100_000 } });
    await dht.listen({ host });
    started.push(dht);
    nodes.push(dht);
  }
  const first = started[0]!;
  await Promise.all(started.slice(1).map((n) => n.bootstrap([first.address])));
  await first.bootstrap([started[1]!.address]);
  return first.address;
}

// A node with contacts, so that the find_node rules have nodes to compare.
// Seed: CONFORM_SEED, else fixed under CI, else random (a failure prints the one to replay).
describeKrpcCompliance('peerkit DHT on loopback UDP', () => smallNetwork('127.0.0.1', 6), {
  runs: 10,
});

describe('dhtRules against peerkit over IPv6 loopback', () => {
  it('"nodes6" and 18-byte peers (BEP 32) pass the node and peer rules', async () => {
    const address = await smallNetwork('::1', 4);
    const ctx = await openDhtContext(network, address, { timeoutMs: 2_000 });
    try {
      const report = await runRules('dht', '[::1]', dhtRules, ctx, {
        runs: 5,
        seed: 6,
        only: ['dht.find_node', 'dht.get_peers', 'dht.announce_peer'],
      });
      const outcomes = Object.fromEntries(report.results.map((r) => [r.id, r.outcome]));
      expect(outcomes, JSON.stringify(report.results, null, 1)).toEqual({
        'dht.find_node.nodes': 'passed',
        'dht.find_node.k': 'passed',
        'dht.find_node.closest': 'passed',
        'dht.find_node.exact': 'passed',
        'dht.get_peers.response': 'passed',
        'dht.announce_peer.stored': 'passed',
        'dht.announce_peer.token-ip': 'not-applicable', // needs a second IPv4 loopback address
        'dht.announce_peer.bad-token': 'passed',
      });
    } finally {
      await ctx.close();
    }
  });
});

describe('dhtRules against an address where nobody answers', () => {
  it('fails every rule, quickly', async () => {
    const silent = await network.bindDatagram({ host: '127.0.0.1' });
    const ctx = await openDhtContext(network, silent.localAddress, { timeoutMs: 50 });
    try {
      const started = performance.now();
      const report = await runRules('dht', 'silent', dhtRules, ctx, { runs: 5, seed: 1 });
      expect(report.results.map((r) => r.id)).toEqual(dhtRules.map((r) => r.id));
      expect(report.results.every((r) => r.outcome === 'failed' && r.reason)).toBe(true);
      expect(report.ok).toBe(false);
      expect(performance.now() - started).toBeLessThan(10_000);
    } finally {
      await ctx.close();
      await silent.close();
    }
  });
});
