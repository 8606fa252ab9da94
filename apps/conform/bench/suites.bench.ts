/**
 * What the rule framework costs, and how long the suites take against peerkit's own nodes on
 * loopback. Reference, measured in the same run: bare KRPC ping round trips through a probe
 * socket. A `dht.ping.response` case is two round trips (the ping it checks and the liveness
 * ping).
 */

import { rateAsync, report } from '@peerkit/dev-kit/bench';
import { GossipNode } from '@peerkit/gossip';
import { DHT } from '@peerkit/kademlia';
import { KrpcProbe } from '@peerkit/kademlia/conformance';
import { Torrent, torrentInfoFromMetainfo } from '@peerkit/piece-exchange';
import { nodeNetwork } from '@peerkit/transport';
import { runDhtSuite, runGossipSuite, runPeerSuite } from '../src/suites';
import { torrentOnDisk } from '../test/fixtures';

const network = nodeNetwork();
const RUNS = 50;

async function main(): Promise<void> {
  const nodes: DHT[] = [];
  for (let i = 0; i < 12; i++) {
    const dht = new DHT({ network, rpc: { ratePerSecond: 1e6, rateBurst: 1e6 } });
    await dht.listen({ host: '127.0.0.1' });
    nodes.push(dht);
  }
  await Promise.all(nodes.slice(1).map((n) => n.bootstrap([nodes[0]!.address])));
  const target = nodes[0]!.address;

  // Reference: bare ping round trips through the same kind of probe socket.
  const probe = await KrpcProbe.open(network, target, '127.0.0.1');
  const id = network.random.bytes(20);
  let n = 0;
  const bare = () =>
    rateAsync(async () => {
      n = (n + 1) & 0xffff;
      await probe.exchange(
        { t: new Uint8Array([n >> 8, n & 0xff]), y: 'q', q: 'ping', a: { id } },
        1000,
      );
    }, 2000);
  // The framework: cases per second of one rule (each case: its ping, then the liveness ping).
  const framework = async () => {
    const t0 = performance.now();
    const r = await runDhtSuite(target, { runs: 2000, seed: 1, only: ['dht.ping.response'] });
    return (r.results[0]!.runs * 1000) / (performance.now() - t0);
  };
  // Interleaved, best of two each, so that neither side gets the cold start.
  await framework();
  const pings = Math.max(await bare(), await bare());
  const pingCases = Math.max(await framework(), await framework());
  await probe.close();

  const suite = async (
    name: string,
    run: () => Promise<{ results: { runs: number }[]; ok: boolean }>,
  ) => {
    const start = performance.now();
    const r = await run();
    const s = (performance.now() - start) / 1000;
    const cases = r.results.reduce((a, x) => a + x.runs, 0);
    return [name, r.results.length, cases, s, cases / s, r.ok ? 'all passed' : 'FAILURES'];
  };

  const rows = [];
  rows.push(
    await suite('dht (peerkit DHT, 12 nodes)', () => runDhtSuite(target, { runs: RUNS, seed: 2 })),
  );

  const fixture = await torrentOnDisk('bench.bin', 4 * 32_768 + 20_001, 32_768);
  const seeder = await Torrent.open({
    network,
    directory: fixture.directory,
    info: torrentInfoFromMetainfo(fixture.metainfo),
    recheck: true,
    resume: false,
    listen: { host: '127.0.0.1' },
  });
  rows.push(
    await suite('peer (peerkit seeder, 5 pieces)', () =>
      runPeerSuite(seeder.listenAddress!, fixture.metainfo, {
        runs: RUNS,
        seed: 2,
        timeoutMs: 3000,
      })),
  );
  await seeder.close();
  fixture.remove();

  const gossip = await GossipNode.create(network, {
    listen: { host: '127.0.0.1' },
    heartbeatIntervalMs: 200,
  });
  gossip.subscribe('bench');
  rows.push(
    await suite('gossip (peerkit node, 200 ms heartbeat)', () =>
      runGossipSuite(gossip.address!, { runs: RUNS, seed: 2 })),
  );
  await gossip.close();
  await Promise.all(nodes.map((d) => d.close()));

  report({
    package: '@peerkit/conform',
    name: 'framework',
    title: 'rule framework cost (loopback, peerkit DHT)',
    columns: ['measure', 'per second'],
    rows: [
      ['bare KRPC ping round trips (reference)', pings],
      ['dht.ping.response cases', pingCases],
      ['round trips inside those cases (2 per case)', 2 * pingCases],
    ],
    notes: [
      `Round trips inside rule cases run at ${Math.round((100 * 2 * pingCases) / pings)}% of a bare request/answer loop on the same kind of socket: the rest is fast-check generating cases, the checks and the liveness ping's bookkeeping.`,
    ],
  });
  report({
    package: '@peerkit/conform',
    name: 'suites',
    title: `whole suites against peerkit's nodes, ${RUNS} cases per rule`,
    columns: ['suite', 'rules', 'cases', 'seconds', 'cases/s', 'result'],
    rows,
    notes: [
      'The peer suite waits up to 0.5–1 s per case in the rules that check that nothing comes (choked requests without the fast extension).',
    ],
  });
}

await main();
