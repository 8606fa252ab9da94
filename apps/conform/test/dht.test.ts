import { DHT } from '@peerkit/kademlia';
import { nodeNetwork } from '@peerkit/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTable } from '../src/framework/report';
import { runDhtSuite } from '../src/suites';

const network = nodeNetwork();
const nodes: DHT[] = [];

beforeAll(async () => {
  // A small network so that the target's routing table has nodes to return.
  for (let i = 0; i < 12; i++) {
    const dht = new DHT({ network, rpc: { ratePerSecond: 100_000, rateBurst: 100_000 } });
    await dht.listen({ host: '127.0.0.1' });
    nodes.push(dht);
  }
  const seed = nodes[0]!.address;
  await Promise.all(nodes.slice(1).map((n) => n.bootstrap([seed])));
  await nodes[0]!.bootstrap([nodes[1]!.address]);
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.close()));
});

describe('dht suite against peerkit', () => {
  it('passes every rule', async () => {
    const report = await runDhtSuite(nodes[0]!.address, { runs: 30, seed: 42 });
    const table = formatTable(report);
    expect(report.ok, table).toBe(true);
    console.log(table);
  });
});

describe('dht suite against peerkit with its default rate limit (20 queries/s per IP)', () => {
  it('passes when the suite paces itself with `rate`', async () => {
    const limited = new DHT({ network });
    await limited.listen({ host: '127.0.0.1' });
    try {
      await limited.bootstrap([nodes[0]!.address]);
      const report = await runDhtSuite(limited.address, {
        runs: 5,
        seed: 5,
        rate: 18,
        only: ['dht.krpc', 'dht.announce_peer'],
      });
      expect(report.ok, formatTable(report)).toBe(true);
    } finally {
      await limited.close();
    }
  });
});
