/**
 * Full ledger nodes in netsim: ledger-core's Chain, Mempool and Wallet behind the P2P node, on
 * simulated hosts, with virtual time for everything (block times included).
 */
import type { SimHost, Simulation } from '@peerkit/netsim';
import { Chain, unixTimeFrom } from '../../src/chain/chain';
import { hashToHex } from '../../src/hash';
import { Mempool } from '../../src/mempool/mempool';
import { createBlockTemplate, mineBlock } from '../../src/mining/miner';
import { LedgerNode } from '../../src/node';
import type { Block } from '../../src/primitives/block';
import { addressToScript } from '../../src/wallet/address';
import { Wallet } from '../../src/wallet/wallet';
import { PORT } from './sim-net';

/** Unix time of virtual time 0 in the simulations (2024-01-01). */
export const SIM_EPOCH_S = 1_704_067_200;

export interface FullNode {
  host: SimHost;
  node: LedgerNode;
  chain: Chain;
  mempool: Mempool;
  wallet: Wallet;
  address: string;
  /** Mines one block on this node's tip with its mempool, and relays it. */
  mine(): Promise<Block>;
}

export async function startFullNode(sim: Simulation): Promise<FullNode> {
  const host = sim.addHost();
  const network = host.network;
  const chain = await Chain.open({ now: unixTimeFrom(network.clock, SIM_EPOCH_S) });
  const mempool = new Mempool({ chain });
  const wallet = new Wallet({ random: network.random });
  const address = wallet.newAddress();
  const node = new LedgerNode({
    network,
    chain,
    mempool,
    epochMs: SIM_EPOCH_S * 1000,
    listen: { host: host.address, port: PORT },
    banLocal: true,
  });
  node.setHandlerErrorReporter(() => undefined);
  await node.start();
  let extraNonce = 0;
  return {
    host,
    node,
    chain,
    mempool,
    wallet,
    address,
    async mine() {
      const coinbaseScript = addressToScript(address);
      let block: Block | undefined;
      while (!block)
        block = mineBlock(
          createBlockTemplate({ chain, mempool, coinbaseScript, extraNonce: extraNonce++ }),
          100_000,
        );
      await node.submitBlock(block);
      return block;
    },
  };
}

/** Connects node i to `degree` random others (outbound), so the graph is connected w.h.p. */
export function wireRandomly(sim: Simulation, nodes: FullNode[], degree: number): void {
  nodes.forEach((n, i) => {
    // A ring edge keeps the graph connected; the rest are random.
    const targets = new Set<number>([(i + 1) % nodes.length]);
    while (targets.size < Math.min(degree, nodes.length - 1)) {
      const j = sim.random.int(nodes.length);
      if (j !== i) targets.add(j);
    }
    for (const j of targets)
      void n.node
        .connect({ host: (nodes[j] as FullNode).host.address, port: PORT })
        .catch(() => undefined);
  });
}

export function tips(nodes: FullNode[]): Set<string> {
  return new Set(nodes.map((n) => hashToHex(n.chain.tip.hash)));
}

export async function closeFull(nodes: FullNode[]): Promise<void> {
  for (const n of nodes) {
    await n.node.close();
    await n.chain.close();
  }
}
