/**
 * Scenario properties at 1,000 nodes (BEP 5 lookups and announces in netsim). One network is
 * built and reused: first without loss, then with 10% datagram loss and 20% of nodes churning.
 * A failure prints NETSIM_SEED=<seed>; replay with `NETSIM_SEED=<seed> pnpm vitest run <file>`.
 */
import { replayHint, Simulation, seedFromEnv } from '@peerkit/netsim';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DHT, toHex } from '../src/index';
import {
  buildScenarioNet,
  runLookups,
  type ScenarioNet,
  startChurn,
  summary,
} from './helpers/scenario';

const seed = seedFromEnv();
const sim = new Simulation({ seed });
let net: ScenarioNet;
const run = <T>(fn: () => Promise<T>) => sim.run(fn, { maxTimeMs: 24 * 3600_000 });

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail')
    console.error(`scenario failed: replay with ${replayHint(seed)}`);
});

describe(`1,000-node DHT in netsim (seed ${seed})`, () => {
  beforeAll(async () => {
    net = await run(() => buildScenarioNet(sim, 1000));
  });

  afterAll(async () => {
    net.stop();
    await run(() => Promise.all([...net.byHost.values()].map((d) => d.close())));
    expect(sim.openResources().datagramSockets).toBe(0);
  });

  it('lookups find the true 8 closest live nodes in >= 99% of cases without loss', async () => {
    const r = await run(() => runLookups(net, 200));
    console.log(`no loss: ${summary(r)}`);
    expect(r.success / r.total).toBeGreaterThanOrEqual(0.99);
  });

  it('announced peers are found by every other node (sample of 50)', async () => {
    await run(async () => {
      const infoHash = sim.random.bytes(20);
      const announcer = net.nodes[1 + sim.random.int(999)]!;
      const { announced } = await announcer.announce(infoHash, 51413);
      expect(announced).toBeGreaterThanOrEqual(6);
      const askers = Array.from({ length: 50 }, () => net.nodes[sim.random.int(1000)]!).filter(
        (d) => d !== announcer,
      );
      const found = await Promise.all(askers.map((d) => d.getPeers(infoHash)));
      for (const peers of found) {
        expect(peers).toContainEqual({ host: announcer.address.host, port: 51413 });
      }
    });
  });

  it('a flood of announces from one address stays within the store limits', async () => {
    await run(async () => {
      const attacker = net.nodes[2]!;
      const host = sim.addHost();
      const victim = new DHT({
        network: host.network,
        store: { maxInfoHashes: 100, maxPeersPerInfoHash: 20 },
      });
      await victim.listen({ host: host.address, port: 6881 });
      await victim.bootstrap([net.nodes[0]!.address]);
      const limits = victim.store.limits;
      // The attacker asks the victim for tokens and announces 3x more info-hashes than allowed,
      // and 3x more ports per info-hash.
      const rounds = limits.maxInfoHashes * 3;
      let accepted = 0;
      for (let i = 0; i < rounds; i += 20) {
        const batch = Array.from({ length: Math.min(20, rounds - i) }, async () => {
          const infoHash = sim.random.bytes(20);
          const res = await attacker.queryNode(victim.address, 'get_peers', { infoHash });
          const token = res.r.token!;
          try {
            await attacker.queryNode(victim.address, 'announce_peer', {
              infoHash,
              port: 1000,
              token,
            });
            accepted++;
          } catch {
            // Refused (store full) or rate limited: that is the point.
          }
        });
        await Promise.all(batch);
      }
      expect(victim.store.infoHashCount).toBeLessThanOrEqual(limits.maxInfoHashes);
      const one = sim.random.bytes(20);
      const res = await attacker.queryNode(victim.address, 'get_peers', { infoHash: one });
      for (let port = 1; port <= limits.maxPeersPerInfoHash * 3; port++) {
        await attacker
          .queryNode(victim.address, 'announce_peer', { infoHash: one, port, token: res.r.token! })
          .catch(() => {});
      }
      expect(victim.store.getPeers(one, 10_000).length).toBeLessThanOrEqual(
        limits.maxPeersPerInfoHash,
      );
      expect(victim.store.peersStored).toBeLessThanOrEqual(
        limits.maxInfoHashes * limits.maxPeersPerInfoHash,
      );
      expect(accepted).toBeGreaterThan(0);
      await victim.close();
      console.log(
        `flood: ${accepted} announces accepted of ${rounds}, store holds ${victim.store.infoHashCount} info-hashes (${toHex(one).slice(0, 8)})`,
      );
    });
  });

  it('lookups find them in >= 95% of cases with 10% loss and 20% of nodes churning', async () => {
    sim.setDefaultLink({ loss: 0.1 });
    await startChurn(net, 0.2, 4 * 60_000);
    const r = await run(() => runLookups(net, 150));
    console.log(`10% loss, 20% churn: ${summary(r)}`);
    expect(r.success / r.total).toBeGreaterThanOrEqual(0.95);
  }, 180_000);
});
