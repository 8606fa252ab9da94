/**
 * The node's P2P behaviour in netsim with the reference chain doubles (test/helpers/memory-chain.ts):
 * headers-first sync from several peers, relay, stalls, bans. Each test prints its seed; replay
 * with `NETSIM_SEED=<seed> npx vitest run test/node.netsim.test.ts`.
 */
import { describe, expect, test } from 'vitest';
import { BtcProbe } from '../src/conformance/probe';
import { toHex } from '../src/hash';
import { REGTEST } from '../src/params';
import type { Block } from '../src/primitives/block';
import { type Transaction, txid } from '../src/primitives/transaction';
import { MemoryChain, mineBlock } from './helpers/memory-chain';
import { closeAll, PORT, scenario, startSimNode } from './helpers/sim-net';

async function extend(
  chain: MemoryChain,
  n: number,
  tag: number,
  txs: Transaction[] = [],
): Promise<Block[]> {
  const out: Block[] = [];
  for (let i = 0; i < n; i++) {
    const b = mineBlock(chain.tip, i === 0 ? txs : [], tag * 100_000 + i);
    await chain.acceptBlock(b);
    out.push(b);
  }
  return out;
}

function spend(prev: Uint8Array, index: number, tag: number): Transaction {
  return {
    version: 2,
    inputs: [
      {
        prevout: { txid: prev, index },
        scriptSig: Uint8Array.from([1, tag & 0xff]),
        sequence: 0xffffffff,
        witness: [],
      },
    ],
    outputs: [{ value: 1000n, scriptPubKey: Uint8Array.from([0x51]) }],
    lockTime: 0,
  };
}

