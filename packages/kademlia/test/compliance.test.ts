import { nodeNetwork } from '@peerkit/transport';
import { afterAll, describe, expect, it } from 'vitest';
import { DHT } from '../src/index';
import { describeKrpcCompliance, runKrpcCompliance } from '../src/testing';

const network = nodeNetwork();
const node = new DHT({ network });
afterAll(() => node.close());

describeKrpcCompliance('peerkit DHT on loopback UDP', async () => {
  await node.listen({ host: '127.0.0.1' });
  return node.address;
});

describe('runKrpcCompliance', () => {
  it('reports every rule failing against an address where nobody answers', async () => {
    const silent = await network.bindDatagram({ host: '127.0.0.1', port: 0 });
    const results = await runKrpcCompliance(silent.localAddress, { timeoutMs: 50 });
    await silent.close();
    expect(results.length).toBeGreaterThan(5);
    expect(results.every((r) => !r.ok && r.error)).toBe(true);
  });
});
