/**
 * Ledger networks in netsim for the node tests and scenarios: each node on its own simulated
 * host, with the reference MemoryChain/MemoryMempool doubles unless told otherwise.
 */
import { replayHint, type SimHost, Simulation, seedFromEnv } from '@peerkit/netsim';
import { LedgerNode, type LedgerNodeOptions } from '../../src/node';
import type { NodeChain, NodeMempool } from '../../src/p2p/ports';
import { MemoryChain, MemoryMempool } from './memory-chain';

export const PORT = 18444;

export interface SimLedger {
  host: SimHost;
  node: LedgerNode;
  chain: NodeChain;
  mempool: NodeMempool;
}

export async function startSimNode(
  sim: Simulation,
  options: { chain?: NodeChain; mempool?: NodeMempool; node?: Partial<LedgerNodeOptions> } = {},
): Promise<SimLedger> {
  const host = sim.addHost();
  const chain = options.chain ?? new MemoryChain();
  const mempool = options.mempool ?? new MemoryMempool();
  const node = new LedgerNode({
    network: host.network,
    chain,
    mempool,
    listen: { host: host.address, port: PORT },
    banLocal: true,
    ...options.node,
  });
  node.setHandlerErrorReporter(() => undefined);
  await node.start();
  return { host, node, chain, mempool };
}

/** Runs `fn` in a fresh simulation, printing the seed and how to replay it on failure. */
export async function scenario(
  name: string,
  fallbackSeed: number,
  fn: (sim: Simulation) => Promise<void>,
): Promise<void> {
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

export async function closeAll(nodes: SimLedger[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.node.close()));
}
