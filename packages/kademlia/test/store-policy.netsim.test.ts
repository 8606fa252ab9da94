/**
 * The store policy in netsim (docs/security.md, "DHT"): a node whose peer store is full says so
 * (KRPC error 202) instead of a success reply for an announce it did not keep, so
 * `DHT.announce` counts exactly the nodes that store the peer; once the entries that filled it
 * expire (30 minutes, BEP 5 practice), announces are stored again.
 * A failure prints NETSIM_SEED=<seed>; replay with `NETSIM_SEED=<seed> pnpm vitest run <file>`.
 */
import { replayHint, Simulation, seedFromEnv } from '@peerkit/netsim';
import { afterEach, describe, expect, it } from 'vitest';
import { type DHT, isDHTError, PEER_TTL_MS, randomId } from '../src/index';
import { buildTestnet } from './helpers/testnet';

const seed = seedFromEnv();

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail')
    console.error(`store policy scenario failed: replay with ${replayHint(seed)}`);
});

/** How many of `nodes` store `announcer`'s peer for `infoHash`. */
function storing(nodes: DHT[], infoHash: Uint8Array, port: number): number {
  return nodes.filter((d) => d.store.getPeers(infoHash, 1000).some((p) => p.port === port)).length;
}

describe(`DHT store policy in netsim (seed ${seed})`, () => {
  it('announce counts exactly the nodes that stored the peer, with some stores full', async () => {
    const sim = new Simulation({ seed });
    await sim.run(
      async () => {
        const nodes = await buildTestnet(sim, 40, { store: { maxInfoHashes: 20 } });
        // Fill the stores of a random third of the nodes to their limit.
        const full = nodes.filter(() => sim.random.int(3) === 0);
        for (const d of full) {
          for (let i = 0; i < 20; i++)
            d.store.addPeer(randomId(sim.random), { host: '10.9.9.9', port: 1 + i });
          expect(d.store.infoHashCount).toBe(20);
        }
        for (let round = 0; round < 10; round++) {
          const announcer = nodes[1 + sim.random.int(nodes.length - 1)]!;
          const infoHash = randomId(sim.random);
          const port = 20_000 + round;
          const { announced } = await announcer.announce(infoHash, port);
          // The truth: every node that said yes stores the peer; no full node said yes.
          expect(announced).toBe(storing(nodes, infoHash, port));
          for (const d of full) expect(storing([d], infoHash, port)).toBe(0);
        }
        // Full nodes were asked, and refused out loud (KRPC error 202) instead of lying.
        expect(full.reduce((n, d) => n + d.stats.errorsSent, 0)).toBeGreaterThan(0);
        await Promise.all(nodes.map((d) => d.close()));
      },
      { maxTimeMs: 3_600_000 },
    );
  });

  it('a full store answers announce_peer with error 202, and stores again once entries expire', async () => {
    const sim = new Simulation({ seed: seed + 1 });
    await sim.run(
      async () => {
        const nodes = await buildTestnet(sim, 6, { store: { maxInfoHashes: 5 } });
        const [victim, client] = [nodes[1]!, nodes[2]!];
        for (let i = 0; i < 5; i++)
          victim.store.addPeer(randomId(sim.random), { host: '10.9.9.9', port: 1 + i });
        const infoHash = randomId(sim.random);
        const res = await client.queryNode(victim.address, 'get_peers', { infoHash });
        const token = res.r.token!;
        const refused = await client
          .queryNode(victim.address, 'announce_peer', { infoHash, port: 4000, token })
          .then(
            () => undefined,
            (error: unknown) => error,
          );
        expect(isDHTError(refused, 'REMOTE_ERROR')).toBe(true);
        expect(refused).toMatchObject({ remoteCode: 202 });
        expect(victim.store.getPeers(infoHash)).toEqual([]);
        // The entries that filled the store expire; then the same announce is kept.
        await new Promise<void>((r) => sim.clock.setTimeout(r, PEER_TTL_MS + 1000));
        const fresh = await client.queryNode(victim.address, 'get_peers', { infoHash });
        await client.queryNode(victim.address, 'announce_peer', {
          infoHash,
          port: 4000,
          token: fresh.r.token!,
        });
        expect(victim.store.getPeers(infoHash)).toEqual([
          { host: client.address.host, port: 4000 },
        ]);
        await Promise.all(nodes.map((d) => d.close()));
      },
      { maxTimeMs: 3 * 3_600_000 },
    );
  });
});
