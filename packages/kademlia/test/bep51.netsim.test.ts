/**
 * BEP 51 over the network (netsim): the server's `sample_infohashes` answers (sizes, `num`,
 * `interval`, nodes, errors), `DHT.sampleInfohashes` against good and bad nodes, and an indexer
 * that collects every info-hash a node stores across repeated samples.
 */
import { Simulation } from '@peerkit/netsim';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SAMPLE_INTERVAL_S,
  DHT,
  decodeCompactNodes,
  decodeMessage,
  encodeMessage,
  type KrpcMessage,
  type KrpcResponse,
  MAX_RESPONSE_BYTES,
  randomId,
  toHex,
} from '../src/index';
import { buildTestnet } from './helpers/testnet';

const sleep = (sim: Simulation, ms: number) =>
  new Promise<void>((resolve) => sim.clock.setTimeout(resolve, ms));
const fast = { rpc: { ratePerSecond: 100_000, rateBurst: 100_000 } };

describe('sample_infohashes server (BEP 51)', () => {
  it('fills the response up to MAX_RESPONSE_BYTES with samples, with num, interval and nodes', async () => {
    const sim = new Simulation({ seed: 51 });
    await sim.run(async () => {
      const nodes = await buildTestnet(sim, 12, fast);
      const server = nodes[0]!;
      for (let i = 0; i < 2000; i++) {
        server.store.addPeer(sim.random.bytes(20), { host: '10.1.2.3', port: 1 + i });
      }
      const raw = await sim.addHost().network.bindDatagram({ host: '0.0.0.0', port: 9 });
      const replies: { size: number; message: KrpcMessage }[] = [];
      raw.onMessage((data) => replies.push({ size: data.length, message: decodeMessage(data) }));
      const ask = async (a: Record<string, unknown>, t = 'sa') => {
        replies.length = 0;
        raw.send(
          encodeMessage({
            y: 'q',
            t: Buffer.from(t),
            q: 'sample_infohashes',
            a: { id: randomId(sim.random), ...a },
          }),
          server.address,
        );
        await sleep(sim, 100);
        return replies[0]!;
      };
      for (const [a, t] of [
        [{ target: randomId(sim.random) }, 'sa'],
        [{ target: randomId(sim.random), want: ['n4', 'n6'] }, 'sa'],
        [{ target: randomId(sim.random) }, 'a-longer-transaction-id'],
      ] as const) {
        const { size, message } = await ask(a, t);
        expect(message.y).toBe('r');
        const r = (message as KrpcResponse).r;
        expect(size).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
        // As many samples as fit: one more would pass the limit.
        expect(size + 20 + 1).toBeGreaterThan(MAX_RESPONSE_BYTES);
        expect(r.num).toBe(2000);
        expect(r.interval).toBe(DEFAULT_SAMPLE_INTERVAL_S);
        expect(r.samples!.length % 20).toBe(0);
        expect(r.samples!.length / 20).toBeGreaterThan(30);
        expect(r.nodes!.length).toBe(8 * 26);
      }
      // Missing or short target: error 203, as for find_node.
      const missing = await ask({});
      expect(missing.message).toMatchObject({ y: 'e', e: { code: 203 } });
      const short = await ask({ target: new Uint8Array(3) });
      expect(short.message).toMatchObject({ y: 'e', e: { code: 203 } });
      await raw.close();
      await Promise.all(nodes.map((n) => n.close()));
    });
    expect(sim.openResources()).toMatchObject({ datagramSockets: 0, timers: 0 });
  });
});

