import { replayHint, Simulation, seedFromEnv } from '@peerkit/netsim';
import { afterEach, describe, expect, it } from 'vitest';
import { createMutableItem, DHT, generateKeyPair, mutableTarget, toHex } from '../src/index';
import { buildTestnet } from './helpers/testnet';

let seed = 0;
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') console.error(`replay with ${replayHint(seed)}`);
});

describe('DHT in netsim (small network)', () => {
  it('bootstraps, announces, finds peers, puts and gets items', async () => {
    seed = seedFromEnv();
    const sim = new Simulation({ seed });
    await sim.run(
      async () => {
        const nodes = await buildTestnet(sim, 40);
        for (const n of nodes) expect(n.table.size).toBeGreaterThan(5);
        const infoHash = sim.random.bytes(20);
        const a = nodes[3]!;
        const b = nodes[27]!;
        const res = await a.announce(infoHash, 7000);
        expect(res.announced).toBeGreaterThan(4);
        const peers = await b.getPeers(infoHash);
        expect(peers).toContainEqual({ host: a.address.host, port: 7000 });

        const put = await a.put({ value: 'hello' });
        expect(put.stored).toBeGreaterThan(4);
        const got = await b.get(put.target);
        expect(Buffer.from(got!.v).toString()).toBe('5:hello');

        const keyPair = generateKeyPair();
        const salt = new TextEncoder().encode('s');
        const m1 = createMutableItem({ keyPair, value: { n: 1 }, seq: 1, salt });
        await a.put(m1);
        const m2 = createMutableItem({ keyPair, value: { n: 2 }, seq: 2, salt });
        await nodes[10]!.put(m2);
        const target = mutableTarget(keyPair.publicKey, salt);
        const latest = await b.get(target, { salt });
        expect(latest?.seq).toBe(2);
        expect(toHex(latest!.v)).toBe(toHex(m2.v));
        // BEP 44 CAS: a put expecting the stored seq (2) goes through (mismatches: rpc tests).
        const m3 = createMutableItem({ keyPair, value: { n: 3 }, seq: 3, salt });
        expect((await nodes[11]!.put(m3, { cas: 2 })).stored).toBeGreaterThan(4);
        expect((await b.get(target, { salt }))?.seq).toBe(3);
        await Promise.all(nodes.map((n) => n.close()));
      },
      { maxTimeMs: 30 * 60_000 },
    );
    expect(sim.openResources()).toMatchObject({ datagramSockets: 0, timers: 0 });
  });

  it('works over IPv6 (BEP 32 nodes6) and yields lookup progress events', async () => {
    seed = seedFromEnv();
    const sim = new Simulation({ seed });
    await sim.run(async () => {
      const nodes: DHT[] = [];
      for (let i = 0; i < 25; i++) {
        const host = sim.addHost({ family: 'IPv6' });
        const d = new DHT({ network: host.network });
        await d.listen({ host: host.address, port: 6881 });
        nodes.push(d);
      }
      for (const d of nodes.slice(1)) await d.bootstrap([nodes[0]!.address]);
      for (const d of nodes) expect(d.table.size).toBeGreaterThan(5);
      const infoHash = sim.random.bytes(20);
      await nodes[4]!.announce(infoHash, 7000);
      const types: string[] = [];
      let peersSeen = 0;
      for await (const e of nodes[20]!.lookup(infoHash, { method: 'get_peers' })) {
        types.push(e.type);
        if (e.type === 'peers') peersSeen += e.peers.length;
        if (e.type === 'done') expect(e.closest.length).toBe(8);
      }
      expect(types.find((t) => t !== 'peers')).toBe('query'); // own store first, then queries
      expect(types).toContain('response');
      expect(types.at(-1)).toBe('done');
      expect(peersSeen).toBeGreaterThanOrEqual(1);
      const res = await nodes[1]!.queryNode(nodes[2]!.address, 'find_node', { target: infoHash });
      expect(res.r.nodes6!.length % 38).toBe(0);
      expect(res.r.nodes6!.length).toBeGreaterThan(0);
      await Promise.all(nodes.map((n) => n.close()));
    });
    expect(sim.openResources()).toMatchObject({ datagramSockets: 0, timers: 0 });
  });
});
