/**
 * Whole-network scenarios in netsim with full nodes (ledger-core's Chain, Mempool, Wallet):
 * convergence with random miners, a partition healing to the most-work chain without losing a
 * valid transaction, a double spend that never confirms twice, and a peer relaying invalid
 * blocks being banned. Each prints its seed; replay with
 * `NETSIM_SEED=<seed> npx vitest run test/scenarios.netsim.test.ts`.
 */
import { describe, expect, test } from 'vitest';
import { hashToHex, toHex } from '../src/hash';
import { createBlockTemplate, mineBlock } from '../src/mining/miner';
import { COIN } from '../src/params';
import { merkleRoot } from '../src/primitives/block';
import { type Transaction, txid } from '../src/primitives/transaction';
import { addressToScript } from '../src/wallet/address';
import { closeFull, type FullNode, startFullNode, tips, wireRandomly } from './helpers/real-net';
import { PORT, scenario } from './helpers/sim-net';

async function startMany(sim: Parameters<typeof startFullNode>[0], n: number): Promise<FullNode[]> {
  const nodes: FullNode[] = [];
  for (let i = 0; i < n; i++) nodes.push(await startFullNode(sim));
  return nodes;
}

/** Every block of `n`'s active chain, as txid sets. */
async function confirmed(n: FullNode): Promise<Set<string>> {
  const out = new Set<string>();
  for (let h = 1; h <= n.chain.tip.height; h++) {
    const e = n.chain.entryAt(h);
    const block = e ? await n.chain.getBlock(e.hash) : undefined;
    for (const tx of block?.transactions ?? []) out.add(hashToHex(txid(tx)));
  }
  return out;
}

