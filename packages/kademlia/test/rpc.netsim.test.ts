/** The RPC layer and the query server, driven through raw datagrams in netsim. */
import { Simulation } from '@peerkit/netsim';
import { describe, expect, it } from 'vitest';
import {
  createMutableItem,
  DHT,
  decodeCompactNodes,
  decodeMessage,
  encodeMessage,
  generateKeyPair,
  type KrpcMessage,
  MAX_RESPONSE_BYTES,
  randomId,
} from '../src/index';
import { buildTestnet } from './helpers/testnet';

const latin1 = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));

describe('RPC layer', () => {
  it('retries a lost query, then times out with TIMEOUT after all attempts', async () => {
    const sim = new Simulation({ seed: 1 });
    await sim.run(async () => {
      const a = sim.addHost();
      const b = sim.addHost();
      const dht = new DHT({ network: a.network, rpc: { retries: 2, timeoutMs: 500 } });
      await dht.listen({ host: a.address, port: 1 });
      const silent = await b.network.bindDatagram({ host: b.address, port: 2 });
      let received = 0;
      silent.onMessage(() => received++);
      const start = sim.now;
      await expect(dht.queryNode(silent.localAddress, 'ping')).rejects.toMatchObject({
        code: 'TIMEOUT',
      });
      expect(received).toBe(3);
      expect(sim.now - start).toBe(1500);
      expect(dht.stats.timeouts).toBe(1);
      await dht.close();
      await silent.close();
    });
    expect(sim.openResources()).toMatchObject({ datagramSockets: 0, timers: 0 });
  });

  it('keeps at most maxInFlight queries outstanding (congestion window)', async () => {
    const sim = new Simulation({ seed: 2 });
    await sim.run(async () => {
      const a = sim.addHost();
      const b = sim.addHost();
      const dht = new DHT({ network: a.network, rpc: { maxInFlight: 4, retries: 0 } });
      await dht.listen({ host: a.address, port: 1 });
      const peer = await b.network.bindDatagram({ host: b.address, port: 2 });
      const seen: number[] = [];
      // Answers every query 100 ms later, recording how many were outstanding.
      let open = 0;
      peer.onMessage((data, from) => {
        open++;
        seen.push(open);
        const q = decodeMessage(data);
        sim.clock.setTimeout(() => {
          open--;
          peer.send(encodeMessage({ y: 'r', t: q.t, r: { id: new Uint8Array(20) } }), from);
        }, 100);
      });
      await Promise.all(Array.from({ length: 20 }, () => dht.queryNode(peer.localAddress, 'ping')));
      expect(Math.max(...seen)).toBe(4);
      expect(dht.stats.responsesReceived).toBe(20);
      await dht.close();
      await peer.close();
    });
  });

  it('counts and ignores malformed datagrams, answering a readable query with 203', async () => {
    const sim = new Simulation({ seed: 3 });
    await sim.run(async () => {
      const a = sim.addHost();
      const b = sim.addHost();
      const dht = new DHT({ network: a.network });
      await dht.listen({ host: a.address, port: 1 });
      const raw = await b.network.bindDatagram({ host: b.address, port: 2 });
      const replies: KrpcMessage[] = [];
      raw.onMessage((data) => replies.push(decodeMessage(data)));
      for (const junk of [
        '',
        'garbage',
        'd1:t2:aa1:y1:q1:q4:pinge',
        'li1ee',
        'd1:ad2:id3:abce1:q4:ping1:t2:xy1:y1:qe',
      ]) {
        raw.send(latin1(junk), dht.address);
      }
      raw.send(latin1('d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:zz1:y1:qe'), dht.address);
      raw.send(latin1('d1:ad2:id20:abcdefghij0123456789e1:q4:nope1:t2:zy1:y1:qe'), dht.address);
      await new Promise<void>((r) => sim.clock.setTimeout(r, 100));
      expect(dht.stats.malformed).toBe(5);
      const byT = new Map(replies.map((m) => [Buffer.from(m.t).toString(), m]));
      expect(byT.get('zz')).toMatchObject({ y: 'r', ip: { host: b.address, port: 2 } });
      expect(byT.get('zy')).toMatchObject({ y: 'e', e: { code: 204 } });
      expect(byT.get('xy')).toMatchObject({ y: 'e', e: { code: 203 } });
      expect(byT.get('aa')).toMatchObject({ y: 'e', e: { code: 203 } });
      await dht.close();
      await raw.close();
    });
  });

  it('rate-limits queries per address', async () => {
    const sim = new Simulation({ seed: 4 });
    await sim.run(async () => {
      const a = sim.addHost();
      const b = sim.addHost();
      const dht = new DHT({ network: a.network, rpc: { ratePerSecond: 10, rateBurst: 20 } });
      await dht.listen({ host: a.address, port: 1 });
      const raw = await b.network.bindDatagram({ host: b.address, port: 2 });
      let answers = 0;
      raw.onMessage(() => answers++);
      const ping = latin1('d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe');
      for (let i = 0; i < 100; i++) raw.send(ping, dht.address);
      await new Promise<void>((r) => sim.clock.setTimeout(r, 1000));
      for (let i = 0; i < 100; i++) raw.send(ping, dht.address);
      await new Promise<void>((r) => sim.clock.setTimeout(r, 100));
      expect(answers).toBe(30); // burst of 20, then 10 refilled in one second
      expect(dht.stats.rateLimited).toBe(170);
      await dht.close();
      await raw.close();
    });
  });
  it('allows rates above 1,000 queries per second exactly (no rounding per query)', async () => {
    const sim = new Simulation({ seed: 4 });
    await sim.run(async () => {
      const a = sim.addHost();
      const b = sim.addHost();
      const dht = new DHT({
        network: a.network,
        rpc: { ratePerSecond: 1_000_000, rateBurst: 1_000_000 },
      });
      await dht.listen({ host: a.address, port: 1 });
      const raw = await b.network.bindDatagram({ host: b.address, port: 2 });
      let answers = 0;
      raw.onMessage(() => answers++);
      const ping = latin1('d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe');
      // 3,000 queries in the same millisecond: far inside a burst of 1,000,000.
      for (let i = 0; i < 3_000; i++) raw.send(ping, dht.address);
      await new Promise<void>((r) => sim.clock.setTimeout(r, 100));
      expect(dht.stats.rateLimited).toBe(0);
      expect(answers).toBe(3_000);
      await dht.close();
      await raw.close();
    });
  });
});