describe('ledger node in netsim', () => {
  test('headers-first sync of 2,500 blocks from two peers reaches the same tip', async () => {
    await scenario('sync', 2001, async (sim) => {
      const source = new MemoryChain();
      await extend(source, 2500, 1);
      const copy = new MemoryChain();
      for (let h = 1; h <= 2500; h++) await copy.acceptBlock(source.blockAt(h) as Block);
      const a = await startSimNode(sim, { chain: source });
      const b = await startSimNode(sim, { chain: copy });
      const c = await startSimNode(sim);
      void c.node.connect({ host: a.host.address, port: PORT });
      void c.node.connect({ host: b.host.address, port: PORT });
      const done = await sim.runUntil(() => c.chain.tip.height === 2500, { maxTimeMs: 600_000 });
      expect(done).toBe(true);
      expect(toHex(c.chain.tip.hash)).toBe(toHex(source.tip.hash));
      // Both peers served blocks (parallel download).
      const served = c.node.peerSummaries().map((p) => p.bytesReceived);
      expect(served.every((n) => n > 100_000)).toBe(true);
      await closeAll([a, b, c]);
    });
  }, 120_000);

  test('new blocks and transactions relay across a line of three nodes', async () => {
    await scenario('relay', 2002, async (sim) => {
      const a = await startSimNode(sim);
      const b = await startSimNode(sim);
      const c = await startSimNode(sim);
      void b.node.connect({ host: a.host.address, port: PORT });
      void c.node.connect({ host: b.host.address, port: PORT });
      await sim.runUntil(() => b.node.readyPeers().length === 2, { maxTimeMs: 10_000 });
      const blocks = await extend(a.chain as MemoryChain, 3, 2);
      // Announce as a local miner does.
      await (a.chain as MemoryChain).acceptBlock(blocks[2] as Block);
      a.node.relay.announceBlocks(blocks);
      await sim.runUntil(() => c.chain.tip.height === 3, { maxTimeMs: 30_000 });
      expect(toHex(c.chain.tip.hash)).toBe(toHex(a.chain.tip.hash));
      const coinbase = (blocks[0] as Block).transactions[0] as Transaction;
      const tx = spend(txid(coinbase), 0, 1);
      await c.node.submitTransaction(tx);
      await sim.runUntil(() => a.mempool.has(txid(tx)), { maxTimeMs: 30_000 });
      expect(a.mempool.has(txid(tx))).toBe(true);
      // A block carrying it, mined at a, empties every mempool.
      const [mined] = await extend(a.chain as MemoryChain, 1, 3, [tx]);
      a.mempool.blockConnected(mined as Block);
      a.node.relay.announceBlocks([mined as Block]);
      await sim.runUntil(() => c.chain.tip.height === 4, { maxTimeMs: 30_000 });
      expect(c.mempool.has(txid(tx))).toBe(false);
      await closeAll([a, b, c]);
    });
  }, 60_000);

  test('a peer relaying an invalid block is banned and cannot reconnect', async () => {
    await scenario('ban', 2003, async (sim) => {
      const honest = await startSimNode(sim);
      const evil = await startSimNode(sim);
      void evil.node.connect({ host: honest.host.address, port: PORT });
      await sim.runUntil(() => honest.node.readyPeers().length === 1, { maxTimeMs: 10_000 });
      const bad = mineBlock(honest.chain.tip, [], 99, { badMerkle: true });
      const banned: string[] = [];
      honest.node.on('banned', (e) => banned.push(e.host));
      (evil.node.readyPeers()[0] as NonNullable<ReturnType<typeof evil.node.readyPeers>[0]>).send({
        command: 'block',
        block: bad,
        witness: false,
      });
      await sim.runUntil(() => banned.length > 0, { maxTimeMs: 10_000 });
      expect(banned).toEqual([evil.host.address]);
      expect(honest.chain.tip.height).toBe(0);
      await sim.runFor(1000);
      expect(honest.node.readyPeers().length).toBe(0);
      const again = evil.node.connect({ host: honest.host.address, port: PORT });
      again.catch(() => undefined);
      let failed = false;
      again.then(
        () => undefined,
        () => {
          failed = true;
        },
      );
      await sim.runUntil(() => failed, { maxTimeMs: 10_000 });
      expect(failed).toBe(true);
      await closeAll([honest, evil]);
    });
  }, 60_000);

  test('a throwing event handler neither crashes the node nor stops the other handlers', async () => {
    await scenario('handlers', 2004, async (sim) => {
      const a = await startSimNode(sim);
      const b = await startSimNode(sim);
      const errors: string[] = [];
      b.node.setHandlerErrorReporter((_e, event) => errors.push(event));
      const seen: number[] = [];
      b.node.on('tip', () => {
        throw new Error('handler bug');
      });
      b.node.on('tip', (e) => seen.push(e.height));
      void b.node.connect({ host: a.host.address, port: PORT });
      await sim.runUntil(() => b.node.readyPeers().length === 1, { maxTimeMs: 10_000 });
      const blocks = await extend(a.chain as MemoryChain, 3, 4);
      a.node.relay.announceBlocks(blocks);
      expect(await sim.runUntil(() => b.chain.tip.height === 3, { maxTimeMs: 30_000 })).toBe(true);
      expect(seen.at(-1)).toBe(3);
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.every((e) => e === 'tip')).toBe(true);
      await closeAll([a, b]);
    });
  }, 60_000);

  test('a peer that announces blocks but never serves them is dropped as stalling; sync completes', async () => {
    await scenario('stall', 2005, async (sim) => {
      const source = new MemoryChain();
      await extend(source, 1500, 6);
      const honest = await startSimNode(sim, { chain: source });
      const target = await startSimNode(sim);
      const reasons: string[] = [];
      target.node.on('peer', (e) => {
        if (!e.connected && e.reason) reasons.push(e.reason);
      });
      // The staller: a raw peer that answers getheaders with the whole chain and ignores getdata.
      const stallHost = sim.addHost();
      const probePromise = BtcProbe.open(
        stallHost.network,
        { host: target.host.address, port: PORT },
        REGTEST.magic,
        5_000,
      );
      await sim.runUntil(() => false, { maxTimeMs: 100 });
      const probe = await probePromise;
      const hs = probe.handshake(5_000, { startHeight: 1500 });
      await sim.runUntil(() => probe.received.some((m) => m.command === 'getheaders'), {
        maxTimeMs: 10_000,
      });
      await hs;
      probe.send({
        command: 'headers',
        headers: source.headersAfter([REGTEST.genesisHash], new Uint8Array(32), 2000),
      });
      await sim.runFor(500);
      // Only now the honest peer arrives: the staller already holds the first blocks.
      void target.node.connect({ host: honest.host.address, port: PORT });
      const done = await sim.runUntil(() => target.chain.tip.height === 1500, {
        maxTimeMs: 600_000,
      });
      expect(done).toBe(true);
      expect(reasons).toContain('stalling the block download');
      expect(probe.closed).toBe(true);
      probe.close();
      await closeAll([honest, target]);
    });
  }, 120_000);

  test('inbound connections beyond maxInbound are refused', async () => {
    await scenario('limits', 2006, async (sim) => {
      const hub = await startSimNode(sim, { node: { maxInbound: 2 } });
      const others = [await startSimNode(sim), await startSimNode(sim), await startSimNode(sim)];
      const results: string[] = [];
      for (const o of others) {
        o.node.connect({ host: hub.host.address, port: PORT }).then(
          () => results.push('ok'),
          () => results.push('refused'),
        );
        await sim.runFor(1_000);
      }
      await sim.runUntil(() => results.length === 3, { maxTimeMs: 30_000 });
      expect(results.sort()).toEqual(['ok', 'ok', 'refused']);
      expect(hub.node.readyPeers().length).toBe(2);
      await closeAll([hub, ...others]);
    });
  }, 60_000);
});