describe('ledger scenarios in netsim (full nodes)', () => {
  test('100 nodes with random miners converge on one tip', async () => {
    await scenario('converge', 3001, async (sim) => {
      sim.setDefaultLink({ latency: 30, jitter: 20 });
      const nodes = await startMany(sim, 100);
      wireRandomly(sim, nodes, 4);
      await sim.runFor(5_000);
      // 30 blocks from random miners, one every ~1.5 s: close calls make short forks.
      for (let i = 0; i < 30; i++) {
        await (nodes[sim.random.int(nodes.length)] as FullNode).mine();
        await sim.runFor(500 + sim.random.int(2000));
      }
      // A last block settles ties between equal-work branches.
      await (nodes[sim.random.int(nodes.length)] as FullNode).mine();
      const converged = await sim.runUntil(() => tips(nodes).size === 1, { maxTimeMs: 120_000 });
      const heights = new Set(nodes.map((n) => n.chain.tip.height));
      expect(converged, `tips: ${[...tips(nodes)].length}, heights ${[...heights]}`).toBe(true);
      expect(nodes[0]?.chain.tip.height).toBeGreaterThanOrEqual(25);
      await closeFull(nodes);
    });
  }, 300_000);

  test('a partition mines two chains and heals to the most-work one, losing no valid transaction', async () => {
    await scenario('partition', 3002, async (sim) => {
      const nodes = await startMany(sim, 12);
      wireRandomly(sim, nodes, 3);
      await sim.runFor(3_000);
      const funder = nodes[0] as FullNode;
      for (let i = 0; i < 101; i++) await funder.mine();
      expect(
        await sim.runUntil(
          () => tips(nodes).size === 1 && nodes.every((n) => n.chain.tip.height === 101),
          { maxTimeMs: 120_000 },
        ),
      ).toBe(true);
      // Split into two halves.
      const left = nodes.slice(0, 6);
      const right = nodes.slice(6);
      sim.partition([left.map((n) => n.host), right.map((n) => n.host)]);
      await sim.runFor(2_000);
      // Payments made on each side (all valid, none conflicting), then mined on each side.
      const payments: Transaction[] = [];
      const pay = async (from: FullNode, to: FullNode) => {
        const tx = from.wallet.createPayment({
          chain: from.chain,
          mempool: from.mempool,
          to: to.address,
          amount: COIN,
        });
        await from.node.submitTransaction(tx);
        payments.push(tx);
      };
      await pay(funder, left[1] as FullNode);
      await sim.runFor(2_000);
      await (left[2] as FullNode).mine();
      await sim.runFor(2_000);
      await pay(funder, left[3] as FullNode);
      await sim.runFor(2_000);
      for (let i = 0; i < 3; i++) {
        await (right[i] as FullNode).mine();
        await sim.runFor(1_000);
      }
      expect(tips(left).size).toBe(1);
      expect(tips(right).size).toBe(1);
      const rightTip = hashToHex((right[0] as FullNode).chain.tip.hash);
      // Heal: everyone moves to the right's longer chain; the left's block is disconnected and
      // its payment goes back to the mempools.
      sim.heal();
      for (const n of left)
        void n.node
          .connect({ host: (right[0] as FullNode).host.address, port: PORT })
          .catch(() => undefined);
      const healed = await sim.runUntil(
        () => tips(nodes).size === 1 && hashToHex(funder.chain.tip.hash) === rightTip,
        { maxTimeMs: 120_000 },
      );
      expect(healed).toBe(true);
      await sim.runFor(3_000);
      await (right[0] as FullNode).mine();
      expect(
        await sim.runUntil(() => tips(nodes).size === 1 && funder.chain.tip.height === 105, {
          maxTimeMs: 60_000,
        }),
      ).toBe(true);
      const onChain = await confirmed(right[0] as FullNode);
      for (const tx of payments)
        expect(onChain.has(hashToHex(txid(tx))), `payment ${hashToHex(txid(tx))} lost`).toBe(true);
      await closeFull(nodes);
    });
  }, 300_000);

  test('a double spend never confirms twice', async () => {
    await scenario('double-spend', 3003, async (sim) => {
      const nodes = await startMany(sim, 8);
      wireRandomly(sim, nodes, 3);
      await sim.runFor(3_000);
      const spender = nodes[0] as FullNode;
      for (let i = 0; i < 101; i++) await spender.mine();
      expect(
        await sim.runUntil(() => nodes.every((n) => n.chain.tip.height === 101), {
          maxTimeMs: 120_000,
        }),
      ).toBe(true);
      // Two payments of the same coin to different payees.
      const a = spender.wallet.createPayment({
        chain: spender.chain,
        to: (nodes[1] as FullNode).address,
        amount: 10n * COIN,
      });
      const b = spender.wallet.createPayment({
        chain: spender.chain,
        to: (nodes[5] as FullNode).address,
        amount: 20n * COIN,
      });
      const outpoint = (tx: Transaction) =>
        tx.inputs.map((i) => `${toHex(i.prevout.txid)}:${i.prevout.index}`);
      expect(outpoint(a).some((o) => outpoint(b).includes(o))).toBe(true);
      // Each half sees one of them first and mines it.
      const left = nodes.slice(0, 4);
      const right = nodes.slice(4);
      sim.partition([left.map((n) => n.host), right.map((n) => n.host)]);
      await sim.runFor(1_000);
      await spender.node.submitTransaction(a);
      await (right[0] as FullNode).node.submitTransaction(b);
      await sim.runFor(2_000);
      // The conflicting spend is refused by a mempool that holds the first.
      await expect((left[1] as FullNode).node.submitTransaction(b)).rejects.toThrow();
      await (left[1] as FullNode).mine();
      await (right[1] as FullNode).mine();
      await sim.runFor(2_000);
      await (right[2] as FullNode).mine();
      sim.heal();
      for (const n of left)
        void n.node
          .connect({ host: (right[0] as FullNode).host.address, port: PORT })
          .catch(() => undefined);
      expect(
        await sim.runUntil(() => tips(nodes).size === 1 && spender.chain.tip.height === 103, {
          maxTimeMs: 120_000,
        }),
      ).toBe(true);
      const onChain = await confirmed(spender);
      const both = [a, b].filter((tx) => onChain.has(hashToHex(txid(tx))));
      expect(both.map((tx) => hashToHex(txid(tx)))).toEqual([hashToHex(txid(b))]);
      // The loser is gone from every mempool (it conflicts with the chain).
      for (const n of nodes) expect(n.mempool.has(txid(a))).toBe(false);
      await closeFull(nodes);
    });
  }, 300_000);

  test("a peer relaying invalid blocks is banned, and its block is never anyone's tip", async () => {
    await scenario('invalid-relay', 3004, async (sim) => {
      const nodes = await startMany(sim, 6);
      wireRandomly(sim, nodes, 2);
      await sim.runFor(3_000);
      for (let i = 0; i < 3; i++) {
        await (nodes[i] as FullNode).mine();
        await sim.runFor(2_000);
      }
      expect(
        await sim.runUntil(() => nodes.every((n) => n.chain.tip.height === 3), {
          maxTimeMs: 60_000,
        }),
      ).toBe(true);
      const evil = nodes[5] as FullNode;
      const banned: string[] = [];
      for (const n of nodes) n.node.on('banned', (e) => banned.push(e.host));
      // A block whose coinbase pays more than the subsidy: valid header, invalid block.
      const template = createBlockTemplate({
        chain: evil.chain,
        coinbaseScript: addressToScript(evil.address),
      });
      const coinbase = template.block.transactions[0] as Transaction;
      (coinbase.outputs[0] as { value: bigint }).value += COIN;
      template.block.header.merkleRoot = merkleRoot(template.block.transactions.map(txid)).root;
      const bad = mineBlock(template);
      if (!bad) throw new Error('no block');
      for (const peer of evil.node.readyPeers())
        peer.send({ command: 'block', block: bad, witness: true });
      await sim.runUntil(
        () => banned.length >= evil.node.readyPeers().length && banned.length > 0,
        { maxTimeMs: 30_000 },
      );
      expect(banned.length).toBeGreaterThan(0);
      expect(new Set(banned)).toEqual(new Set([evil.host.address]));
      const honest = nodes.slice(0, 5);
      expect(honest.map((n) => n.chain.tip.height)).toEqual([3, 3, 3, 3, 3]);
      // The network goes on without it.
      await (nodes[0] as FullNode).mine();
      expect(
        await sim.runUntil(() => honest.every((n) => n.chain.tip.height === 4), {
          maxTimeMs: 60_000,
        }),
      ).toBe(true);
      expect(tips(honest).size).toBe(1);
      await closeFull(nodes);
    });
  }, 300_000);
});