describe('query server', () => {
  it('keeps responses within MAX_RESPONSE_BYTES and k nodes, even with a full store', async () => {
    const sim = new Simulation({ seed: 5 });
    await sim.run(async () => {
      const nodes = await buildTestnet(sim, 30);
      const [a, b] = [nodes[1]!, nodes[2]!];
      const infoHash = randomId(sim.random);
      for (let port = 1; port <= 150; port++) b.store.addPeer(infoHash, { host: '10.1.2.3', port });
      const res = await a.queryNode(b.address, 'get_peers', { infoHash });
      expect(res.r.values!.length).toBe(50);
      expect(encodeMessage(res).length).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
      const fn = await a.queryNode(b.address, 'find_node', {
        target: infoHash,
        want: ['n4', 'n6'],
      });
      expect(decodeCompactNodes(fn.r.nodes!, 4).length).toBe(8);
      expect(fn.r.nodes6).toEqual(new Uint8Array(0));
      await Promise.all(nodes.map((n) => n.close()));
    });
  });

  it('refuses announces with a bad token and BEP 44 puts that break the rules', async () => {
    const sim = new Simulation({ seed: 6 });
    await sim.run(async () => {
      const nodes = await buildTestnet(sim, 12);
      const [a, b] = [nodes[1]!, nodes[2]!];
      const infoHash = randomId(sim.random);
      await expect(
        a.queryNode(b.address, 'announce_peer', { infoHash, port: 1, token: new Uint8Array(8) }),
      ).rejects.toMatchObject({ code: 'REMOTE_ERROR', remoteCode: 203 });
      const keyPair = generateKeyPair();
      const item = createMutableItem({ keyPair, value: 'v2', seq: 2 });
      const { token } = (await a.queryNode(b.address, 'get', { target: infoHash })).r;
      const put = (extra: Record<string, unknown>) =>
        a.queryNode(b.address, 'put', {
          token: token!,
          v: item.v,
          k: item.k,
          sig: item.sig,
          seq: 2,
          ...extra,
        });
      await put({});
      await expect(put({ sig: new Uint8Array(64) })).rejects.toMatchObject({ remoteCode: 206 });
      await expect(put({ cas: 1 })).rejects.toMatchObject({ remoteCode: 301 });
      const old = createMutableItem({ keyPair, value: 'v1', seq: 1 });
      await expect(
        a.queryNode(b.address, 'put', { token: token!, v: old.v, k: old.k, sig: old.sig, seq: 1 }),
      ).rejects.toMatchObject({ remoteCode: 302 });
      await expect(put({ salt: new Uint8Array(65) })).rejects.toMatchObject({ remoteCode: 207 });
      await Promise.all(nodes.map((n) => n.close()));
    });
  });
});