describe('DHT.sampleInfohashes (BEP 51 client)', () => {
  it('returns interval, num, samples and nodes; empty samples from an empty store', async () => {
    const sim = new Simulation({ seed: 52 });
    await sim.run(async () => {
      const nodes = await buildTestnet(sim, 10, { ...fast, sampleIntervalSeconds: 600 });
      const [a, b] = [nodes[1]!, nodes[2]!];
      const empty = await a.sampleInfohashes(b.address);
      expect(empty).toMatchObject({ interval: 600, num: 0, samples: [] });
      expect(toHex(empty.id)).toBe(toHex(b.id));
      expect(empty.nodes.length).toBeGreaterThan(0);
      const infoHash = randomId(sim.random);
      b.store.addPeer(infoHash, { host: '10.0.0.9', port: 80 });
      const target = randomId(sim.random);
      const one = await a.sampleInfohashes(b.address, target);
      expect(one.num).toBe(1);
      expect(one.samples.map(toHex)).toEqual([toHex(infoHash)]);
      // The nodes are the ones closest to the target, as find_node gives them (without us).
      const found = await a.queryNode(b.address, 'find_node', { target });
      const closest = decodeCompactNodes(found.r.nodes!, 4)
        .map((c) => toHex(c.id))
        .filter((h) => h !== toHex(a.id));
      expect(one.nodes.map((c) => toHex(c.id))).toEqual(closest);
      await expect(a.sampleInfohashes(b.address, new Uint8Array(5))).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
      await Promise.all(nodes.map((n) => n.close()));
    });
  });

  it('rejects with REMOTE_ERROR 204, TIMEOUT, or MALFORMED_MESSAGE from nodes without BEP 51', async () => {
    const sim = new Simulation({ seed: 53 });
    await sim.run(async () => {
      const host = sim.addHost();
      const dht = new DHT({ network: host.network, rpc: { retries: 1, timeoutMs: 500 } });
      await dht.listen({ host: host.address, port: 1 });
      const other = sim.addHost();
      const id = randomId(sim.random);
      // Answers by port: 2 with error 204, 3 with a find_node-style response, 4 never.
      const sockets = await Promise.all(
        [2, 3, 4].map((port) => other.network.bindDatagram({ host: other.address, port })),
      );
      sockets.forEach((socket, i) => {
        socket.onMessage((data, from) => {
          const q = decodeMessage(data);
          if (i === 0)
            socket.send(
              encodeMessage({ y: 'e', t: q.t, e: { code: 204, message: 'Method Unknown' } }),
              from,
            );
          if (i === 1)
            socket.send(
              encodeMessage({ y: 'r', t: q.t, r: { id, nodes: new Uint8Array(0) } }),
              from,
            );
        });
      });
      const at = (port: number) => ({ host: other.address, port });
      await expect(dht.sampleInfohashes(at(2))).rejects.toMatchObject({
        code: 'REMOTE_ERROR',
        remoteCode: 204,
      });
      await expect(dht.sampleInfohashes(at(3))).rejects.toMatchObject({
        code: 'MALFORMED_MESSAGE',
      });
      const started = sim.now;
      await expect(dht.sampleInfohashes(at(4))).rejects.toMatchObject({ code: 'TIMEOUT' });
      expect(sim.now - started).toBe(1000);
      await dht.close();
      await Promise.all(sockets.map((s) => s.close()));
    });
    expect(sim.openResources()).toMatchObject({ datagramSockets: 0, timers: 0 });
  });
});

describe('an indexer sampling a node (BEP 51 scenario)', () => {
  it('collects all N announced info-hashes in ceil(N / sample size) samples, one per interval', async () => {
    const sim = new Simulation({ seed: 54 });
    await sim.run(
      async () => {
        const nodes = await buildTestnet(sim, 12, { ...fast, sampleIntervalSeconds: 120 });
        const [storer, announcer, indexer] = [nodes[0]!, nodes[5]!, nodes[9]!];
        const N = 250;
        const announced = new Set<string>();
        for (let i = 0; i < N; i++) {
          const infoHash = randomId(sim.random);
          const res = await announcer.queryNode(storer.address, 'get_peers', { infoHash });
          await announcer.queryNode(storer.address, 'announce_peer', {
            infoHash,
            port: 6000 + i,
            token: res.r.token!,
          });
          announced.add(toHex(infoHash));
        }
        const seen = new Set<string>();
        let queries = 0;
        let size = 0;
        for (let guard = 0; guard < 50 && seen.size < N; guard++) {
          const s = await indexer.sampleInfohashes(storer.address);
          queries++;
          expect(s.num).toBe(N);
          expect(s.interval).toBe(120);
          size = Math.max(size, s.samples.length);
          for (const h of s.samples) seen.add(toHex(h));
          // Asking again within the interval gives nothing new (the sample is kept).
          const again = await indexer.sampleInfohashes(storer.address);
          expect(again.samples.map(toHex)).toEqual(s.samples.map(toHex));
          await sleep(sim, s.interval * 1000);
        }
        expect(seen).toEqual(announced);
        expect(size).toBeGreaterThan(30);
        expect(queries).toBe(Math.ceil(N / size));
        await Promise.all(nodes.map((n) => n.close()));
      },
      { maxTimeMs: 60 * 60_000 },
    );
  });
});
