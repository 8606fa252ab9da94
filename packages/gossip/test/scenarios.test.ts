/**
 * Whole-network scenarios in netsim (200 nodes in CI). Each prints its seed; replay a failure
 * with `NETSIM_SEED=<seed> pnpm vitest run test/scenarios.test.ts`.
 */
import { replayHint, Simulation, seedFromEnv } from '@peerkit/netsim';
import type { Random, Stream } from '@peerkit/transport';
import { describe, expect, test } from 'vitest';
import { peerKey } from '../src/index';
import { RawPeer } from '../src/testing';
import { buildNetwork, closeAll, idKey, PORT, type SimNode, startNode } from './helpers/net';

const N = 200;

/** A stream whose writes (after the first, the hello) are dropped with probability `p`. */
function lossyStream(stream: Stream, p: number, random: Random): Stream {
  let writes = 0;
  return {
    localAddress: stream.localAddress,
    remoteAddress: stream.remoteAddress,
    closed: stream.closed,
    [Symbol.asyncIterator]: () => stream[Symbol.asyncIterator](),
    write: (data) => {
      if (writes++ > 0 && random.int(1_000_000) < p * 1_000_000) {
        lost++;
        return Promise.resolve();
      }
      return stream.write(data);
    },
    end: () => stream.end(),
    destroy: (error) => stream.destroy(error),
  };
}
let lost = 0;
const TOPIC = 'news';

async function scenario(
  name: string,
  fallbackSeed: number,
  fn: (sim: Simulation) => Promise<void>,
) {
  const seed = seedFromEnv(fallbackSeed);
  console.log(`[${name}] seed ${seed} (replay: ${replayHint(seed)})`);
  const sim = new Simulation({ seed });
  try {
    await fn(sim);
  } catch (error) {
    console.error(`[${name}] failed with seed ${seed}; replay with ${replayHint(seed)}`);
    throw error;
  }
}

/** Publishes `count` messages from random live nodes, `gapMs` apart; returns their ids. */
async function publishSome(sim: Simulation, nodes: SimNode[], count: number, gapMs: number) {
  const published: { key: string; publisher: SimNode }[] = [];
  for (let i = 0; i < count; i++) {
    const live = nodes.filter((n) => n.host.isUp);
    const publisher = live[sim.random.int(live.length)] as SimNode;
    const { id } = publisher.node.publish(TOPIC, new TextEncoder().encode(`message ${i}`));
    published.push({ key: idKey(id), publisher });
    await sim.runFor(gapMs);
  }
  return published;
}

