/** Routing-table upkeep of a running node: refresh, persistence, BEP 43 read-only, BEP 42 ids. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Simulation } from '@peerkit/netsim';
import { describe, expect, it } from 'vitest';
import {
  BUCKET_REFRESH_MS,
  DHT,
  isValidNodeIdForIp,
  loadState,
  randomId,
  saveState,
  toHex,
} from '../src/index';
import { buildTestnet } from './helpers/testnet';

const sleep = (sim: Simulation, ms: number) =>
  new Promise<void>((resolve) => sim.clock.setTimeout(resolve, ms));

describe('routing table upkeep', () => {
  it('refreshes buckets left untouched for 15 minutes (js-libp2p#3536)', async () => {
    const sim = new Simulation({ seed: 11 });
    await sim.run(
      async () => {
        const nodes = await buildTestnet(sim, 40);
        const x = nodes[7]!;
        const buckets = x.table.bucketCount;
        expect(buckets).toBeGreaterThan(1);
        await sleep(sim, BUCKET_REFRESH_MS - 2 * 60_000);
        expect(x.table.bucketsToRefresh()).toEqual([]);
        const before = x.stats.queriesSent;
        const stamps = Array.from({ length: buckets }, (_, i) => x.table.lastChanged(i)!);
        await sleep(sim, 4 * 60_000);
        // Every bucket was refreshed (touched), and the refresh sent find_node queries.
        for (let i = 0; i < buckets; i++)
          expect(x.table.lastChanged(i)!).toBeGreaterThan(stamps[i]!);
        expect(x.stats.queriesSent - before).toBeGreaterThanOrEqual(buckets);
        expect(x.table.bucketsToRefresh()).toEqual([]);
        await Promise.all(nodes.map((n) => n.close()));
      },
      { maxTimeMs: 3600_000 },
    );
    expect(sim.openResources()).toMatchObject({ datagramSockets: 0, timers: 0 });
  });

  it('saves its table and re-bootstraps from it after a restart, without bootstrap addresses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kademlia-state-'));
    const file = join(dir, 'dht.json');
    const sim = new Simulation({ seed: 12 });
    try {
      // Real file I/O happens outside sim.run, where virtual time stands still.
      const { nodes, x } = await sim.run(async () => {
        const nodes = await buildTestnet(sim, 40);
        return { nodes, x: nodes[5]! };
      });
      await saveState(file, x.toState());
      const state = await loadState(file);
      expect(state?.id).toBe(toHex(x.id));
      await sim.run(async () => {
        const host = sim.host(x.address.host);
        sim.crash(host);
        sim.restart(host);
        const again = new DHT({ network: host.network, state: state! });
        await again.listen({ host: host.address, port: 6881 });
        expect(toHex(again.id)).toBe(toHex(x.id));
        expect(await again.bootstrap()).toBeGreaterThan(10);
        const found = await again.findNode(randomId(sim.random));
        expect(found.length).toBe(8);
        await again.close();
        await Promise.all(nodes.filter((n) => n !== x).map((n) => n.close()));
      });
      await expect(loadState(join(dir, 'missing.json'))).resolves.toBeUndefined();
      await saveState(join(dir, 'bad.json'), { id: 'zz', nodes: [] });
      await expect(loadState(join(dir, 'bad.json'))).rejects.toMatchObject({
        code: 'INVALID_STATE',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a read-only node (BEP 43) looks up but joins no routing table and answers nothing', async () => {
    const sim = new Simulation({ seed: 14 });
    await sim.run(async () => {
      const nodes = await buildTestnet(sim, 20);
      const host = sim.addHost();
      const ro = new DHT({ network: host.network, readOnly: true });
      await ro.listen({ host: host.address });
      await ro.bootstrap([nodes[0]!.address]);
      expect(ro.table.size).toBeGreaterThan(5);
      for (const n of nodes) expect(n.table.get(ro.id)).toBeUndefined();
      await expect(nodes[1]!.queryNode(ro.address, 'ping')).rejects.toMatchObject({
        code: 'TIMEOUT',
      });
      await ro.close();
      await Promise.all(nodes.map((n) => n.close()));
    });
  });

  it('takes a BEP 42 id once 3 nodes agree on its public IP (never on local addresses)', async () => {
    const sim = new Simulation({ seed: 15 });
    await sim.run(async () => {
      const dhts: DHT[] = [];
      for (let i = 1; i <= 6; i++) {
        const h = sim.addHost({ address: `203.0.113.${i}` });
        const d = new DHT({ network: h.network });
        await d.listen({ host: h.address, port: 6881 });
        dhts.push(d);
      }
      const x = dhts[5]!;
      const oldId = toHex(x.id);
      const changed = new Promise((resolve) => x.once('id', resolve));
      for (const d of dhts.slice(1)) await d.bootstrap([dhts[0]!.address]);
      await changed;
      expect(toHex(x.id)).not.toBe(oldId);
      expect(isValidNodeIdForIp(x.id, '203.0.113.6')).toBe(true);
      expect(x.externalAddress).toEqual({ host: '203.0.113.6', port: 6881 });
      // The rebuilt table still routes.
      expect((await x.findNode(randomId(sim.random))).length).toBe(5);
      await Promise.all(dhts.map((d) => d.close()));
    });
  });
});
