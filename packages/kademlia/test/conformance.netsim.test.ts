/**
 * The DHT rule set in netsim: the rules wait only through the network's clock, so a timeout
 * costs no wall-clock time. Against peerkit's node every rule passes (the token-IP rule with a
 * second probing host); against a node that answers only `ping`, every rule that needs an
 * answer fails and only the rules that allow ignoring a query pass. Against nodes that get BEP 51
 * wrong in one way each, `dht.bep51.samples` fails with that reason.
 */
import { encode } from '@peerkit/bencode';
import { runRules, type SuiteReport } from '@peerkit/conformance';
import { type SimHost, Simulation } from '@peerkit/netsim';
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
      // sample_infohashes is not answered: the node does not support BEP 51.
      'dht.bep51.samples': 'not-applicable',
    });
    for (const r of report.results.filter((x) => x.outcome === 'failed')) {
      expect(r.reason).toMatch(/^no answer to (find_node|get_peers)/);
    }
  });
});

describe('dht.bep51.samples against nodes that get BEP 51 wrong (netsim)', () => {
  /**
   * A node that answers ping, get_peers (with a token) and announce_peer, and answers
   * sample_infohashes with `r` from `answer` (undefined: as if it were find_node, no samples).
   */
  async function runAgainst(seed: number, answer: (announced: number) => Record<string, unknown>) {
    const sim = new Simulation({ seed });
    return sim.run(async () => {
      const host = sim.addHost();
      const id = host.network.random.bytes(20);
      const socket = await host.network.bindDatagram({ host: host.address, port: 6881 });
      let announced = 0;
      socket.onMessage((data, from) => {
        let m: KrpcMessage;
        try {
          m = decodeMessage(data);
        } catch {
          return;
        }
        if (m.y !== 'q') return;
        const reply = (r: Record<string, unknown>) =>
          socket.send(encode({ t: m.t, y: 'r', r: { id, ...r } }), from);
        if (m.q === 'ping') reply({});
        if (m.q === 'get_peers') reply({ token: 'tk', nodes: new Uint8Array(0) });
        if (m.q === 'announce_peer') {
          announced++;
          reply({});
        }
        if (m.q === 'sample_infohashes') reply(answer(announced));
      });
      const prober = sim.addHost();
      const ctx = await openDhtContext(prober.network, socket.localAddress, {
        timeoutMs: 500,
        localHost: prober.address,
      });
      try {
        const report = await runRules('dht', 'netsim', dhtRules, ctx, {
          runs: 5,
          seed,
          only: ['dht.bep51'],
        });
        return report.results[0]!;
      } finally {
        await ctx.close();
        await socket.close();
      }
    });
  }
  const empty = new Uint8Array(0);

  it('fails a node whose samples are not whole info-hashes, or whose num stays 0', async () => {
    const ragged = await runAgainst(21, () => ({
      interval: 60,
      num: 2,
      samples: new Uint8Array(30),
      nodes: empty,
    }));
    expect(ragged).toMatchObject({ outcome: 'failed' });
    expect(ragged.reason).toMatch(/samples is 30 bytes, not a multiple of 20/);
    const forgetful = await runAgainst(22, () => ({
      interval: 60,
      num: 0,
      samples: empty,
      nodes: empty,
    }));
    expect(forgetful).toMatchObject({ outcome: 'failed' });
    expect(forgetful.reason).toMatch(/after announcing .*"num" is 0/);
  });

  it('fails an interval beyond 21600 s or a sample missing the only stored info-hash', async () => {
    const slow = await runAgainst(23, (n) => ({
      interval: 86_400,
      num: n,
      samples: empty,
      nodes: empty,
    }));
    expect(slow.reason).toMatch(/"interval" is 86400, outside 0-21600/);
    const wrong = await runAgainst(24, (n) => ({
      interval: 0,
      num: Math.min(n, 1),
      samples: n > 0 ? new Uint8Array(20).fill(7) : empty,
      nodes: empty,
    }));
    expect(wrong.reason).toMatch(/holds all 1 stored info-hashes \("num"\), but not this one/);
  });

  it('is not applicable to a node that answers like find_node (no samples)', async () => {
    const findNodeLike = await runAgainst(25, () => ({ nodes: empty }));
    expect(findNodeLike).toMatchObject({ outcome: 'not-applicable' });
    expect(findNodeLike.reason).toMatch(/without "samples"/);
  });
});