describe('netsim scenarios', () => {
  test(`no loss: every subscriber of ${N} gets every message exactly once`, async () => {
    await scenario('no-loss', 1001, async (sim) => {
      const nodes = await buildNetwork(sim, { n: N, degree: 5, topic: TOPIC });
      await sim.runFor(5_000);
      const published = await publishSome(sim, nodes, 20, 100);
      await sim.runFor(3_000);
      for (const { key, publisher } of published) {
        for (const sn of nodes) {
          if (sn === publisher) continue;
          expect(sn.received.get(key) ?? 0, `node ${sn.host.address}`).toBe(1);
        }
      }
      await closeAll(nodes);
    });
  }, 60_000);

  test('5% loss and 20% of nodes crashed: at least 99% of live subscribers get each message', async () => {
    await scenario('loss-crash', 1002, async (sim) => {
      sim.setDefaultLink({ latency: 20, jitter: 10 });
      // netsim streams are reliable (no packet loss), so the loss is injected at the gossip
      // layer: 5% of all writes after the hello vanish, whole RPCs (messages, GRAFT, IHAVE...).
      const random = sim.random;
      const upgrade = async (stream: Stream) => lossyStream(stream, 0.05, random);
      const nodes = await buildNetwork(sim, {
        n: N,
        degree: 5,
        topic: TOPIC,
        options: { upgrade },
      });
      await sim.runFor(5_000);
      const victims = new Set<number>();
      while (victims.size < N / 5) victims.add(sim.random.int(N));
      for (const i of victims) sim.crash((nodes[i] as SimNode).host);
      await sim.runFor(3_000);
      const published = await publishSome(sim, nodes, 20, 200);
      await sim.runFor(5_000);
      const live = nodes.filter((n) => n.host.isUp);
      expect(lost).toBeGreaterThan(100); // the loss really happened
      let worst = 1;
      for (const { key, publisher } of published) {
        const others = live.filter((n) => n !== publisher);
        const got = others.filter((n) => (n.received.get(key) ?? 0) >= 1).length;
        worst = Math.min(worst, got / others.length);
        expect(got / others.length).toBeGreaterThanOrEqual(0.99);
        expect(others.every((n) => (n.received.get(key) ?? 0) <= 1)).toBe(true);
      }
      console.log(`[loss-crash] ${lost} writes lost; worst delivery ratio ${worst}`);
      await closeAll(live);
    });
  }, 60_000);

  test('a partition that heals delivers messages published after it heals', async () => {
    await scenario('partition', 1003, async (sim) => {
      const nodes = await buildNetwork(sim, {
        n: N,
        degree: 5,
        topic: TOPIC,
        options: { reconnectBackoffMs: 1000, maxReconnectBackoffMs: 8000 },
      });
      await sim.runFor(5_000);
      const half = nodes.slice(0, N / 2).map((n) => n.host);
      sim.partition([half]);
      // Long enough for streams across the cut to time out (netsim: 30 s) and dials to fail.
      await publishSome(sim, nodes, 3, 1000);
      await sim.runFor(40_000);
      sim.heal();
      await sim.runFor(15_000);
      const published = await publishSome(sim, nodes, 10, 200);
      await sim.runFor(3_000);
      for (const { key, publisher } of published) {
        for (const sn of nodes) {
          if (sn === publisher) continue;
          expect(sn.received.get(key) ?? 0, `node ${sn.host.address}`).toBe(1);
        }
      }
      await closeAll(nodes);
    });
  }, 60_000);

  test('a spamming peer and a peer breaking IWANT promises are scored down and graylisted', async () => {
    await scenario('attackers', 1004, async (sim) => {
      const nodes = await buildNetwork(sim, { n: 30, degree: 4, topic: TOPIC });
      const spamHost = sim.addHost();
      const liarHost = sim.addHost();
      await sim.run(
        async () => {
          const wait = (ms: number) => new Promise((r) => sim.clock.setTimeout(() => r(null), ms));
          await wait(3000);
          const targets = nodes.slice(0, 5);
          const spammers: RawPeer[] = [];
          const liars: RawPeer[] = [];
          for (const t of targets) {
            const target = { host: t.host.address, port: PORT };
            spammers.push(await RawPeer.connect(spamHost.network, target));
            liars.push(await RawPeer.connect(liarHost.network, target));
          }
          for (const p of [...spammers, ...liars]) {
            await p.send({ type: 'rpc', subs: [{ topic: TOPIC, subscribe: true }] });
          }
          await wait(100);
          // Spam: messages with signatures that do not verify, 5 per second.
          // Broken promises: IHAVE for ids that it never delivers, each second.
          for (let second = 0; second < 12; second++) {
            for (const p of spammers) {
              const m = p.message(TOPIC, new Uint8Array([second]));
              await p.send({ type: 'rpc', msgs: [{ ...m, data: new Uint8Array([255, second]) }] });
            }
            for (const p of liars) {
              const ids = [Uint8Array.from([second, 1, 2, 3]), Uint8Array.from([second, 4, 5, 6])];
              await p.send({ type: 'rpc', control: { ihave: [{ topic: TOPIC, ids }] } });
            }
            await wait(1000);
          }
          const spamKey = peerKey(spammers[0]?.identity.publicKey as Uint8Array);
          const liarKey = peerKey(liars[0]?.identity.publicKey as Uint8Array);
          for (const t of targets) {
            const spamScore = t.node.score(
              peerKey((spammers[targets.indexOf(t)] as RawPeer).identity.publicKey),
            );
            const liarScore = t.node.score(
              peerKey((liars[targets.indexOf(t)] as RawPeer).identity.publicKey),
            );
            expect(spamScore).toBeLessThan(t.node.options.thresholds.graylistThreshold);
            expect(liarScore).toBeLessThan(t.node.options.thresholds.graylistThreshold);
            expect(t.node.stats.graylisted).toBeGreaterThan(0);
          }
          expect(spamKey).not.toBe(liarKey);
          // Honest peers are never graylisted, and honest traffic still flows.
          for (const sn of nodes) {
            for (const peer of sn.node.peers()) {
              if (nodes.some((o) => o.node.peerKey === peer)) {
                expect(sn.node.isGraylisted(peer)).toBe(false);
              }
            }
          }
          const { id } = (nodes[10] as SimNode).node.publish(TOPIC, new Uint8Array([42]));
          await wait(2000);
          const k = idKey(id);
          expect(nodes.filter((n) => n !== nodes[10]).every((n) => n.received.get(k) === 1)).toBe(
            true,
          );
          for (const p of [...spammers, ...liars]) p.close();
        },
        { maxTimeMs: 120_000 },
      );
      await closeAll(nodes);
    });
  }, 60_000);

  test('a crashed node that restarts is redialled by its peers (reconnect with backoff)', async () => {
    await scenario('restart', 1005, async (sim) => {
      const nodes = await buildNetwork(sim, {
        n: 30,
        degree: 3,
        topic: TOPIC,
        options: { reconnectBackoffMs: 500, maxReconnectBackoffMs: 4000 },
      });
      await sim.runFor(3_000);
      const victim = nodes[7] as SimNode;
      const dialers = nodes.filter(
        (n) => n !== victim && n.node.peers().includes(victim.node.peerKey),
      );
      sim.crash(victim.host);
      await sim.runFor(10_000);
      expect(dialers.every((n) => !n.node.peers().includes(victim.node.peerKey))).toBe(true);
      sim.restart(victim.host);
      // The same host comes back with a new node (new identity) on the same address.
      const reborn = await startNode(sim, victim.host, [], {});
      reborn.node.subscribe(TOPIC);
      await sim.runFor(10_000);
      expect(reborn.node.peers().length).toBeGreaterThan(0);
      const { id } = (nodes[0] as SimNode).node.publish(TOPIC, new Uint8Array([1]));
      await sim.runFor(2_000);
      expect(reborn.received.get(idKey(id))).toBe(1);
      await closeAll([...nodes.filter((n) => n !== victim), reborn]);
    });
  }, 60_000);

  test('a run replays exactly from its seed (same trace hash, same deliveries)', async () => {
    const once = async () => {
      const sim = new Simulation({ seed: 4242 });
      const nodes = await buildNetwork(sim, { n: 30, degree: 3, topic: TOPIC });
      await sim.runFor(3_000);
      await publishSome(sim, nodes, 5, 100);
      await sim.runFor(2_000);
      const stats = nodes.map((n) => `${n.node.stats.delivered}/${n.node.stats.duplicates}`);
      await closeAll(nodes);
      return { hash: sim.trace.hash(), stats: stats.join(' ') };
    };
    const [a, b] = [await once(), await once()];
    expect(a).toEqual(b);
  }, 60_000);
});
