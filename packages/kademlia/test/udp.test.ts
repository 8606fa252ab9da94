/** The same DHT on real UDP sockets (loopback), through runBootstrapNode. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeNetwork } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { DHT, loadState, randomId, runBootstrapNode } from '../src/index';

describe('DHT on real UDP (loopback)', () => {
  it('a bootstrap node serves joins, peers are found, the table is saved on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kademlia-udp-'));
    const network = nodeNetwork();
    const statePath = join(dir, 'boot.json');
    const boot = await runBootstrapNode({ network, host: '127.0.0.1', port: 0, statePath });
    const nodes: DHT[] = [];
    try {
      for (let i = 0; i < 8; i++) {
        const d = new DHT({ network });
        await d.listen({ host: '127.0.0.1' });
        await d.bootstrap([boot.address]);
        nodes.push(d);
      }
      expect(boot.dht.table.size).toBe(8);
      const infoHash = randomId(network.random);
      const { announced } = await nodes[0]!.announce(infoHash, 6881);
      expect(announced).toBeGreaterThanOrEqual(6);
      const peers = await nodes[7]!.getPeers(infoHash);
      expect(peers).toContainEqual({ host: '127.0.0.1', port: 6881 });
    } finally {
      await boot.close();
      await Promise.all(nodes.map((d) => d.close()));
    }
    expect((await loadState(statePath))?.nodes.length).toBe(8);
    // A restart re-bootstraps from the saved table alone.
    const again = await runBootstrapNode({
      network,
      host: '127.0.0.1',
      port: 0,
      statePath,
      rpc: { timeoutMs: 200, retries: 0 },
    });
    expect(again.dht.table.size).toBe(0); // everyone it knew is gone: nothing answered
    await again.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
