/**
 * The DHT rule set in netsim: the rules wait only through the network's clock, so a timeout
 * costs no wall-clock time. Against peerkit's node every rule passes (the token-IP rule with a
 * second probing host); against a node that answers only `ping`, every rule that needs an
 * answer fails and only the rules that allow ignoring a query pass.
 */
import { type SimHost, Simulation } from '@peerkit/netsim';
import { runRules, type SuiteReport } from '@peerkit/transport/conformance';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, type KrpcMessage } from '../src/index';
import { dhtRules, openDhtContext } from '../src/testing';
import { buildTestnet } from './helpers/testnet';

/** Opens a context on `prober` (with `other` as the second source IP) and runs every rule. */
async function runFrom(
  prober: SimHost,
  other: SimHost,
  target: { host: string; port: number },
  seed: number,
): Promise<SuiteReport> {
  const ctx = await openDhtContext(prober.network, target, {
    timeoutMs: 500,
    localHost: prober.address,
    otherSource: { network: other.network, host: other.address },
  });
  try {
    return await runRules('dht', 'netsim', dhtRules, ctx, { runs: 10, seed });
  } finally {
    await ctx.close();
  }
}

const outcomesOf = (report: SuiteReport) =>
  Object.fromEntries(report.results.map((r) => [r.id, r.outcome]));

describe('dhtRules in netsim', () => {
  it('pass against peerkit in a 20-node network', async () => {
    const sim = new Simulation({ seed: 11 });
    const report = await sim.run(async () => {
      const nodes = await buildTestnet(sim, 20, {
        rpc: { ratePerSecond: 100_000, rateBurst: 100_000 },
      });
      const report = await runFrom(sim.addHost(), sim.addHost(), nodes[0]!.address, 11);
      await Promise.all(nodes.map((n) => n.close()));
      return report;
    });
    expect(report.results.filter((r) => r.outcome !== 'passed')).toEqual([]);
    expect(report.results.length).toBe(dhtRules.length);
  });

  it('pass only where ignoring a query is allowed, against a node that answers only ping', async () => {
    const sim = new Simulation({ seed: 12 });
    const report = await sim.run(async () => {
      const host = sim.addHost();
      const id = host.network.random.bytes(20);
      const socket = await host.network.bindDatagram({ host: host.address, port: 6881 });
      socket.onMessage((data, from) => {
        let m: KrpcMessage;
        try {
          m = decodeMessage(data);
        } catch {
          return;
        }
        if (m.y === 'q' && m.q === 'ping') {
          socket.send(encodeMessage({ t: m.t, y: 'r', r: { id } }), from);
        }
      });
      const report = await runFrom(sim.addHost(), sim.addHost(), socket.localAddress, 12);
      await socket.close();
      return report;
    });
    expect(outcomesOf(report)).toEqual({
      'dht.krpc.transaction-id': 'failed', // find_node and get_peers are not answered
      'dht.ping.response': 'passed',
      'dht.find_node.nodes': 'failed',
      'dht.find_node.k': 'failed',
      'dht.find_node.closest': 'failed',
      'dht.find_node.exact': 'failed',
      'dht.get_peers.response': 'failed',
      'dht.announce_peer.stored': 'failed',
      'dht.announce_peer.token-ip': 'failed',
      'dht.announce_peer.bad-token': 'failed',
      // "error 203 or no answer", "error 204 or no answer", "only valid KRPC, if anything".
      'dht.krpc.malformed-query': 'passed',
      'dht.krpc.unknown-method': 'passed',
      'dht.krpc.garbage': 'passed',
      // No "get" answered with a token: the node does not support BEP 44.
      'dht.bep44.immutable': 'not-applicable',
      'dht.bep44.bad-bencoding': 'not-applicable',
      'dht.bep44.signature': 'not-applicable',
      'dht.bep44.sequence': 'not-applicable',
    });
    for (const r of report.results.filter((x) => x.outcome === 'failed')) {
      expect(r.reason).toMatch(/^no answer to (find_node|get_peers)/);
    }
  });
});
