/**
 * Attacks on a DHT node over real UDP on loopback (docs/security.md, "DHT"). Each test first
 * plays the attack that issue #15 found, then shows the defence holding:
 *
 * - a full peer store (2,000 info-hashes) no longer answers a new announce with a success reply
 *   for a peer it did not keep: it answers KRPC error 202 and `DHT.announce` counts it as such;
 * - a sender that only queries (it never answers, e.g. a spoofed address) is never handed out
 *   in find_node / get_peers answers; a node that answers our ping is.
 */
import { type Address, type DatagramSocket, nodeNetwork } from '@peerkit/transport';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DHT,
  decodeCompactNodes,
  decodeMessage,
  encodeMessage,
  idEquals,
  type KrpcMessage,
  type KrpcResponse,
  randomId,
} from '../src/index';

const network = nodeNetwork();
const open: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

/** A raw KRPC socket: sends queries, collects replies by transaction id, answers nothing. */
async function rawSocket(): Promise<{
  socket: DatagramSocket;
  ask(to: Address, q: string, a: Record<string, unknown>): Promise<KrpcMessage>;
}> {
  const socket = await network.bindDatagram({ host: '127.0.0.1', port: 0 });
  open.push(socket);
  const waiting = new Map<string, (m: KrpcMessage) => void>();
  let tid = 0;
  socket.onMessage((data) => {
    try {
      const m = decodeMessage(data);
      if (m.y === 'q') return; // pings to us go unanswered: we never prove our address
      const key = Buffer.from(m.t).toString('hex');
      waiting.get(key)?.(m);
      waiting.delete(key);
    } catch {
      // not KRPC
    }
  });
  const ask = (to: Address, q: string, a: Record<string, unknown>) =>
    new Promise<KrpcMessage>((resolve, reject) => {
      const t = Buffer.alloc(4);
      t.writeUInt32BE(tid++);
      waiting.set(t.toString('hex'), resolve);
      setTimeout(() => reject(new Error(`no answer to ${q}`)), 5_000).unref();
      socket.send(
        encodeMessage({ y: 'q', t: new Uint8Array(t), q, a } as unknown as KrpcMessage),
        to,
      );
    });
  return { socket, ask };
}

async function startDht(options: ConstructorParameters<typeof DHT>[0] = { network }) {
  const dht = new DHT(options);
  open.push(dht);
  await dht.listen({ host: '127.0.0.1' });
  return dht;
}

describe('DHT attacks (real UDP on loopback)', () => {
  it('a full store (2,000 info-hashes) refuses a new announce out loud instead of dropping it', async () => {
    // The rate limit is not under test here: let one attacker socket fill the store quickly.
    const victim = await startDht({
      network,
      rpc: { ratePerSecond: 1_000_000, rateBurst: 1_000_000 },
    });
    const attacker = await rawSocket();
    const id = randomId(network.random);
    for (let i = 0; i < 2_000; i++) {
      const infoHash = randomId(network.random);
      const r = (await attacker.ask(victim.address, 'get_peers', { id, infoHash })) as KrpcResponse;
      const stored = await attacker.ask(victim.address, 'announce_peer', {
        id,
        infoHash,
        port: 1 + i,
        token: r.r.token,
      });
      expect(stored.y).toBe('r');
    }
    expect(victim.store.infoHashCount).toBe(2_000);
    // An honest node announces a new info-hash to the full node.
    const honest = await startDht();
    await honest.bootstrap([victim.address]);
    const infoHash = randomId(network.random);
    const { announced } = await honest.announce(infoHash, 7000);
    // The truth: nothing was stored, and the announcer was told so.
    expect(victim.store.getPeers(infoHash)).toEqual([]);
    expect(announced).toBe(0);
    expect(victim.stats.errorsSent).toBeGreaterThanOrEqual(1);
  });

  it('senders that only query are never handed out; nodes that answer our ping are', async () => {
    const victim = await startDht();
    // Query-only senders: each claims an id, queries, and never answers anything.
    const spoofed: Uint8Array[] = [];
    for (let i = 0; i < 20; i++) {
      const raw = await rawSocket();
      const id = randomId(network.random);
      spoofed.push(id);
      await raw.ask(victim.address, 'find_node', { id, target: randomId(network.random) });
      await raw.ask(victim.address, 'get_peers', { id, infoHash: randomId(network.random) });
    }
    // They are in the table (as BEP 5 allows) but only as unverified contacts.
    const inTable = spoofed.filter((id) => victim.table.get(id) !== undefined);
    expect(inTable.length).toBeGreaterThan(8);
    for (const id of inTable) expect(victim.table.get(id)?.lastResponse).toBeUndefined();
    // An honest node joins: it answers the victim's verification ping.
    const honest = await startDht();
    await honest.bootstrap([victim.address]);
    const asker = await rawSocket();
    const askerId = randomId(network.random);
    let honestSeen = false;
    // (The honest node may first wait in a full bucket's replacement cache until the victim's
    // pings of the silent contacts time out: BEP 5's rule. Bounded wait, no time asserted.)
    for (let i = 0; i < 400; i++) {
      const target = i % 2 === 0 ? randomId(network.random) : honest.id;
      const r = (await asker.ask(victim.address, 'find_node', {
        id: askerId,
        target,
      })) as KrpcResponse;
      const handed = decodeCompactNodes(r.r.nodes ?? new Uint8Array(), 4);
      for (const c of handed) {
        expect(spoofed.some((s) => idEquals(s, c.id))).toBe(false);
        if (idEquals(c.id, honest.id)) honestSeen = true;
      }
      if (honestSeen && i > 10) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(honestSeen).toBe(true);
  });
});
